"""`clipkit report`: the findings report across stories, as HTML and DOCX."""

from __future__ import annotations

from pathlib import Path

import click

from .base import _project_arg, cli


@cli.command("report")
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("-o", "--output-dir", type=click.Path(path_type=Path), help="Default: report/.")
@click.option(
    "--archive-url",
    default="../site/",
    show_default=True,
    help="Where the story archive is published (each quote links to its moment there).",
)
@click.option("--title", help="The report's title (default: the playlist title).")
def report(
    directory: Path | None, output_dir: Path | None, archive_url: str, title: str | None
) -> None:
    """Write the findings report: per theme (the plan rows' tags, else the stories' themes) the
    quotes in the transcripts' words, who said them, and a link to each moment in the archive;
    as report/index.html (prints to PDF) and report/findings.docx.

    Example: clipkit report --archive-url https://example.org/stories/
    """
    from ..report import gather, write_report

    project = _project_arg(directory)
    findings = gather(project, archive_url, title)
    for note in findings.notes:
        click.echo(f"Warning: {note}", err=True)
    for path in write_report(project, findings, output_dir or project.root / "report"):
        click.echo(str(path))
