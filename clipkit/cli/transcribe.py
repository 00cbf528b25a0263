"""`clipkit transcribe`: recordings into subtitles and transcripts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from ..formats import OUTPUT_NAMES, TRANSCRIPT_OUTPUTS
from .base import (
    ProgressPrinter,
    _cluster,
    _project,
    _status,
    audio_track_option,
    cli,
    force_option,
    json_option,
    quiet_option,
    setting_option,
)


@cli.command()
@click.argument("recordings", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=Path),
    help="Where to write outputs (default: beside each recording).",
)
@setting_option("transcribe", "engine")
@setting_option("transcribe", "model")
@setting_option("transcribe", "language")
@setting_option("transcribe", "translate")
@click.option(
    "--format",
    "formats",
    default=",".join(TRANSCRIPT_OUTPUTS),
    show_default=True,
    help=f"Comma-separated outputs, from: {', '.join(OUTPUT_NAMES)}.",
)
@setting_option("transcribe", "vad")
@setting_option("transcribe", "profile")
@click.option("--beam-size", default=5, show_default=True, type=click.IntRange(1, 20))
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), help="Parallel workers (default: one per core)."
)
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="CPU threads per worker (default: 1 for faster-whisper, cores / workers for openai-whisper).",
)
@audio_track_option("transcribe")
@setting_option("transcribe", "speakers")
@setting_option("transcribe", "num_speakers")
@setting_option("transcribe", "min_speakers")
@setting_option("transcribe", "max_speakers")
@click.option(
    "--speaker-audio",
    type=click.Path(path_type=Path),
    help="The folder of per-participant audio (default: beside the recording).",
)
@setting_option("transcribe", "speaker_labels")
@setting_option("transcribe", "vocabulary")
@setting_option("transcribe", "initial_prompt")
@force_option("Redo files whose outputs are up to date.")
@quiet_option()
@json_option()
def transcribe(
    recordings: tuple[Path, ...],
    output_dir: Path | None,
    engine: str,
    model: str,
    language: str,
    translate: str | None,
    formats: str,
    vad: bool,
    profile: str | None,
    beam_size: int,
    jobs: int | None,
    threads: int | None,
    audio_track: int | None,
    speakers: str,
    num_speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    speaker_audio: Path | None,
    speaker_labels: str,
    vocabulary: tuple[str, ...],
    initial_prompt: str | None,
    force: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Transcribe recordings to SRT, WebVTT, plain text and JSON with word timings.

    In a project, with no RECORDINGS: every recording in its recordings/ folder.

    Example: clipkit transcribe recordings/*.mp4 -o transcripts/
    """
    from ..transcribe import TranscribeOptions, transcribe_files

    files = list(recordings) or _project_recordings()
    options = TranscribeOptions.from_settings(click.get_current_context().params)
    started = time.monotonic()
    with _cluster() as cluster:
        results = transcribe_files(
            files,
            output_dir,
            options,
            on_event=ProgressPrinter(quiet),
            on_status=_status(quiet),
            cluster=cluster,
        )
    elapsed = time.monotonic() - started
    _name_speakers(results, profile, options.speaker_labels, quiet)
    _report(results, elapsed, quiet, as_json)


def _project_recordings() -> list[Path]:
    from ..errors import InputError
    from ..project import project_recordings

    project = _project()
    if project is None:
        raise InputError("no recordings given (and no project here to take them from)")
    found = list(project_recordings(project))
    if not found:
        raise InputError(
            f"{project.recordings}: no recordings yet (`clipkit fetch URL|FILE` brings them in)"
        )
    return found


def _name_speakers(results: list[Any], profile: str | None, labels: str, quiet: bool) -> None:
    """In a project, speakers named as its stories.toml names the storyteller and interviewer."""
    project = _project()
    if project is None:
        return
    from ..speakers import names_from_stories
    from ..stories import load_stories

    stories = load_stories(project.root)
    for r in results:
        transcript = next((Path(o) for o in r.outputs if o.endswith(".json")), None)
        if r.status != "failed" and transcript is not None:
            renamed = names_from_stories(stories, Path(r.path), transcript, profile, labels)
            if renamed and not quiet:
                click.echo(f"{transcript.name}: speakers named from stories.toml", err=True)


def _report(results: list[Any], elapsed: float, quiet: bool, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in results], indent=2))
    failed = [r for r in results if r.status == "failed"]
    done = [r for r in results if r.status == "done"]
    if not quiet:
        audio = sum(r.duration_ms for r in done) / 1000
        speed = f", {audio / elapsed:.1f}x real time" if done and elapsed > 0 else ""
        skipped = len(results) - len(done) - len(failed)
        click.echo(
            f"Transcribed {len(done)} of {len(results)} recording(s)"
            + (f", {skipped} up to date" if skipped else "")
            + f" in {elapsed:.1f} s{speed}",
            err=True,
        )
    if failed:
        if len(failed) == 1:
            raise click.ClickException(failed[0].error)
        raise click.ClickException(
            f"{len(failed)} of {len(results)} recordings failed: "
            + "; ".join(r.error for r in failed)
        )
