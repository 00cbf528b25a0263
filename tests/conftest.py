"""Shared fixtures: the bundled sample, generated media, and real transcriptions cached per session."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clipkit.cli import cli
from clipkit.ffmpeg import run_ffmpeg

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
    run_ffmpeg(["-y", "-loglevel", "error", *args])


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
