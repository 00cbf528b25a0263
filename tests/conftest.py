"""Shared fixtures: the bundled sample, generated media, and real transcriptions cached per session."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from clipkit.cli import cli
from clipkit.ffmpeg import bundled_ffmpeg, check_binary, input_path, run_ffmpeg

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "conversation.mp4"
SCRIPT = json.loads((ROOT / "samples" / "conversation.script.json").read_text(encoding="utf-8"))
SCRIPT_TEXT = " ".join(s["text"] for s in SCRIPT["sentences"])

os.environ["HF_HUB_OFFLINE"] = "1"  # a test must never reach a model hub


@pytest.fixture(scope="session", autouse=True)
def clipkit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("clipkit-home")
    os.environ["CLIPKIT_HOME"] = str(home)
    return home


def ffmpeg(*args: str) -> None:
    """Make test media with the bundled ffmpeg (9.x: it can write rotation, HEVC 10-bit...)."""
    run_ffmpeg(["-y", "-loglevel", "error", *args], binary=bundled_ffmpeg())


def system_ffmpeg() -> str | None:
    """The distribution's ffmpeg (CI installs Debian's), when it is not the bundled one."""
    import shutil

    found = shutil.which("ffmpeg")
    return found if found and check_binary(found).usable else None


FFMPEGS = ["bundled", "system"]


def ffmpeg_for(param: str) -> str:
    """The binary a parametrized media test runs with (skips when there is no system one)."""
    if param == "bundled":
        return bundled_ffmpeg().path
    path = system_ffmpeg()
    if path is None:
        pytest.skip("no usable system ffmpeg on PATH (CI installs Debian's)")
    return path


@pytest.fixture(params=FFMPEGS)
def each_ffmpeg(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a media test once with the bundled ffmpeg and once with the system one (if any)."""
    path = ffmpeg_for(request.param)
    monkeypatch.setenv("CLIPKIT_FFMPEG", path)
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small generated inputs: room-tone silence, a video with no audio, junk named .mp4."""
    d = tmp_path_factory.mktemp("media")
    silence = d / "silence.wav"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=20:c=pink:a=0.0005:r=16000", "-ac", "1", str(silence))
    no_audio = d / "no audio.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=d=2:s=320x240:r=25",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(no_audio),
    )
    junk = d / "notes.mp4"
    junk.write_text("this is a text file, not a video\n")
    # the sample's first 20 s, 25 s of silence, then the next 20 s
    gap = d / "long gap.m4a"
    ffmpeg(
        "-i", str(SAMPLE), "-f", "lavfi", "-i", "anoisesrc=d=25:c=pink:a=0.0005:r=48000",
        "-filter_complex",
        "[0:a]atrim=0:20,asetpts=N/SR/TB,aresample=48000[a];[0:a]atrim=20:40,asetpts=N/SR/TB,aresample=48000[b];"
        "[1:a]aformat=channel_layouts=mono[s];[a][s][b]concat=n=3:v=0:a=1[out]",
        "-map", "[out]", "-c:a", "aac", "-b:a", "64k", str(gap),
    )  # fmt: skip
    return {"silence": silence, "no_audio": no_audio, "junk": junk, "gap": gap, "dir": d}


@pytest.fixture(scope="session")
def transcribe_sample(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Transcribe the sample once per engine for the whole session; returns the output dir."""
    done: dict[str, Path] = {}

    def run(engine: str) -> Path:
        if engine not in done:
            out = tmp_path_factory.mktemp(f"sample-{engine}")
            result = invoke(
                "transcribe", str(SAMPLE), "-o", str(out), "--engine", engine, "--quiet"
            )
            assert result.exit_code == 0, result.output
            done[engine] = out
        return done[engine]

    return run


@pytest.fixture(scope="module", params=FFMPEGS)
def module_ffmpeg(request: pytest.FixtureRequest) -> Iterator[str]:
    """Like each_ffmpeg, for a module whose fixtures make media once per ffmpeg."""
    path = ffmpeg_for(request.param)
    before = os.environ.get("CLIPKIT_FFMPEG")
    os.environ["CLIPKIT_FFMPEG"] = path
    yield path
    if before is None:
        os.environ.pop("CLIPKIT_FFMPEG", None)
    else:
        os.environ["CLIPKIT_FFMPEG"] = before


class FakeEngine:
    """A stand-in engine for fast CLI tests: a word every 0.6 s of the audio it is given, so
    decoding, windows, timing refinement, subtitle shaping and writing all run for real."""

    name = "fake"

    def __init__(self, model: str, threads: int, options: object) -> None:
        self.options = options
        self.model_name = model

    def transcribe(self, audio, source, duration_ms, on_progress=None):  # type: ignore[no-untyped-def]
        from clipkit.subtitles import Word
        from clipkit.transcript import Segment, Transcript

        words = tuple(
            Word(start, start + 400, f"word{k}.", 0.9)
            for k, start in enumerate(range(100, duration_ms - 400, 600))
        )
        segments = tuple(
            Segment(chunk[0].start, chunk[-1].end, " ".join(w.text for w in chunk), chunk)
            for chunk in (words[i : i + 8] for i in range(0, len(words), 8))
        )
        if on_progress:
            on_progress(duration_ms)
        return Transcript(segments, "en", duration_ms, self.name, self.model_name, source)


@pytest.fixture
def fake_engine() -> Iterator[str]:
    """Registers the fake engine as `fake` for one test."""
    from clipkit.engines import EngineSpec, register, unregister

    register(
        EngineSpec(
            name="fake",
            module="json",
            package="clipkit",
            install="(built into the tests)",
            resolve_model=lambda name: name,
            threads=lambda cores, workers: 1,
            load=lambda model, threads, options: FakeEngine(model, threads, options),
        )
    )
    yield "fake"
    unregister("fake")


# --- an independent loudness meter for the tests: loudnorm's analysis (true peak included) ---


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float  # LU
    threshold: float
    offset: float


def measure_loudness(
    path: str | os.PathLike[str],
    start_ms: int = 0,
    duration_ms: int | None = None,
    target: tuple[float, float, float] = (-14.0, -1.5, 11.0),
    pre_filter: str | None = None,
    track: int = 0,
) -> Loudness | None:
    """EBU R128 loudness of an audio range (loudnorm's analysis pass, audio only: cheap),
    optionally after `pre_filter`. None when the range is silent (loudness -inf).
    """
    i, tp, lra = target
    args = ["-ss", f"{start_ms / 1000:.3f}"]
    if duration_ms is not None:
        args += ["-t", f"{duration_ms / 1000:.3f}"]
    args += ["-i", input_path(path), "-vn", "-sn", "-dn", "-map", f"0:a:{track}",
             "-af", (f"{pre_filter}," if pre_filter else "") + f"loudnorm=I={i}:TP={tp}:LRA={lra}:print_format=json",
             "-f", "null", "-"]  # fmt: skip
    stderr = run_ffmpeg(args)  # the ffmpeg under test (CLIPKIT_FFMPEG), as users have it
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    try:
        data = json.loads(stderr[start : end + 1])
        values = [
            float(data[k])
            for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")
        ]
    except (ValueError, KeyError) as exc:
        raise AssertionError(f"could not read loudness analysis of {path}") from exc
    if not all(map(_finite, values)) or values[0] < -70:
        return None
    return Loudness(*values)


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def frame(path: Path, seconds: float) -> Any:
    """The RGB frame (int16, so differences do not wrap) shown at `seconds`."""
    import av
    import numpy as np

    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            if f.time is not None and f.time >= seconds:
                return f.to_ndarray(format="rgb24").astype(np.int16)
    raise AssertionError("no frame")
