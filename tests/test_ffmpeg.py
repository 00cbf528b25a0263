"""The one ffmpeg module: binary resolution, errors with stderr tails, probing, decoding."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from clipkit.errors import FFmpegError, MediaError
from clipkit.ffmpeg import (
    bundled_ffmpeg,
    check_binary,
    error_cause,
    find_ffmpeg,
    input_path,
    run_ffmpeg,
)
from clipkit.media import decode_audio, probe

from .conftest import SAMPLE, SCRIPT, invoke


def wrapper(folder: Path, body: str = "") -> Path:
    """An `ffmpeg` on PATH that runs the bundled binary, optionally changed by `body` (sh)."""
    folder.mkdir(parents=True, exist_ok=True)
    real = bundled_ffmpeg().path
    script = folder / "ffmpeg"
    script.write_text(f'#!/bin/sh\nREAL=\'{real}\'\n{body}\nexec "$REAL" "$@"\n')
    script.chmod(0o755)
    return script


# an ffmpeg whose build lacks libass, as some minimal builds do
NO_LIBASS = (
    'if [ "$2" = "-filters" ]; then "$REAL" "$@" | /bin/grep -v " subtitles "; exit 0; fi\n'
    'case "$*" in *subtitles=*) echo "No such filter: \'subtitles\'" >&2; exit 1;; esac'
)


def test_resolution_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLIPKIT_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # nothing on PATH: the wheel's binary
    wheel = find_ffmpeg()
    assert wheel.source == "imageio-ffmpeg" and Path(wheel.path).is_file()

    good = wrapper(tmp_path / "good")
    monkeypatch.setenv("PATH", str(good.parent))
    assert (find_ffmpeg().path, find_ffmpeg().source) == (str(good), "PATH")

    monkeypatch.setenv("CLIPKIT_FFMPEG", wheel.path)
    assert (find_ffmpeg().path, find_ffmpeg().source) == (wheel.path, "CLIPKIT_FFMPEG")


def test_path_ffmpeg_lacking_a_filter_gives_way_to_the_bundled_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("CLIPKIT_FFMPEG", raising=False)
    lacking = wrapper(tmp_path / "bin", NO_LIBASS)
    monkeypatch.setenv("PATH", str(lacking.parent))
    check = check_binary(str(lacking))
    assert not check.usable and check.missing == ("the subtitles filter",)
    chosen = find_ffmpeg()
    assert chosen.source == "imageio-ffmpeg"
    assert f"on PATH ({lacking}) lacks the subtitles filter" in chosen.note
    assert any("lacks the subtitles filter; using" in r.getMessage() for r in caplog.records)
    # set explicitly, it is not passed over: a clear error instead
    monkeypatch.setenv("CLIPKIT_FFMPEG", str(lacking))
    with pytest.raises(FFmpegError, match=r"\(CLIPKIT_FFMPEG\) lacks the subtitles filter$"):
        find_ffmpeg()


def test_doctor_names_each_candidate_and_the_one_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CLIPKIT_FFMPEG", raising=False)
    lacking = wrapper(tmp_path / "bin", NO_LIBASS)
    monkeypatch.setenv("PATH", f"{lacking.parent}:/usr/bin:/bin")
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    path_line = next(ln for ln in lines if ln.startswith(f"  PATH: {lacking} (ffmpeg "))
    assert path_line.endswith("): lacks the subtitles filter")
    bundled_line = next(ln for ln in lines if ln.startswith("  imageio-ffmpeg: "))
    assert bundled_line.endswith("): passes the cut + burn-in + loudness check")
    used = next(ln for ln in lines if ln.startswith("  uses: "))
    assert used == f"  uses: {bundled_ffmpeg().path} (imageio-ffmpeg)"


def test_configured_ffmpeg_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLIPKIT_FFMPEG", str(tmp_path / "no-ffmpeg"))
    with pytest.raises(FFmpegError) as err:
        find_ffmpeg()
    assert (
        str(err.value) == f"ffmpeg not found at '{tmp_path / 'no-ffmpeg'}' (set by CLIPKIT_FFMPEG)"
    )


def test_failure_names_the_cause_and_command_is_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="clipkit.ffmpeg")
    missing = tmp_path / "it's missing.mp4"
    with pytest.raises(FFmpegError) as err:
        run_ffmpeg(["-i", input_path(missing), "-f", "null", "-"])
    message = str(err.value)
    assert message.startswith("ffmpeg ") and " failed (exit " in message
    assert "No such file or directory" in message.splitlines()[0]
    assert any("'-i'" in r.getMessage() or " -i " in r.getMessage() for r in caplog.records)
    assert "it'\"'\"'s missing.mp4" in caplog.records[0].getMessage()  # shell-quoted for copy-paste


def test_the_cause_line_is_shown_not_the_generic_last_lines() -> None:
    # what ffmpeg 5.1 printed for an option value it did not know (the cause came first)
    lines = [
        '[Parsed_ebur128_0 @ 0x55] Unable to parse option value "quiet"',
        "[AVFilterGraph @ 0x56] Error initializing filter 'ebur128' with args 'framelog=quiet'",
        "Error reinitializing filters!",
        "Failed to inject frame into filter network: Invalid argument",
        "Error while processing the decoded data for stream #0:1",
        "Conversion failed!",
    ]
    assert error_cause(lines) == lines[0]


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
