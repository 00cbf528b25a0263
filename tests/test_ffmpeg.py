"""The one ffmpeg module: binary resolution, errors with stderr tails, probing, decoding."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from clipkit.errors import FFmpegError, MediaError
from clipkit.ffmpeg import decode_audio, find_ffmpeg, input_path, probe, run_ffmpeg

from .conftest import SAMPLE, SCRIPT


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLIPKIT_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH: the wheel's binary
    wheel = find_ffmpeg()
    assert wheel.source == "imageio-ffmpeg" and Path(wheel.path).is_file()

    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    assert find_ffmpeg() == type(wheel)(str(fake), "PATH")

    monkeypatch.setenv("CLIPKIT_FFMPEG", wheel.path)
    assert find_ffmpeg() == type(wheel)(wheel.path, "CLIPKIT_FFMPEG")


def test_configured_ffmpeg_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLIPKIT_FFMPEG", str(tmp_path / "no-ffmpeg"))
    with pytest.raises(FFmpegError) as err:
        find_ffmpeg()
    assert (
        str(err.value)
        == f"ffmpeg not found at '{tmp_path / 'no-ffmpeg'}' (set by CLIPKIT_FFMPEG or config)"
    )


def test_failure_carries_stderr_tail_and_command_is_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="clipkit.ffmpeg")
    missing = tmp_path / "it's missing.mp4"
    with pytest.raises(FFmpegError) as err:
        run_ffmpeg(["-i", input_path(missing), "-f", "null", "-"])
    message = str(err.value)
    assert message.startswith("ffmpeg failed (exit ")
    assert "No such file or directory" in message
    assert any("'-i'" in r.getMessage() or " -i " in r.getMessage() for r in caplog.records)
    assert "it'\"'\"'s missing.mp4" in caplog.records[0].getMessage()  # shell-quoted for copy-paste


def test_colon_in_relative_name_is_not_a_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLE, tmp_path / "my:clip.mp4")
    run_ffmpeg(["-y", "-i", input_path("my:clip.mp4"), "-t", "1", "-vn", "-f", "null", "-"])
    assert input_path("my:clip.mp4") == f"file:{tmp_path}/my:clip.mp4"


def test_progress_reports_output_time(tmp_path: Path) -> None:
    seen: list[int] = []
    run_ffmpeg(
        ["-y", "-i", input_path(SAMPLE), "-t", "5", "-vn", "-f", "null", "-"],
        on_progress=seen.append,
    )
    assert seen and seen[-1] >= 4900


def test_probe_sample() -> None:
    info = probe(SAMPLE)
    assert (info.has_audio, info.has_video, info.width, info.height) == (True, True, 640, 360)
    assert info.fps == 25 and info.video_codec == "h264" and info.audio_codec == "aac"
    assert abs(info.duration_ms - SCRIPT["duration"] * 1000) < 100


def test_probe_errors(tmp_path: Path) -> None:
    junk = tmp_path / "x.mov"
    junk.write_bytes(b"\x00\x01junk" * 100)
    with pytest.raises(MediaError, match="not a media file ffmpeg can read"):
        probe(junk)
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "absent.wav")


def test_decode_audio_is_16k_mono() -> None:
    audio = decode_audio(SAMPLE)
    assert audio.dtype.name == "float32"
    assert abs(len(audio) / 16000 - SCRIPT["duration"]) < 0.1
    assert 0.05 < float(abs(audio).max()) <= 1.0
