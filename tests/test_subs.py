"""`clipkit subs`: golden files, Zoom transcripts, the check on a real transcription, bad input."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import srt

from clipkit.ffmpeg import escape_filter_value
from clipkit.resources import fonts_dir
from clipkit.subtitle_text import parse_vtt
from clipkit.subtitles import Cue

from .conftest import ffmpeg, invoke

GOLDEN = Path(__file__).parent / "golden"

ZOOM_VTT = """WEBVTT

1
00:00:01.020 --> 00:00:04.860
Amira Khan: Thanks for coming in today,
Tom. Could you tell me about where

2
00:00:04.860 --> 00:00:06.100
Amira Khan: you grew up?

3
00:00:07.000 --> 00:00:12.500
Tom Price: I grew up in Wrexham, in a house on Ffordd Llanelwy,
with my mum and two sisters.

4
00:00:13.000 --> 00:00:14.000
Amira Khan: Diolch.
"""


@pytest.mark.parametrize(
    ("profile", "extra"),
    [("netflix-en", []), ("bbc", []), ("vertical", []), ("prefix", ["--speaker-labels", "prefix"])],
)
def test_reshape_matches_golden(profile: str, extra: list[str], tmp_path: Path) -> None:
    """Fixed word timings -> SRT, reviewed by eye once and pinned."""
    out = tmp_path / "out.srt"
    args = ["subs", "reshape", str(GOLDEN / "words.json"), "-o", str(out), *extra]
    if profile != "prefix":
        args += ["--profile", profile]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == (GOLDEN / f"words.{profile}.srt").read_text(
        encoding="utf-8"
    )
    checked = invoke(
        "subs", "check", str(out), "--profile", "netflix-en" if profile == "prefix" else profile
    )
    assert checked.exit_code == 0, checked.output


def test_reshape_to_stdout_equals_file() -> None:
    result = invoke("subs", "reshape", str(GOLDEN / "words.json"))
    assert result.stdout == (GOLDEN / "words.netflix-en.srt").read_text(encoding="utf-8")


def test_zoom_vtt_multiline_cues_and_speakers() -> None:
    cues = parse_vtt(ZOOM_VTT, "zoom.vtt")
    assert [c.speaker for c in cues] == ["Amira Khan", "Amira Khan", "Tom Price", "Amira Khan"]
    assert cues[0] == Cue(
        1020,
        4860,
        ("Thanks for coming in today, Tom. Could you tell me about where",),
        "Amira Khan",
    )
    assert cues[2].lines == (
        "I grew up in Wrexham, in a house on Ffordd Llanelwy, with my mum and two sisters.",
    )


@pytest.mark.parametrize(
    ("text", "speakers"),
    [
        ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Tom>Hello there\n", ["Tom"]),
        ("WEBVTT\n\n00:01.000 --> 00:02.000\nNote: this is not a speaker\n\n00:03.000 --> 00:04.000\nplain\n\n"
         "00:05.000 --> 00:06.000\nplain again\n", [None, None, None]),
        ("WEBVTT - a title\n\nNOTE a comment\nover lines\n\n1\n00:00:01.000 --> 00:00:02.000 align:start\nHi\n", [None]),
    ],
)  # fmt: skip
def test_vtt_speakers_detected_only_when_clear(text: str, speakers: list[str | None]) -> None:
    assert [c.speaker for c in parse_vtt(text, "x.vtt")] == speakers


def test_zoom_to_json_keeps_speakers_then_to_srt_with_labels(tmp_path: Path) -> None:
    zoom = tmp_path / "GMT20261125-101500_Recording.transcript.vtt"
    zoom.write_text(ZOOM_VTT, encoding="utf-8")
    js = tmp_path / "story.json"
    assert invoke("subs", "convert", str(zoom), str(js)).exit_code == 0
    data = json.loads(js.read_text(encoding="utf-8"))
    assert [s["speaker"] for s in data["segments"]] == [
        "Amira Khan",
        "Amira Khan",
        "Tom Price",
        "Amira Khan",
    ]
    assert all(w["speaker"] == s["speaker"] for s in data["segments"] for w in s["words"])

    labelled = tmp_path / "story.srt"
    result = invoke("subs", "convert", str(zoom), str(labelled), "--speaker-labels", "prefix")
    assert result.exit_code == 0
    subs = list(srt.parse(labelled.read_text(encoding="utf-8")))
    assert [s.content.split(":")[0] for s in subs if ":" in s.content] == [
        "AMIRA KHAN",
        "TOM PRICE",
        "AMIRA KHAN",
    ]
    assert subs[1].content == "you grew up?"  # same speaker continues: no second label

    # reshaping the Zoom transcript: cues never mix speakers and obey the profile
    shaped = tmp_path / "shaped.srt"
    result = invoke("subs", "reshape", str(zoom), "-o", str(shaped), "--speaker-labels", "dash")
    assert result.exit_code == 0
    text = shaped.read_text(encoding="utf-8")
    assert text.count("\n- ") == 3
    assert invoke("subs", "check", str(shaped)).exit_code == 0

    txt = tmp_path / "story.txt"
    assert invoke("subs", "convert", str(zoom), str(txt)).exit_code == 0
    assert txt.read_text(encoding="utf-8").startswith(
        "[0:01] Amira Khan: Thanks for coming in today"
    )


def test_convert_srt_to_vtt_keeps_cues(tmp_path: Path) -> None:
    vtt = tmp_path / "a.vtt"
    assert invoke("subs", "convert", str(GOLDEN / "words.netflix-en.srt"), str(vtt)).exit_code == 0
    back = tmp_path / "b.srt"
    assert invoke("subs", "convert", str(vtt), str(back)).exit_code == 0
    assert back.read_text(encoding="utf-8") == (GOLDEN / "words.netflix-en.srt").read_text(
        encoding="utf-8"
    )


def test_convert_to_ass_for_aegisub_reads_in_pysubs2_and_libass(tmp_path: Path) -> None:
    import av
    import numpy as np
    import pysubs2

    golden = Path(__file__).parent / "golden" / "words.netflix-en.srt"
    ass = tmp_path / "it's a: test.ass"
    result = invoke("subs", "convert", str(golden), str(ass))
    assert result.exit_code == 0, result.output
    cues = list(srt.parse(golden.read_text(encoding="utf-8")))
    doc = pysubs2.load(str(ass))
    assert [e.plaintext for e in doc.events] == [c.content for c in cues]
    assert doc.events[0].start == int(cues[0].start.total_seconds() * 1000) // 10 * 10
    # libass renders it: frames with and without the script differ where the first cue is
    at = cues[0].start.total_seconds() + 0.2
    frames = []
    for name, graph in (
        ("plain", "null"),
        (
            "burnt",
            f"ass=filename={escape_filter_value(str(ass))}:fontsdir={escape_filter_value(str(fonts_dir()))}",
        ),
    ):
        out = tmp_path / f"{name}.png"
        ffmpeg("-f", "lavfi", "-i", f"color=c=gray:s=1920x1080:d={at + 1}", "-vf", graph,
               "-ss", f"{at:.2f}", "-frames:v", "1", str(out))  # fmt: skip
        with av.open(str(out)) as c:
            frames.append(next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int))
    assert (np.abs(frames[0] - frames[1]).max(axis=2) > 60).mean() > 0.002
    # and back: ASS -> SRT keeps the text and times
    back = tmp_path / "back.srt"
    assert invoke("subs", "convert", str(ass), str(back)).exit_code == 0
    assert [c.content for c in srt.parse(back.read_text(encoding="utf-8"))] == [
        c.content for c in cues
    ]


def test_shift_and_slice(tmp_path: Path) -> None:
    src = GOLDEN / "words.netflix-en.srt"
    shifted = invoke("subs", "shift", str(src), "-2.5")
    first = next(srt.parse(shifted.stdout))
    assert first.start.total_seconds() == 0.0 and first.end.total_seconds() == pytest.approx(0.82)

    out = tmp_path / "slice.srt"
    result = invoke("subs", "slice", str(src), "0:03.5", "00:00:12,500", "-o", str(out))
    assert result.exit_code == 0
    cues = list(srt.parse(out.read_text(encoding="utf-8")))
    # cue 2 (3.400-7.695) clipped at the start, cue 3 whole, cue 4 (12.000-13.420) clipped at
    # the end
    assert [(c.start.total_seconds(), c.end.total_seconds()) for c in cues] == [
        (0.0, 4.195),
        (4.7, 8.42),
        (8.5, 9.0),
    ]
    assert cues[0].content.startswith("Could you tell me")


@pytest.mark.engine
def test_check_on_transcribed_sample(transcribe_sample: Callable[[str], Path]) -> None:
    out = transcribe_sample("faster-whisper")
    result = invoke("subs", "check", str(out / "conversation.srt"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    print(f"sample: {report['cues']} cues, {report['within_target_cps']:.0%} within 17 cps")
    assert report["hard"] == 0
    assert report["within_target_cps"] >= 0.90


def error(*args: str) -> tuple[int, str]:
    result = invoke(*args)
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.srt", "", "empty.srt: empty subtitle file"),
        ("junk.srt", "\x00\x7fELF\x00junk", "junk.srt: not a subtitle file (binary data)"),
        ("badtime.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:0x,000 --> 00:00:04,000\nbad\n",
         "badtime.srt:5: malformed SRT cue"),
        ("overlap.srt", "1\n00:00:01,000 --> 00:00:03,000\na\n\n2\n00:00:02,500 --> 00:00:04,000\nb\n",
         "overlap.srt:5: cue 2 overlaps the previous cue (starts 00:00:02.500, previous ends 00:00:03.000)"),
        ("noheader.vtt", "1\n00:00:01.000 --> 00:00:02.000\nTom Price: hello\n",
         "noheader.vtt:1: missing WEBVTT header (is this an SRT file?)"),
        ("badcue.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:0.000\nhello\n", "badcue.vtt:3: malformed cue timing"),
        ("words.json", '{"segments": [', "words.json:1: not valid JSON (Expecting value)"),
        ("notes.docx", "hello", "notes.docx: unsupported transcript format '.docx' (use .srt, .vtt, .ass, .json)"),
    ],
)  # fmt: skip
def test_bad_input_one_error_line(name: str, content: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out.srt"
    code, err = error("subs", "reshape", str(path), "-o", str(out))
    assert (code, err) == (1, f"Error: {tmp_path}/{message}\n")
    assert not out.exists()


def test_check_reports_overlap_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "overlap.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nfirst\n\n2\n00:00:02,500 --> 00:00:04,000\nsecond\n"
    )
    result = invoke("subs", "check", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "cue 1: overlap 500 (limit 0, hard)"
    assert result.stderr == f"Error: {path}: 1 hard-rule violation(s) of netflix-en\n"


def test_unknown_profile_and_bad_profile_file(tmp_path: Path) -> None:
    code, err = error("subs", "check", str(GOLDEN / "words.bbc.srt"), "--profile", "cinema")
    assert (code, err) == (
        1,
        "Error: unknown subtitle profile 'cinema' (known: bbc, netflix-en, vertical)\n",
    )
    bad = tmp_path / "mine.toml"
    bad.write_text("[profile]\nmax_lines = 2\nmax_chars_per_lin = 40\n")
    code, err = error("subs", "check", str(GOLDEN / "words.bbc.srt"), "--profile", str(bad))
    assert (code, err) == (1, f"Error: {bad}: unknown profile key(s): max_chars_per_lin\n")
    broken = tmp_path / "broken.toml"
    broken.write_text("[profile\n")
    code, err = error("subs", "check", str(GOLDEN / "words.bbc.srt"), "--profile", str(broken))
    assert code == 1 and err.startswith(f"Error: {broken}: ") and "line 1" in err


def test_slice_end_before_start() -> None:
    code, err = error("subs", "slice", str(GOLDEN / "words.bbc.srt"), "10", "5")
    assert (code, err) == (1, "Error: slice end 5 is not after its start 10\n")


def test_convert_to_ass_in_the_shorts_style_highlights_each_word(tmp_path: Path) -> None:
    """`subs convert x.json x.ass --style shorts --size 1080x1920`: an ASS script for a vertical
    frame with one event per word, each colouring only that word while it is said."""
    import pysubs2

    out = tmp_path / "shorts.ass"
    args = ["subs", "convert", str(GOLDEN / "words.json"), str(out), "--style", "shorts"]
    result = invoke(*args, "--size", "1080x1920")
    assert result.exit_code == 0, result.output
    doc = pysubs2.load(str(out))
    assert (doc.info["PlayResX"], doc.info["PlayResY"]) == ("1080", "1920")
    first = [e for e in doc.events if e.start < 2400]  # "Thanks for coming in today,"
    coloured = [re.search(r"\{\\1c&H[0-9A-F]{6}&\}([^{]*)\{\\r\}", e.text)[1] for e in first]
    assert coloured[:5] == ["Thanks", "for", "coming", "in", "today,"]
    assert [e.start for e in first[:5]] == [1000, 1300, 1450, 1800, 1950]
    assert all(e.text.count("\\1c&H") == 1 for e in first)  # one word coloured at a time
    plain = tmp_path / "plain.ass"
    assert invoke("subs", "convert", str(GOLDEN / "words.json"), str(plain)).exit_code == 0
    assert "\\1c&H" not in plain.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--style", "shorts", "OUT.srt"], "Error: --style shapes ASS output only (name the output FILE.ass)"),
        (["--size", "tall", "OUT.ass"], "Error: --size 'tall' is not WIDTHxHEIGHT, e.g. 1080x1920"),
        (["--style", "nope", "OUT.ass"], "Error: unknown style 'nope' (known: boxed, default, shorts, speakers)"),
    ],
)  # fmt: skip
def test_convert_style_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    out = str(tmp_path / args[-1])
    result = invoke("subs", "convert", str(GOLDEN / "words.json"), out, *args[:-1])
    assert result.exit_code != 0
    assert message in result.output
