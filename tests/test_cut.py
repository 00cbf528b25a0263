"""`clipkit cut` on real media: probe the produced video, decode its frames, read back its SRT."""

from __future__ import annotations

import json
import logging
import re
import shlex
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import srt

from clipkit.media import probe
from clipkit.timecode import format_clock

from .conftest import SAMPLE, invoke, measure_loudness

pytestmark = pytest.mark.media

FPS = 25
END = format_clock(probe(SAMPLE).duration_ms)  # the sample's length as messages show it
SUBS = """1
00:00:13,000 --> 00:00:15,000
First subtitle line

2
00:00:17,000 --> 00:00:19,500
Second one, it's here
"""


def frame_at(path: Path, seconds: float) -> np.ndarray:
    """The frame shown at `seconds` (the last frame whose time is <= seconds), as RGB."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(max(seconds - 2, 0) / stream.time_base), stream=stream, backward=True)
        shown = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > seconds + 1e-6:
                break
            shown = frame
        assert shown is not None
        return shown.to_ndarray(format="rgb24").astype(np.int16)


def source_frame(index: int) -> np.ndarray:
    return frame_at(SAMPLE, index / FPS)


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def changed(a: np.ndarray, b: np.ndarray) -> float:
    """Share of pixels that differ clearly (text drawn on one, not the other)."""
    return float((np.abs(a - b).max(axis=2) > 48).mean())


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory, module_ffmpeg: str) -> Path:
    """Every test of this module runs with the bundled ffmpeg and with the system one."""
    d = tmp_path_factory.mktemp("cut")
    shutil.copy(SAMPLE, d / "talk.mp4")
    (d / "talk.srt").write_text(SUBS, encoding="utf-8")
    return d


def cut_talk(work: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    """The extract most tests look at: 12.36 s to 20.2 s of the talk, titled "Burnt"."""
    args = ["cut", str(work / "talk.mp4"), "--start", "12.36", "--end", "20.2", "--title", "Burnt"]
    return invoke(*args, "-o", str(out), "-q", *extra)


@pytest.fixture(scope="module")
def burnt(work: Path) -> Path:
    out = work / "burnt"
    result = cut_talk(work, out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def plain(work: Path) -> Path:
    out = work / "plain"
    result = cut_talk(work, out, "--no-burn", "--fade", "0")
    assert result.exit_code == 0, result.output
    return out


def test_first_frame_is_the_requested_frame(plain: Path) -> None:
    first = frame_at(plain / "burnt.mp4", 0.0)
    start = round(12.36 * FPS)  # frame 309
    distances = {
        i: diff(first, source_frame(i)) for i in (start - 2, start - 1, start, start + 1, start + 2)
    }
    assert min(distances, key=distances.get) == start, distances


def test_duration_sync_and_format(plain: Path) -> None:
    path = plain / "burnt.mp4"
    info = probe(path)
    assert (info.video_codec, info.audio_codec, info.sample_rate) == ("h264", "aac", 48000)
    with av.open(str(path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        v_dur = v.frames / FPS
        assert abs(v_dur - (20.2 - 12.36)) <= 1 / FPS + 1e-6
        v_start = float(v.start_time * v.time_base)
        a_start = float(a.start_time * a.time_base)
        assert abs(v_start - a_start) <= 1 / FPS
    head = path.read_bytes()[:65536]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(
        head.find(b"mdat"), 1 << 30
    )  # +faststart


def test_retimed_subtitles_and_sidecar(burnt: Path) -> None:
    cues = list(srt.parse((burnt / "burnt.srt").read_text(encoding="utf-8")))
    assert [c.content for c in cues] == ["First subtitle line", "Second one, it's here"]
    assert cues[0].start.total_seconds() == pytest.approx(13.0 - 12.36)
    assert cues[1].end.total_seconds() == pytest.approx(19.5 - 12.36)
    assert (
        (burnt / "burnt.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n\n00:00:00.640 --> ")
    )
    side = json.loads((burnt / "burnt.json").read_text(encoding="utf-8"))
    assert side["title"] == "Burnt" and side["start"] == 12.36 and side["end"] == 20.2
    assert (
        side["video"] == "burnt.mp4"
        and side["subtitles"]["srt"] == "burnt.srt"
        and side["burnt_in"]
    )
    import hashlib

    assert side["sha256"] == hashlib.sha256((burnt / "burnt.mp4").read_bytes()).hexdigest()


def test_burnt_subtitle_visible_during_cue_and_absent_between(burnt: Path, plain: Path) -> None:
    def subtitle_area(path: Path, t: float) -> np.ndarray:
        return frame_at(path, t)[270:350, 40:600]

    during = 14.0 - 12.36  # mid first cue
    between = 16.0 - 12.36  # between the cues
    burnt_mp4, plain_mp4 = burnt / "burnt.mp4", plain / "burnt.mp4"
    assert changed(subtitle_area(burnt_mp4, during), subtitle_area(plain_mp4, during)) > 0.02
    assert changed(subtitle_area(burnt_mp4, between), subtitle_area(plain_mp4, between)) < 0.001


def test_loudness_normalised(burnt: Path) -> None:
    measured = measure_loudness(burnt / "burnt.mp4")
    assert measured is not None
    assert abs(measured.integrated - -14.0) <= 1.0
    assert measured.true_peak <= -1.5
    side = json.loads((burnt / "burnt.json").read_text(encoding="utf-8"))
    assert side["loudness"]["integrated_lufs"] == pytest.approx(measured.integrated, abs=0.5)


def test_rerun_skips_then_plan_change_rebuilds_only_that_extract(work: Path) -> None:
    plan = work / "plan.csv"
    plan.write_text(
        "source,start,end,title,description,tags\n"
        "talk.mp4,1.5,4,Opening,The welcome,intro\n"
        'talk.mp4,00:00:07:22,00:00:11.6,"Leeds, growing up",Where Tom grew up,"leeds;family"\n',
        encoding="utf-8",
    )
    out = work / "planned"
    first = invoke("cut", "--plan", str(plan), "-o", str(out))
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.iterdir()) == [
        f"{s}.{e}" for s in ("leeds-growing-up", "opening") for e in ("json", "mp4", "srt", "vtt")
    ]
    side = json.loads((out / "leeds-growing-up.json").read_text(encoding="utf-8"))
    assert side["start"] == pytest.approx(7 + 22 / 25) and side["tags"] == ["leeds", "family"]
    assert side["description"] == "Where Tom grew up" and side["plan_row"] == "../plan.csv:3"
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    again = invoke("cut", "--plan", str(plan), "-o", str(out))
    assert again.exit_code == 0
    assert (
        again.stderr.count("up to date, skipped") == 2
        and "Cut 0 of 2 extract(s), 2 up to date" in again.stderr
    )
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps

    # a new description: the sidecar is rewritten, the video is not encoded again
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("The welcome", "A warm welcome"), encoding="utf-8"
    )
    third = invoke("cut", "--plan", str(plan), "-o", str(out))
    assert "Cut 0 of 2 extract(s), 1 with new metadata only, 1 up to date" in third.stderr
    assert "cutting" not in third.stderr
    assert json.loads((out / "opening.json").read_text())["description"] == "A warm welcome"
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix != ".json"} == {
        n: t for n, t in stamps.items() if not n.endswith(".json")
    }

    # a new out point: that extract alone is made again
    plan.write_text(plan.read_text(encoding="utf-8").replace(",1.5,4,", ",1.5,4.5,"))
    fourth = invoke("cut", "--plan", str(plan), "-o", str(out))
    assert "Cut 1 of 2 extract(s), 1 up to date" in fourth.stderr
    assert (out / "opening.mp4").stat().st_mtime_ns > stamps["opening.mp4"]
    assert (out / "leeds-growing-up.mp4").stat().st_mtime_ns == stamps["leeds-growing-up.mp4"]


def test_toml_plan_and_vertical_variant(work: Path) -> None:
    plan = work / "plan.toml"
    plan.write_text(
        '[[extract]]\nsource = "talk.mp4"\nstart = "0:12.3"\nend = "0:21"\ntitle = "Centre"\ntags = ["a", "b"]\n',
        encoding="utf-8",
    )
    out = work / "vertical"
    result = invoke("cut", "--plan", str(plan), "-o", str(out), "--aspect", "9:16", "-q")
    assert result.exit_code == 0, result.output
    info = probe(out / "centre-vertical.mp4")
    assert (info.width, info.height) == (720, 1280)
    cues = list(srt.parse((out / "centre-vertical.srt").read_text(encoding="utf-8")))
    assert cues and all(len(line) <= 25 for c in cues for line in c.content.splitlines())


HOSTILE_DIR = "it's: a [test], 100% ünïcødé; ok"
HOSTILE_NAME = "Tom's story: part 1, (draft) [v2] 50%.mp4"


def test_hostile_paths_and_titles_end_to_end(tmp_path: Path) -> None:
    folder = tmp_path / HOSTILE_DIR
    folder.mkdir()
    video = folder / HOSTILE_NAME
    shutil.copy(SAMPLE, video)
    subs = folder / "subs: Tom's [final], 100%.srt"
    subs.write_text(SUBS, encoding="utf-8")
    plan = folder / "plan's: list.csv"
    plan.write_text(
        "source,start,end,title,subs\n"
        f'"{HOSTILE_NAME}",12.36,16,"Tom\'s story: the ""centre"", [part 1] 100% — Łódź","{subs.name}"\n',
        encoding="utf-8",
    )
    out = folder / "out: here"
    result = invoke("cut", "--plan", str(plan), "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    (mp4,) = out.glob("*.mp4")
    assert mp4.name == "toms-story-the-centre-part-1-100-łódź.mp4"
    side = json.loads(mp4.with_suffix(".json").read_text(encoding="utf-8"))
    assert side["title"] == 'Tom\'s story: the "centre", [part 1] 100% — Łódź'
    # the subtitle really was burnt in, through the hostile path of its ASS file and font dir
    plain = tmp_path / "plain"
    invoke(
        "cut", str(video), "--start", "12.36", "--end", "16", "-o", str(plain), "--no-burn", "-q"
    )
    (plain_mp4,) = plain.glob("*.mp4")
    area = np.s_[270:350, 40:600]
    assert changed(frame_at(mp4, 1.64)[area], frame_at(plain_mp4, 1.64)[area]) > 0.02


def test_dry_run_prints_exactly_the_commands_cut_runs(
    work: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = work / "dry"
    args = ["cut", str(work / "talk.mp4"), "--start", "12.5", "--end", "16", "-o", str(out)]
    result = invoke(*args, "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        'command line: talk-0-12-500: talk.mp4 0:12.500 -> 0:16.000 (3.500 s) "talk 0:12.500"'
    )
    assert not out.exists()
    printed = [shlex.split(ln) for ln in lines if ln.startswith("  /")]
    # the loudness passes (ebur128, audio only), then the one encode with the burn-in
    assert all("ebur128=framelog=verbose" in " ".join(c) for c in printed[:-1])
    assert not any("loudnorm" in " ".join(c) for c in printed)
    encode = " ".join(printed[-1])
    assert "-ss 12.500 -t 3.500 -i" in encode and "subtitles=filename=" in encode

    caplog.set_level(logging.DEBUG, logger="clipkit.ffmpeg")
    assert invoke(*args, "-q").exit_code == 0
    ran = [
        shlex.split(r.getMessage().removeprefix("ffmpeg: "))
        for r in caplog.records
        if r.getMessage().startswith("ffmpeg: ")
    ]

    def same(cmd: list[str]) -> list[str]:  # the temp names differ run to run
        cmd = [a for a in cmd if a not in ("-progress", "pipe:1", "-nostats")]
        cmd = [re.sub(r"filename=[^:]*?clipkit-[^:]*?\.ass", "filename=ASS", a) for a in cmd]
        return [
            re.sub(r"/\.talk-0-12-500\.[^/]*\.part\.mp4$", "/talk-0-12-500.mp4", a) for a in cmd
        ]

    assert [same(c) for c in ran] == [same(c) for c in printed]


# --- bad input ------------------------------------------------------------------------------


def plan_errors(
    work: Path, body: str, header: str = "source,start,end,title"
) -> tuple[int, list[str], Path]:
    plan = work / "bad.csv"
    plan.write_text(f"{header}\n{body}", encoding="utf-8")
    out = work / "bad-out"
    result = invoke("cut", "--plan", str(plan), "-o", str(out))
    return result.exit_code, result.stderr.splitlines(), out


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("talk.mp4,10,5,Backwards\n", "start 10 is not before end 5"),
        ("talk.mp4,2:00,2:10,Too late\n", f"start 2:00 is beyond the end of talk.mp4 ({END})"),
        ("talk.mp4,-5,10,Negative\n", "negative time '-5'"),
        ("talk.mp4,1:00,1:20,Past end\n", f"end 1:20 is past the end of talk.mp4 ({END})"),
        ("missing.mp4,1,5,Gone\n", "source 'missing.mp4' not found"),
        (
            "talk.mp4,1,x5,Typo\n",
            "invalid timecode 'x5' (use SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF)",
        ),
    ],
)
def test_bad_rows(work: Path, body: str, message: str) -> None:
    code, err, out = plan_errors(work, body)
    assert (code, err) == (1, [f"Error: {work / 'bad.csv'}:2: {message}"])
    assert not out.exists()


def test_every_problem_reported_with_its_row_and_good_rows_still_cut(work: Path) -> None:
    body = "talk.mp4,10,5,A\ntalk.mp4,1,3,Same\ntalk.mp4,4,6,Same\n"
    code, err, out = plan_errors(work, body)
    assert code == 1
    assert err[-2:] == [
        f"Error: {work / 'bad.csv'}:2: start 10 is not before end 5",
        f"Error: {work / 'bad.csv'}:4: slug 'same' is already used by {work / 'bad.csv'}:3",
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "same.json",
        "same.mp4",
        "same.srt",
        "same.vtt",
    ]
    # --strict: one bad row stops the whole cut, before anything is encoded
    strict = work / "strict-out"
    result = invoke("cut", "--plan", str(work / "bad.csv"), "-o", str(strict), "--strict")
    assert result.exit_code == 1 and not strict.exists()
    assert result.stderr.splitlines() == err[-2:]


def test_unknown_column(work: Path) -> None:
    code, err, _ = plan_errors(work, "talk.mp4,1,3,A,x\n", header="source,start,end,title,colour")
    assert code == 1
    assert err == [
        f"Error: {work / 'bad.csv'}:1: unknown column(s) colour (known: source, start, end, title, "
        "description, tags, slug, subs, style, pad, origin)"
    ]


def test_end_within_a_second_past_the_end_is_clamped(work: Path) -> None:
    out = work / "clamped"
    result = invoke(
        "cut",
        str(work / "talk.mp4"),
        "--start",
        "1:10",
        "--end",
        "1:13.5",
        "-o",
        str(out),
        "--no-burn",
    )
    assert result.exit_code == 0, result.output
    assert (
        f"Warning: command line: end 1:13.5 clamped to the end of the recording ({END})"
        in result.stderr
    )
    side = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert side["end"] == pytest.approx(probe(SAMPLE).duration_ms / 1000)


def test_subtitles_of_another_recording(work: Path) -> None:
    other = work / "other.srt"
    other.write_text("1\n00:30:00,000 --> 00:30:02,000\nfrom a long recording\n", encoding="utf-8")
    result = invoke(
        "cut",
        str(work / "talk.mp4"),
        "--start",
        "1",
        "--end",
        "3",
        "--subs",
        str(other),
        "-o",
        str(work / "x"),
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: command line: subtitles other.srt run to 30:02.000, past the end of talk.mp4 ({END}): "
        "not this recording's subtitles?\n"
    )
    assert not (work / "x").exists()


def test_interrupt_leaves_no_partial_video(work: Path) -> None:
    import signal

    from .test_faults import start_long_cut, wait_gone

    out = work / "interrupted"
    proc, ffmpegs = start_long_cut(out)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert (
        stderr.decode()
        .strip()
        .endswith("Error: interrupted; finished outputs are kept, partial ones removed")
    )
    assert wait_gone(ffmpegs) == []
    assert list(out.iterdir()) == []


NO_FONTS = (
    '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig></fontconfig>\n'
)


def test_burns_in_with_no_system_fonts(
    work: Path, plain: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without fonts: libass would render nothing and exit 0; the bundled font is used."""
    config = tmp_path / "fonts.conf"
    config.write_text(NO_FONTS)
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    out = tmp_path / "nofonts"
    result = cut_talk(work, out)
    assert result.exit_code == 0, result.output
    during = 14.0 - 12.36
    area = np.s_[270:350, 40:600]
    assert (
        changed(
            frame_at(out / "burnt.mp4", during)[area], frame_at(plain / "burnt.mp4", during)[area]
        )
        > 0.02
    )


def test_a_font_that_cannot_be_found_is_an_error_not_a_blank(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "fonts.conf"
    config.write_text(NO_FONTS)
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    style = tmp_path / "style.toml"
    style.write_text('[style]\nfont = "A Font Nobody Has"\n')
    out = tmp_path / "badfont"
    result = invoke(
        "cut",
        str(work / "talk.mp4"),
        "--start",
        "12.36",
        "--end",
        "16",
        "--style",
        str(style),
        "-o",
        str(out),
        "-q",
    )
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: command line: ffmpeg found no font for subtitles (libass: failed to find any fallback); nothing would be burnt in\n",
    )
    assert not out.exists() or (not list(out.glob("*.mp4")) and not list(out.glob(".*part*")))


def test_shorts_captions_highlight_the_word_being_said(tmp_path: Path) -> None:
    """The `shorts` style: between two word times inside one cue, the highlight moves from the
    first word to the second (the highlight colour's pixels move right), the rest stays white."""
    from clipkit.subtitles import Word
    from clipkit.transcript import Segment, Transcript, to_json_dict

    from .conftest import ffmpeg, frame

    source = tmp_path / "grey.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=0x404040:s=640x360:d=6:r=25", "-f", "lavfi",
           "-i", "sine=f=300:d=6:sample_rate=48000", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-c:a", "aac", "-shortest", str(source))  # fmt: skip
    texts = ["Parents", "met", "every", "Thursday."]
    words = tuple(Word(1000 + k * 800, 1000 + k * 800 + 600, t) for k, t in enumerate(texts))
    doc = Transcript(segments=(Segment(1000, 4000, " ".join(texts), words=words),),
                     language="en", duration_ms=6000, engine="faster-whisper", model="tiny.en",
                     source=str(source))  # fmt: skip
    subs = tmp_path / "grey.json"
    subs.write_text(json.dumps(to_json_dict(doc, "test")), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("cut", str(source), "--start", "0", "--end", "5", "--title", "x", "-o",
                    str(out), "--subs", str(subs), "--aspect", "9:16", "--style", "shorts", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    video = out / "x-vertical.mp4"

    def highlighted(t: float) -> tuple[int, float]:
        rgb = frame(video, t).astype(int)
        yellow = (rgb[..., 0] > 200) & (rgb[..., 1] > 160) & (rgb[..., 2] < 100)
        ys, xs = np.nonzero(yellow)
        return len(xs), float(xs.mean()) if len(xs) else -1.0

    first, second = highlighted(1.3), highlighted(2.1)  # "Parents", then "met"
    assert first[0] > 100 and second[0] > 30, (first, second)
    assert second[1] > first[1] + 20  # the highlight moved on to the next word
    white = (frame(video, 1.3).astype(int) > 220).all(axis=2).sum()
    assert white > 100  # the other words are there, in white
    h, w = frame(video, 1.3).shape[:2]
    ys = np.nonzero((frame(video, 1.3).astype(int) > 220).all(axis=2))[0]
    assert h * 0.3 < ys.mean() < h * 0.7  # in the middle of the vertical frame
