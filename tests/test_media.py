"""Recordings as they really arrive (phones, Zoom, cameras, editors' exports), cut and
transcribed with every ffmpeg present: the bundled one and the distribution's (CI installs
Debian's). Media are generated with the bundled ffmpeg; the produced files are probed and
decoded, never taken on trust."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from clipkit.ffmpeg import bundled_ffmpeg
from clipkit.media import probe

from .conftest import SAMPLE, ffmpeg, frame, invoke, measure_loudness

SUBS = """1
00:00:00,500 --> 00:00:03,500
A subtitle long enough to need most of the width
"""


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated sources, made once for the module."""
    d = tmp_path_factory.mktemp("media-src")
    out: dict[str, Path] = {}

    def make(name: str, *args: str) -> Path:
        path = d / name
        ffmpeg(*args, str(path))
        out[name.split(".")[0]] = path
        return path

    speech = ["-ss", "8", "-t", "6", "-i", str(SAMPLE)]
    # a phone video: stored 640x360, shown upright as 360x640 (display matrix)
    make("landscape.mp4", "-f", "lavfi", "-i", "smptebars=d=6:s=640x360:r=30", *speech,
         "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")  # fmt: skip
    make("phone.mp4", "-display_rotation", "-90", "-i", str(out["landscape"]), "-c", "copy")
    # PAL DV-style anamorphic 16:9: 720x576 stored, SAR 64:45
    make("anamorphic.mp4", "-f", "lavfi", "-i", "testsrc2=d=6:s=720x576:r=25", *speech,
         "-map", "0:v", "-map", "1:a", "-vf", "setsar=64/45", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-c:a", "aac")  # fmt: skip
    # the first audio track is room tone, the second holds the conversation
    make("two-tracks.mp4", "-f", "lavfi", "-i", "testsrc2=d=20:s=320x240:r=25",
         "-f", "lavfi", "-i", "anoisesrc=d=20:c=pink:a=0.0003:r=48000",
         "-ss", "0", "-t", "20", "-i", str(SAMPLE),
         "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-shortest")  # fmt: skip
    # a 50 ms tone burst at every whole second, to see where audio lands against video
    bursts = "aevalsrc='if(lt(mod(t,1),0.05),0.5*sin(2*PI*1000*t),0)':s=48000:d=12"
    make("bursts.mp4", "-f", "lavfi", "-i", "testsrc2=d=12:s=320x240:r=25", "-f", "lavfi",
         "-i", bursts, "-c:v", "libx264", "-g", "125", "-pix_fmt", "yuv420p", "-c:a", "aac")  # fmt: skip
    # what `ffmpeg -ss … -c copy` and editors write: an edit list over a cut-into GOP
    make("editlist.mp4", "-ss", "2.5", "-i", str(out["bursts"]), "-c", "copy")
    make("late-start.mp4", "-i", str(out["bursts"]), "-c", "copy", "-output_ts_offset", "5")
    # 5.1 surround, loud and full of peaks on every channel
    make("surround.mp4", "-f", "lavfi", "-i", "testsrc2=d=6:s=320x240:r=25", "-f", "lavfi",
         "-i", "anoisesrc=d=6:c=white:a=0.9:r=48000", "-filter_complex",
         "[1:a]asplit=6[a][b][c][d][e][f];[a][b][c][d][e][f]join=inputs=6:channel_layout=5.1[s]",
         "-map", "0:v", "-map", "[s]", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-b:a", "384k")  # fmt: skip
    make("hevc10.mp4", "-f", "lavfi", "-i", "testsrc2=d=4:s=640x360:r=30", *speech[:4],
         "-i", str(SAMPLE), "-map", "0:v", "-map", "1:a", "-c:v", "libx265", "-pix_fmt",
         "yuv420p10le", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-c:a", "aac",
         "-t", "4")  # fmt: skip
    # variable frame rate: 2 s at 30 fps, then 2 s at 10 fps, timestamps kept as they are
    make("vfr.mp4", "-f", "lavfi", "-i", "testsrc2=d=2:s=320x240:r=30", "-f", "lavfi",
         "-i", "testsrc2=d=2:s=320x240:r=10", "-f", "lavfi", "-i", "sine=d=4:r=48000",
         "-filter_complex", "[0:v][1:v]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
         "-fps_mode", "vfr", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")  # fmt: skip
    make("mono44.wav", *speech, "-ac", "1", "-ar", "44100")
    make("clip.webm", "-f", "lavfi", "-i", "testsrc2=d=5:s=320x240:r=25", *speech,
         "-map", "0:v", "-map", "1:a", "-c:v", "libvpx-vp9", "-deadline", "realtime",
         "-c:a", "libopus", "-t", "5")  # fmt: skip

    # as a browser's MediaRecorder saves (web recording tools, online interviews) and as a live
    # capture is piped: written to a pipe, so no duration in the header
    def piped(name: str, fmt: str, *args: str) -> None:
        path = d / name
        argv = [bundled_ffmpeg().path, "-loglevel", "error", *args, "-f", fmt, "pipe:1"]
        with path.open("wb") as fh:
            subprocess.run(argv, stdout=fh, check=True)
        out[name.split(".")[0]] = path

    piped("browser.webm", "webm", "-f", "lavfi", "-i", "testsrc2=d=6:s=320x240:r=30", *speech,
          "-map", "0:v", "-map", "1:a", "-c:v", "libvpx", "-deadline", "realtime",
          "-c:a", "libopus")  # fmt: skip
    # an MPEG-TS capture as cameras (AVCHD) and broadcast recorders write it: a key frame every
    # half second, timestamps starting at 1.4 s
    piped("capture.ts", "mpegts", "-f", "lavfi", "-i", "testsrc2=d=6:s=320x240:r=25", *speech,
          "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-g", "12", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-t", "6")  # fmt: skip
    subs = d / "subs.srt"
    subs.write_text(SUBS, encoding="utf-8")
    make("with-subs.mkv", "-f", "lavfi", "-i", "testsrc2=d=5:s=320x240:r=25", *speech,
         "-i", str(subs), "-map", "0:v", "-map", "1:a", "-map", "2:s", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "srt", "-t", "5")  # fmt: skip
    make("half-second.mp4", "-f", "lavfi", "-i", "testsrc2=d=0.5:s=320x240:r=25", "-f", "lavfi",
         "-i", "sine=d=0.5", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")  # fmt: skip
    return out


def cut(source: Path, out: Path, *extra: str, start: str = "0.2", end: str = "4") -> Path:
    subs = source.with_name("subs.srt")
    args = ["cut", str(source), "--start", start, "--end", end, "--title", "x", "-o", str(out)]
    result = invoke(*args, "--subs", str(subs), "-q", *extra)
    assert result.exit_code == 0, result.output
    return out / "x.mp4"


def rotation_of(path: Path) -> int:
    with av.open(str(path)) as c:
        f = next(c.decode(c.streams.video[0]))
        return int(getattr(f, "rotation", 0) or 0)


def test_phone_video_is_cut_upright_with_subtitles_inside_the_picture(
    src: dict[str, Path], tmp_path: Path, each_ffmpeg: str
) -> None:
    burnt = cut(src["phone"], tmp_path / "burnt")
    plain = cut(src["phone"], tmp_path / "plain", "--no-burn")
    info = probe(burnt)
    assert (info.width, info.height, rotation_of(burnt)) == (360, 640, 0)
    text = np.abs(frame(burnt, 2.0) - frame(plain, 2.0)).max(axis=2) > 60
    ys, xs = np.nonzero(text)
    assert len(xs) > 200, "no subtitle burnt in"
    # laid out for the upright frame: inside it with a margin, in the bottom third
    assert xs.min() > 4 and xs.max() < 360 - 4
    assert ys.min() > 640 * 2 / 3 and ys.max() < 640 - 4
    # 9:16 of an already upright picture: nothing is cropped away (just scaled up)
    cut(src["phone"], tmp_path / "vertical", "--aspect", "9:16", "--no-burn")
    vertical = tmp_path / "vertical" / "x-vertical.mp4"
    v = probe(vertical)
    assert (v.width, v.height) == (720, 1280)
    small = frame(vertical, 2.0)[::2, ::2]
    assert np.abs(small - frame(plain, 2.0)).mean() < 12


def test_anamorphic_source_keeps_its_display_aspect(
    src: dict[str, Path], tmp_path: Path, each_ffmpeg: str
) -> None:
    source = probe(src["anamorphic"])
    assert source.sar == Fraction(64, 45)
    out = probe(cut(src["anamorphic"], tmp_path, "--no-burn"))
    assert out.sar == 1
    assert out.width / out.height == pytest.approx(720 * 64 / 45 / 576, rel=0.01)


def test_the_track_with_speech_is_used(
    src: dict[str, Path], tmp_path: Path, each_ffmpeg: str
) -> None:
    result = invoke("transcribe", str(src["two-tracks"]), "-o", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    assert "two-tracks.mp4: audio track 2 holds the speech (track 1 is silent)" in result.stderr
    words = json.loads((tmp_path / "two-tracks.json").read_text())["segments"]
    assert sum(len(s["words"]) for s in words) > 20
    extract = cut(src["two-tracks"], tmp_path / "cut", "--no-burn", start="2", end="10")
    measured = measure_loudness(extract)
    assert measured is not None and measured.integrated == pytest.approx(-14, abs=1.0)
    # asked for, the silent track is used, with a warning rather than a silent surprise
    result = invoke(
        "cut", str(src["two-tracks"]), "--start", "2", "--end", "6", "--title", "y",
        "-o", str(tmp_path / "cut"), "--no-burn", "--audio-track", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Warning: command line: audio track 1 of two-tracks.mp4 is silent" in result.stderr


def burst_times(path: Path) -> tuple[list[float], float, float]:
    """Where the tone bursts fall in an output, and the audio and video start times."""
    with av.open(str(path)) as c:
        a, v = c.streams.audio[0], c.streams.video[0]
        starts = (float(a.start_time * a.time_base), float(v.start_time * v.time_base))
        samples = np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(a)])
        rate = a.rate
    loud = np.flatnonzero(np.abs(samples) > 0.1)
    firsts = loud[np.r_[True, np.diff(loud) > rate // 2]] / rate
    return [float(t) for t in firsts], *starts


@pytest.mark.parametrize(
    ("name", "first_burst"),
    [("editlist", 0.5), ("late-start", 0.0), ("bursts", 0.0)],
)
def test_audio_and_video_start_together(
    src: dict[str, Path], tmp_path: Path, each_ffmpeg: str, name: str, first_burst: float
) -> None:
    out = cut(src[name], tmp_path, "--no-burn", "--fade", "0", start="1", end="5")
    bursts, audio_start, video_start = burst_times(out)
    frame_s = 1 / 25
    assert abs(audio_start - video_start) <= frame_s
    assert bursts[0] == pytest.approx(first_burst, abs=frame_s)
    assert np.diff(bursts) == pytest.approx(1.0, abs=0.01)


def test_surround_is_folded_to_stereo_under_the_true_peak_limit(
    src: dict[str, Path], tmp_path: Path, each_ffmpeg: str
) -> None:
    out = cut(src["surround"], tmp_path, "--no-burn")
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.channels == 2
    measured = measure_loudness(out)
    assert measured is not None
    assert measured.true_peak <= -1.5
    assert measured.integrated == pytest.approx(-14, abs=1.0)


@pytest.mark.parametrize(
    "name", ["hevc10", "vfr", "mono44", "clip", "with-subs", "browser", "capture"]
)
def test_common_formats_cut_to_h264_aac(
    src: dict[str, Path], tmp_path: Path, each_ffmpeg: str, name: str
) -> None:
    out = cut(src[name], tmp_path, end="3.6")
    with av.open(str(out)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.name, v.codec_context.format.name) == ("h264", "yuv420p")
        assert (a.codec_context.name, a.codec_context.sample_rate) == ("aac", 48000)
        times = [f.time for f in c.decode(v)]
    steps = np.diff(times)
    # constant frame rate (the VFR source too) and the length asked for, within a frame
    assert steps.max() - steps.min() < 0.002
    assert len(times) * steps.mean() == pytest.approx(3.4, abs=steps.mean() + 0.001)


@pytest.mark.parametrize("name", ["browser", "capture"])
def test_a_recording_without_a_duration_is_measured_and_transcribed(
    src: dict[str, Path], tmp_path: Path, name: str
) -> None:
    with av.open(str(src[name])) as c:  # the file really has no duration in its header
        assert name != "browser" or c.duration is None
    assert probe(src[name]).duration_ms == pytest.approx(6000, abs=100)
    result = invoke("transcribe", str(src[name]), "-o", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / f"{name}.json").read_text())
    assert doc["duration"] == pytest.approx(6.0, abs=0.1)
    assert sum(len(s["words"]) for s in doc["segments"]) > 8


def test_half_second_recording_gets_a_clear_message(src: dict[str, Path], tmp_path: Path) -> None:
    result = invoke("transcribe", str(src["half-second"]), "-o", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {src['half-second']}: only 0.5 s long; too short to transcribe (at least 1 s)"
    )
    result = invoke(
        "cut", str(src["half-second"]), "--start", "0", "--end", "0.5", "-o", str(tmp_path)
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "Error: command line: the extract is 0.500 s long; extracts must be at least 1 s"
    )


@pytest.mark.parametrize("name", ["-lead dash.mp4", 'it\'s "quoted" 🎙 talk.mp4'])
def test_awkward_names(src: dict[str, Path], tmp_path: Path, each_ffmpeg: str, name: str) -> None:
    folder = tmp_path / "in: a folder"
    folder.mkdir()
    source = folder / name
    shutil.copy(src["anamorphic"], source)
    shutil.copy(src["anamorphic"].with_name("subs.srt"), folder / "subs.srt")
    out = cut(source, tmp_path / "out")
    assert probe(out).duration_ms == pytest.approx(3800, abs=50)


@pytest.mark.engine
def test_a_ten_minute_browser_recording_without_a_duration_is_transcribed_to_its_end(
    tmp_path: Path,
) -> None:
    """An audio-only MediaRecorder-style WebM (Opus, written live to a pipe: no duration, no cues)
    of 10 minutes: the sample's conversation eight times and a bit. Every copy is transcribed,
    the last one too, and the transcript says 600 s."""
    from clipkit.metrics import normalize_words

    from .conftest import SCRIPT, SCRIPT_TEXT

    path = tmp_path / "interview.webm"
    argv = [bundled_ffmpeg().path, "-loglevel", "error", "-stream_loop", "-1", "-i", str(SAMPLE),
            "-map", "0:a", "-t", "600", "-c:a", "libopus", "-b:a", "32k", "-live", "1", "-f", "webm",
            "pipe:1"]  # fmt: skip
    with path.open("wb") as fh:
        subprocess.run(argv, stdout=fh, check=True)
    with av.open(str(path)) as c:
        assert c.duration is None
    assert probe(path).duration_ms == pytest.approx(600_000, abs=100)
    result = invoke("transcribe", str(path), "-o", str(tmp_path), "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "interview.json").read_text(encoding="utf-8"))
    assert doc["duration"] == pytest.approx(600.0, abs=0.1)
    loop = SCRIPT["duration"]
    words = [w for s in doc["segments"] for w in s["words"]]
    expected = len(normalize_words(SCRIPT_TEXT))
    for k in range(int(600 // loop)):  # each whole copy of the conversation
        said = [w for w in words if k * loop <= w["start"] < (k + 1) * loop]
        assert len(said) >= 0.85 * expected, (k, len(said), expected)
    last_copy_speech = [s for s in SCRIPT["sentences"] if 8 * loop + s["end"] < 600]
    tail = [w for w in words if w["start"] >= 8 * loop]
    assert len(tail) >= 0.85 * sum(len(normalize_words(s["text"])) for s in last_copy_speech)
