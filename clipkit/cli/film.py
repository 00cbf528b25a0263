"""`clipkit film`: a film across stories from films/NAME.toml, in one encode."""

from __future__ import annotations

import json

import click

from .base import _project_arg, cli, force_option, json_option, quiet_option


@cli.command("film")
@click.argument("names", nargs=-1)
@click.option("--vertical", is_flag=True, help="A 9:16 film (720x1280) for Shorts and reels.")
@force_option("Render again even when nothing changed.")
@quiet_option()
@json_option()
def film(names: tuple[str, ...], vertical: bool, force: bool, quiet: bool, as_json: bool) -> None:
    """Render the films described in films/NAME.toml (all, or those NAMEs): title card, the
    moments (cut extracts, by slug) crossfaded with their subtitles, lower thirds with the
    storyteller's name, an end card, chapters; films/NAME.mp4 beside .srt, .txt and .json.

    Example: clipkit film what-we-learned
    """
    from ..errors import InputError
    from ..film import render_film

    project = _project_arg(None)
    folder = project.root / "films"
    files = [folder / f"{n.removesuffix('.toml')}.toml" for n in names] or sorted(
        folder.glob("*.toml")
    )
    if not files:
        raise InputError(f"no films to make: write {folder}/NAME.toml (see README, Films)")
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise InputError(f"{missing[0]}: no such film file")
    results = []
    for path in files:
        if not quiet:
            click.echo(f"{path.name}: rendering", err=True)
        result = render_film(project, path, force=force, vertical=vertical)
        for note in result.left_out:
            click.echo(f"Warning: {note}", err=True)
        results.append(result)
        if not quiet:
            state = (
                "up to date, skipped (--force to redo)" if result.status == "skipped" else "done"
            )
            click.echo(f"{result.video} ({result.duration_ms / 1000:.1f} s): {state}", err=True)
    if as_json:
        click.echo(json.dumps([{"name": r.name, "status": r.status, "video": str(r.video),
                                "duration": r.duration_ms / 1000} for r in results], indent=2))  # fmt: skip
    elif quiet:
        for r in results:
            click.echo(str(r.video))
