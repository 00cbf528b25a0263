"""Choosing moments and showing stories: speakers, review, select, find, archive."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from .base import (
    LABELS_OPTION,
    PROFILE_OPTION,
    _project_arg,
    cli,
    json_option,
    quiet_option,
    setting_option,
)


@cli.command("speakers")
@click.argument("transcript", type=click.Path(path_type=Path))
@click.option(
    "--name", "names", multiple=True, required=True, help='A new name: "Speaker 1=Amira".'
)
@PROFILE_OPTION
@LABELS_OPTION
def speakers_(
    transcript: Path, names: tuple[str, ...], profile: str | None, speaker_labels: str
) -> None:
    """Rename speakers in a transcript JSON and in its SRT, VTT and TXT beside it.

    Example: clipkit speakers transcripts/talk.json --name "Speaker 1=Amira"
    """
    from ..errors import InputError
    from ..speakers import rename_files

    pairs = {}
    for item in names:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise InputError(f'--name {item!r}: give OLD=NEW, e.g. "Speaker 1=Amira"')
        pairs[old.strip()] = new.strip()
    for path in rename_files(transcript, pairs, profile, speaker_labels):
        click.echo(str(path))


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--storyteller",
    help="Serve NAME's sign-off page instead: only their extracts, each to approve or decline.",
)
def review(directory: Path | None, port: int, storyteller: str | None) -> None:
    """Choose moments in the browser: the story archive in editor mode on 127.0.0.1. Select
    transcript text, play exactly that range, name it, and save it as a plan row.

    Example: clipkit review (then open the address it prints)
    """

    from ..review import start_review

    server, url = start_review(_project_arg(directory), port, storyteller)
    click.echo(f"Open {url} (Ctrl-C stops the server; the token in it is this run's key)", err=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.shutdown()
        server.server_close()


@cli.command("select")
@click.argument("recordings", nargs=-1, type=click.Path(path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Turn the ticked moments into plan rows.")
@click.option(
    "--pad", default="0.2", show_default=True, help="Lead-in and lead-out of each moment, seconds."
)
@quiet_option("Only warnings and errors.")
def select_(recordings: tuple[Path, ...], apply_: bool, pad: str, quiet: bool) -> None:
    """Choose the moments in the transcript: write selections/NAME.md per recording (ticks and
    headings you add are kept on every run); --apply makes plan.csv rows of the ticked runs.

    Example: clipkit select, tick the moments, then clipkit select --apply
    """
    from ..project import project_recordings
    from ..select import apply_selections, write_selections
    from ..timecode import parse_timecode

    project = _project_arg(None)
    if apply_:
        for origin, count in apply_selections(project, parse_timecode(pad)).items():
            if not quiet:
                click.echo(f"{origin}: {count} moment(s) -> {project.plan.name}", err=True)
        return
    chosen = [Path(r).resolve() for r in recordings] or project_recordings(project)
    written, warnings = write_selections(project, chosen)
    for warning in warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not quiet:
        for path in written:
            click.echo(f"{path.relative_to(project.root)}: tick the moments, head each with "
                       "`## Title | description | tags`, then `clipkit select --apply`", err=True)  # fmt: skip


@cli.command()
@click.argument("query")
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--regex", is_flag=True, help="QUERY is a regular expression (case-insensitive).")
@click.option(
    "--context",
    "-C",
    "context",
    default=0,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Sentences shown before and after.",
)
@click.option(
    "--to-plan", is_flag=True, help="Append the hits to plan.csv, cut at sentence bounds."
)
@click.option("--pick", help="Only these hits, by the numbers printed: 1,3.")
@click.option("--recording", help="Only hits in this recording (its file name or stem).")
@click.option("--speaker", help="Only what this speaker said (as the transcript names them).")
@click.option("--csv", "as_csv", is_flag=True, help="Print the hits as plan rows to paste.")
@json_option("Print hits as JSON.")
def find(
    query: str,
    directory: Path | None,
    regex: bool,
    context: int,
    to_plan: bool,
    pick: str | None,
    recording: str | None,
    speaker: str | None,
    as_csv: bool,
    as_json: bool,
) -> None:
    """Search every transcript of a project for a phrase (or --regex); exit 1 when nothing matches.

    Example: clipkit find "community centre" --context 1
    """
    from ..archive import load_transcripts, recording_paths
    from ..find import filter_hits, pick_hits, plan_rows, search
    from ..plan import rows_csv, update_plan
    from ..timecode import format_clock

    project = _project_arg(directory)
    transcripts = load_transcripts(project)
    hits = search(transcripts, query, regex=regex, context=context)
    hits = filter_hits(hits, recording, speaker)
    numbered = list(enumerate(hits, start=1))
    if pick:
        numbered = pick_hits(numbered, pick)
    if as_json:
        click.echo(json.dumps([
            {"number": n, "recording": h.recording, "start": h.start / 1000, "end": h.end / 1000,
             "timecode": format_clock(h.start), "speaker": h.speaker, "matched": h.matched,
             "text": " ".join(s.text for s in h.sentences),
             "clip_start": h.clip_start / 1000, "clip_end": h.clip_end / 1000} for n, h in numbered
        ], indent=2, ensure_ascii=False))  # fmt: skip
    elif as_csv:
        rows = plan_rows([h for _, h in numbered], recording_paths(project, transcripts))
        click.echo(rows_csv(rows), nl=False)
    else:
        for n, h in numbered:
            who = f"{h.speaker}: " if h.speaker else ""
            text = " ".join(s.text for s in h.sentences)
            click.echo(f"{n:>3}  {h.recording}  {format_clock(h.start)}  {who}{text}")
    if not numbered:
        click.echo(f"No matches for {query!r} in {len(transcripts)} transcript(s).", err=True)
        raise SystemExit(1)
    if to_plan:
        rows = plan_rows([h for _, h in numbered], recording_paths(project, transcripts))
        added = update_plan(project.plan, rows)
        click.echo(f"Added {added} row(s) to {project.plan}", err=True)


@cli.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where the site goes (default: the project's site/).",
)
@click.option(
    "--link-media",
    is_flag=True,
    help="Link recordings and extracts where they lie (viewing here) instead of putting them "
    "into the site.",
)
@setting_option("archive", "title")
@click.option(
    "--editor", is_flag=True, help="Add the panel that turns selected text into plan rows."
)
def archive(
    directory: Path | None,
    output_dir: Path | None,
    link_media: bool,
    title: str | None,
    editor: bool,
) -> None:
    """Build a static story archive: a page per story with its video, captions, a transcript
    that seeks the player, its extracts, and a search over every transcript.

    Example: clipkit archive --title "Our Voices"
    """
    from ..archive import build_site

    project = _project_arg(directory)
    out = output_dir or project.root / "site"
    result = build_site(project, out, link_media=link_media, title=title, editor=editor)
    for note in result.notes:
        click.echo(f"Warning: {note}", err=True)
    click.echo(f"Wrote {len(result.pages)} story page(s) and the index: {result.index}")
