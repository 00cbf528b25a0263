"""`clipkit cut` (extracts) and `clipkit export` (timelines for editing programs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .base import (
    ProgressPrinter,
    _cluster,
    _project,
    audio_track_option,
    cli,
    force_option,
    json_option,
    quiet_option,
    setting_option,
)


@cli.command()
@click.argument("recording", required=False, type=click.Path(path_type=Path))
@click.option(
    "--plan", "plan_file", type=click.Path(path_type=Path), help="A CSV or TOML plan of extracts."
)
@click.option("--start", help="In point: SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF.")
@click.option("--end", help="Out point, in the same forms.")
@click.option("--title", default="", help="Title of the extract (also names its files).")
@click.option("--description", default="", help="Description for the sidecar and publishing.")
@click.option("--tags", default="", help="Comma-separated tags.")
@click.option(
    "--subs",
    type=click.Path(path_type=Path),
    help="Subtitles (SRT/VTT) or transcript JSON of the recording.",
)
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=Path),
    default=Path("extracts"),
    show_default=True,
)
@setting_option("cut", "burn")
@setting_option("cut", "aspect")
@click.option(
    "--fill",
    type=click.Choice(["crop", "blur"]),
    default="crop",
    show_default=True,
    help="Vertical: crop the centre or blur the picture behind it.",
)
@setting_option("cut", "style")
@setting_option("cut", "profile")
@setting_option("cut", "fade")
@setting_option("cut", "loudness")
@audio_track_option("use")
@click.option(
    "--strict",
    is_flag=True,
    help="Cut nothing when any plan row is bad (default: cut the good ones).",
)
@setting_option("cut", "snap")
@click.option(
    "--snap-tolerance",
    default="1.0",
    show_default=True,
    help="How far --snap may move a point, seconds.",
)
@setting_option("cut", "pad")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    help="Extracts encoded at once (default: one per core).",
)
@force_option("Re-make extracts that are up to date.")
@click.option(
    "--dry-run", is_flag=True, help="Print the validated plan and the exact ffmpeg commands."
)
@quiet_option()
@click.option(
    "--only", "only", multiple=True, help="Cut only the extract(s) with this slug (repeatable)."
)
@json_option()
def cut(
    only: tuple[str, ...],
    recording: Path | None,
    plan_file: Path | None,
    start: str | None,
    end: str | None,
    title: str,
    description: str,
    tags: str,
    subs: Path | None,
    output_dir: Path,
    burn: bool,
    aspect: str,
    fill: str,
    style: str | None,
    profile: str | None,
    fade: str,
    loudness: float,
    audio_track: int | None,
    strict: bool,
    snap: str | None,
    snap_tolerance: str,
    pad: str,
    jobs: int | None,
    force: bool,
    dry_run: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Cut frame-accurate extracts with subtitles burnt in, in one encode per extract.

    Either RECORDING with --start/--end, or --plan PLAN.csv|PLAN.toml (columns source, start, end,
    title, description, tags; optional slug, subs, style, pad). Writes NAME.mp4, NAME.srt,
    NAME.vtt and a NAME.json sidecar per extract into the output folder.

    Example: clipkit cut talk.mp4 --start 5:13.4 --end 5:58 --title "Why we started"
    """
    from ..burn import load_style
    from ..cut import CutOptions, cut_all, prepare, state_of
    from ..errors import InputError, PlanError
    from ..profiles import load_profile

    rows, base = _rows(plan_file, recording, start, end, title, description, tags)
    options = CutOptions.from_settings(click.get_current_context().params, output_dir)
    load_profile(profile)  # a bad profile or style is reported before any work
    load_style(style)
    if subs is not None and not subs.is_file():
        raise InputError(f"subtitles {subs} not found")
    prepared = prepare(rows, base, options, only)
    extracts = prepared.extracts
    if dry_run:
        _print_dry_run(extracts, options, force)
        if prepared.problems:
            raise PlanError(prepared.problems)
        return
    with _cluster(lambda: any(state_of(ex, options) != "done" for ex in extracts)) as cluster:
        printer = ProgressPrinter(quiet, verb="cutting")
        results = cut_all(extracts, options, on_event=printer, cluster=cluster)
    _report(results, output_dir, quiet, as_json, prepared.problems)


def _rows(
    plan_file: Path | None, recording: Path | None, start: str | None, end: str | None,
    title: str, description: str, tags: str,
) -> tuple[list[Any], Path]:  # fmt: skip
    """The plan's rows (default: the project's plan), or the one row the command line gives,
    and the folder their paths are relative to."""
    from ..errors import InputError
    from ..plan import PlanRow, read_plan

    project = _project()
    if plan_file is None and recording is None and project is not None:
        plan_file = project.plan
    if plan_file is not None:
        if recording is not None or start or end:
            raise InputError("give either --plan or RECORDING --start --end, not both")
        return read_plan(plan_file), plan_file.parent
    if recording is None or not start or not end:
        raise InputError("give RECORDING --start --end, or --plan PLAN.csv")
    split = tuple(t.strip() for t in tags.split(",") if t.strip())
    row = PlanRow("command line", str(recording), start, end, title, description, split)
    return [row], Path.cwd()


def _print_dry_run(extracts: list[Any], options: Any, force: bool) -> None:
    """Each extract, its state, and the ffmpeg commands cut would run for those not done."""
    import shlex

    from ..cut import DRY_RUN_STATES, dry_run_commands, state_of
    from ..ffmpeg import ffmpeg_argv, find_ffmpeg
    from ..timecode import format_clock

    binary = find_ffmpeg()
    for ex in extracts:
        click.echo(
            f'{ex.row.where}: {ex.slug}: {ex.source.name} {format_clock(ex.start_ms)} -> {format_clock(ex.end_ms)} ({ex.duration_ms / 1000:.3f} s) "{ex.title}"'
        )
        click.echo(f"  subtitles: {ex.subs or 'none'}")
        state = "stale" if force else state_of(ex, options)
        click.echo(f"  state: {DRY_RUN_STATES[state]}")
        for w in ex.warnings:
            click.echo(f"  warning: {w}")
        if state == "stale":  # what cut runs for it; nothing for the others
            for args in dry_run_commands(ex, options):
                click.echo("  " + shlex.join(ffmpeg_argv(binary, args, progress=False)))


def _report(
    results: list[Any], output_dir: Path, quiet: bool, as_json: bool, problems: list[str]
) -> None:
    """The results (as JSON with --json), a summary line, and one error for every problem."""
    from ..errors import PlanError

    if as_json:
        click.echo(json.dumps([
            {"slug": r.extract.slug, "status": r.status, "video": str(r.video) if r.video else None,
             "sidecar": str(r.sidecar) if r.sidecar else None, "loudness": r.loudness, "error": r.error}
            for r in results], indent=2))  # fmt: skip
    if not quiet:
        made = sum(1 for r in results if r.status == "done")
        skipped = sum(1 for r in results if r.status == "skipped")
        updated = sum(1 for r in results if r.status == "updated")
        click.echo(
            f"Cut {made} of {len(results)} extract(s)"
            + (f", {updated} with new metadata only" if updated else "")
            + (f", {skipped} up to date" if skipped else "")
            + f" into {output_dir}",
            err=True,
        )
    failed = [r.error for r in results if r.status == "failed"]
    if failed or problems:
        raise PlanError(problems + failed)


# --- publish and auth ----------------------------------------------------------------------


@cli.command("export")
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(path_type=Path),
    help="The plan (default: the project's).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["fcpxml", "edl", "otio"]), default="otio",
    show_default=True, help="Final Cut Pro XML, CMX 3600 EDL or OpenTimelineIO JSON.",
)  # fmt: skip
@click.option("-o", "--output-dir", type=click.Path(path_type=Path), help="Default: exports/.")
def export_(plan_file: Path | None, fmt: str, output_dir: Path | None) -> None:
    """Export the plan's extracts as editing timelines (one per recording): the extracts as clips
    at their in/out frames, with a marker for each title.

    Example: clipkit export --format fcpxml
    """
    from ..cut import CutOptions, prepare
    from ..errors import InputError
    from ..export import export
    from ..plan import read_plan

    project = _project()
    if plan_file is None:
        if project is None:
            raise InputError("give --plan PLAN.csv (or run inside a project)")
        plan_file = project.plan
    out = output_dir or ((project.root if project else Path.cwd()) / "exports")
    settings = project.settings.get("cut", {}) if project is not None else {}
    options = CutOptions.from_settings({**settings, "burn": False}, out)
    prepared = prepare(read_plan(plan_file), plan_file.parent, options)
    for path in export(prepared.extracts, out, fmt):
        click.echo(str(path))
    if prepared.problems:  # the good rows are exported; the bad ones are not silently dropped
        from ..errors import PlanError

        raise PlanError(prepared.problems)
