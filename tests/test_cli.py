"""The command line: every command has help; bad input gives one `Error:` line and exit 1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from clipkit.cli import cli

from .conftest import SAMPLE, FakeEngine, invoke


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found += all_commands(command, path)
    return found


@pytest.mark.parametrize("path", all_commands(cli), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert result.output.startswith("Usage: ")
    command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert command.help and len(command.help.strip()) > 10
    if not isinstance(command, click.Group) and not command.hidden:  # shows how it is used
        assert "Example: clipkit " in result.output, path


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0 and result.output.startswith("clipkit, version ")


def error_of(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def test_missing_file(tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "out"))
    assert (code, err) == (1, f"Error: {tmp_path / 'nope.mp4'}: no such file\n")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_directory_given(tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(tmp_path), "-o", str(tmp_path / "out"))
    assert (code, err) == (1, f"Error: {tmp_path}: is a directory, not a recording\n")


def test_text_file_renamed_mp4(media: dict[str, Path], tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(media["junk"]), "-o", str(tmp_path))
    assert (code, err) == (1, f"Error: {media['junk']}: not a media file ffmpeg can read\n")
    assert list(tmp_path.iterdir()) == []


def test_video_without_audio(media: dict[str, Path], tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(media["no_audio"]), "-o", str(tmp_path))
    assert (code, err) == (1, f"Error: {media['no_audio']}: has no audio stream to transcribe\n")
    assert list(tmp_path.iterdir()) == []


def test_one_bad_file_among_good_ones_stops_before_work(
    media: dict[str, Path], tmp_path: Path
) -> None:
    code, err = error_of("transcribe", str(SAMPLE), str(media["junk"]), "-o", str(tmp_path))
    assert (code, err) == (1, f"Error: {media['junk']}: not a media file ffmpeg can read\n")
    assert list(tmp_path.iterdir()) == []


def test_unknown_engine(tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(tmp_path), "--engine", "vosk")
    assert (code, err) == (
        1,
        "Error: unknown engine 'vosk' (choose faster-whisper or openai-whisper)\n",
    )


def test_unknown_model(tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(tmp_path), "--model", "enormous")
    assert code == 1
    assert err.startswith("Error: unknown model 'enormous': pass --model with a local path")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_known_model_not_installed_offline(tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(tmp_path), "--model", "small")
    assert code == 1
    assert err.startswith(
        "Error: model 'small' is not installed locally: pass --model with a local path"
    )
    assert "clipkit models list" in err and err.count("\n") == 1


def test_model_path_missing(tmp_path: Path) -> None:
    code, err = error_of(
        "transcribe", str(SAMPLE), "-o", str(tmp_path), "--model", str(tmp_path / "m")
    )
    assert (code, err) == (1, f"Error: model path {tmp_path / 'm'} does not exist\n")


def test_wrong_model_format_for_engine(tmp_path: Path) -> None:
    fake = tmp_path / "model.pt"
    fake.write_bytes(b"not a checkpoint")
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(tmp_path / "o"), "--model", str(fake))
    assert (code, err) == (
        1,
        f"Error: {fake} is not a CTranslate2 model folder; an openai-whisper checkpoint needs --engine openai-whisper\n",
    )


def test_unwritable_output_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(blocker / "out"))
    assert (code, err) == (
        1,
        f"Error: cannot create output directory {blocker / 'out'}: Not a directory\n",
    )


def test_unknown_format_and_profile(tmp_path: Path) -> None:
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(tmp_path), "--format", "srt,docx")
    assert (code, err) == (
        1,
        "Error: unknown format 'docx' (choose from srt, vtt, ass, txt, json)\n",
    )
    code, err = error_of("transcribe", str(SAMPLE), "-o", str(tmp_path), "--profile", "cinema")
    assert (code, err) == (
        1,
        "Error: unknown subtitle profile 'cinema' (known: bbc, netflix-en, vertical)\n",
    )


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--debug", "transcribe", str(tmp_path / "nope.mp4")])
    assert result.exit_code == 1
    assert type(result.exception).__name__ == "MediaError"


def test_models_list_json() -> None:
    import json

    result = invoke("models", "list", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert any(r["name"] == "tiny.en" and r["format"] == "ctranslate2" for r in rows)


def test_models_convert_bad_input(tmp_path: Path) -> None:
    code, err = error_of("models", "convert", str(tmp_path), str(tmp_path / "x.pt"))
    assert (code, err) == (
        1,
        f"Error: {tmp_path} is not a CTranslate2 model folder (no model.bin/config.json)\n",
    )
    code, err = error_of("models", "convert", str(tmp_path), str(tmp_path / "x.bin"))
    assert (code, err) == (1, f"Error: {tmp_path / 'x.bin'}: the checkpoint name must end in .pt\n")


def test_doctor_reports_ffmpeg_engines_models_fonts() -> None:
    import json

    result = invoke("doctor", "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert Path(report["ffmpeg"]["uses"].split(" (")[0]).exists()
    assert report["engines"]["faster-whisper"] != "not installed"
    assert any(k.startswith("tiny.en") for k in report["models"])
    assert "DejaVu Sans" in report["fonts"]["burn-in font"]


def test_unexpected_errors_are_one_line_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net for bugs and library surprises: one line, and the traceback with --debug."""
    import clipkit.doctor

    def broken() -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(clipkit.doctor, "gather", broken)
    result = CliRunner().invoke(cli, ["doctor"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: unexpected RuntimeError: disk on fire (run with --debug for the traceback)\n",
    )
    debug = CliRunner().invoke(cli, ["--debug", "doctor"])
    assert isinstance(debug.exception, RuntimeError)


def test_malformed_transcript_numbers_are_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text(
        '{"segments": [{"start": 0, "end": 1, "text": "hi", "words": [{"start": 0, "end": 1, "word": "hi", "probability": "high"}]}]}'
    )
    code, err = error_of("subs", "reshape", str(bad))
    assert (code, err) == (1, f"Error: {bad}: segment 1: malformed word entry\n")


# --- the CLI on a registered fake engine (fast: no model) ------------------------------------


def test_transcribe_on_the_fake_engine_writes_every_format(
    fake_engine: str, tmp_path: Path
) -> None:
    import time

    started = time.monotonic()
    result = invoke(
        "transcribe", str(SAMPLE), "-o", str(tmp_path), "--engine", fake_engine, "--jobs", "1"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == "engine fake, model tiny.en"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "conversation.json", "conversation.srt", "conversation.txt", "conversation.vtt"
    ]  # fmt: skip
    data = json.loads((tmp_path / "conversation.json").read_text(encoding="utf-8"))
    assert (data["engine"], data["model"], data["language"]) == ("fake", "tiny.en", "en")
    cues = (tmp_path / "conversation.srt").read_text(encoding="utf-8")
    # the fake's words over the sample's silences are dropped (no speech near them): the rest
    # are shaped into cues
    assert cues.startswith("1\n00:00:0") and re.search(r"word\d+\. word\d+\.", cues)
    again = invoke(
        "transcribe", str(SAMPLE), "-o", str(tmp_path), "--engine", fake_engine, "--json"
    )
    assert again.exit_code == 0
    assert [r["status"] for r in json.loads(again.stdout)] == ["skipped"]
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "durations_s, at_once",
    [
        ([], 0),
        ([60], 1),
        ([300, 300, 300, 300], 4),
        ([1800, 60], 1),  # one long story: it alone, on every core
        ([300, 100, 100], 2),
        ([300, 150], 2),
        ([0, 0], 1),
    ],
)
def test_recordings_worth_transcribing_at_once(durations_s: list[int], at_once: int) -> None:
    from clipkit.transcribe import parallel_files

    assert parallel_files([s * 1000 for s in durations_s]) == at_once


def test_one_long_recording_gets_every_core(
    tmp_path: Path, media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work decides: a long recording and a short one run one after the other in one
    worker with all the cores' threads, not on two single-thread workers (the short one would
    leave its core idle)."""
    import os

    from clipkit.engines import EngineSpec, register, unregister
    from clipkit.engines.faster import SPEC

    loads: list[int] = []

    def load(model: str, threads: int, options: object) -> FakeEngine:
        loads.append(threads)
        return FakeEngine(model, threads, options)

    register(
        EngineSpec(
            name="fake-cores", module="json", package="clipkit", install="(the tests)",
            resolve_model=lambda name: name, threads=SPEC.threads, load=load,
        )
    )  # fmt: skip
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    short = tmp_path / "short.wav"
    short.write_bytes(media["silence"].read_bytes())
    try:
        result = invoke(
            "transcribe", str(media["gap"]), str(short), "-o", str(tmp_path / "out"),
            "--engine", "fake-cores", "-q",
        )  # fmt: skip
    finally:
        unregister("fake-cores")
    assert result.exit_code == 0, result.output
    assert loads == [4]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.srt")) == ["long gap.srt", "short.srt"]
    assert (SPEC.threads(4, 4), SPEC.threads(2, 1), SPEC.threads(2, 2)) == (1, 2, 1)


def test_engine_choice_lists_registered_engines(fake_engine: str) -> None:
    result = invoke("transcribe", "--help")
    assert "--engine [faster-whisper|openai-whisper|fake]" in result.stdout


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`clipkit … | head -1`: no "Error: Broken pipe" when the reader stops early."""
    import subprocess
    import sys

    big = tmp_path / "big.srt"
    big.write_text(
        "".join(
            f"{k + 1}\n00:{k // 60:02d}:{k % 60:02d},000 --> 00:{k // 60:02d}:{k % 60:02d},900\n"
            f"Line number {k} of a long subtitle file\n\n"
            for k in range(3000)
        ),
        encoding="utf-8",
    )
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    writer = subprocess.run(
        [sys.executable, "-m", "clipkit", "subs", "shift", str(big), "1"],
        stdout=reader.stdin, stderr=subprocess.PIPE, text=True, timeout=60,
    )  # fmt: skip
    assert reader.stdin is not None
    reader.stdin.close()
    reader.wait()
    assert writer.returncode == 0, writer.stderr
    assert writer.stderr == ""


def test_published_urls_are_printed_whole() -> None:
    from clipkit.cli import _short_outputs

    assert _short_outputs(("https://youtu.be/abc123",)) == "https://youtu.be/abc123"
    assert _short_outputs(("/x/a.srt", "/x/a.vtt")) == "/x/a.{srt,vtt}"
