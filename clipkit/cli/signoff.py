"""`clipkit signoff`: the storyteller approves or declines each extract before it goes public."""

from __future__ import annotations

import json

import click

from .base import _project_arg, cli, json_option


@cli.command("signoff")
@click.argument("slugs", nargs=-1)
@click.option("--approve", "action", flag_value="approved", help="The storyteller approves them.")
@click.option("--decline", "action", flag_value="declined", help="The storyteller declines them.")
@click.option("--reset", "action", flag_value="pending", help="Back to pending (ask again).")
@click.option("--by", default="", help="Who signs off: the storyteller's name.")
@click.option("--note", default="", help="What they said, for the record.")
@json_option("Print every extract's sign-off as JSON.")
def signoff(slugs: tuple[str, ...], action: str | None, by: str, note: str, as_json: bool) -> None:
    """Record the storyteller's sign-off of extracts (by slug), or list every extract's. With
    `[signoff] required = true`, publish and archive take only approved extracts.

    Example: clipkit signoff growing-up-in-leeds --approve --by "Tom Price"
    """
    from ..errors import InputError
    from ..signoff import extracts_of, load_signoffs, record_signoff, required, state_of

    project = _project_arg(None)
    extracts = extracts_of(project.extracts)
    if action:
        if not slugs:
            raise InputError("name the extracts (their slugs) to sign off")
        unknown = [s for s in slugs if s not in extracts]
        if unknown:
            raise InputError(
                f"no extract {', '.join(map(repr, unknown))} in {project.extracts} "
                f"(known: {', '.join(sorted(extracts)) or 'none'})"
            )
        record_signoff(project.extracts, [(s, extracts[s][0]) for s in slugs], action, by, note)
        for slug in slugs:
            click.echo(f"{slug}: {action}" + (f" by {by.strip()}" if action != "pending" else ""))
        return
    records = load_signoffs(project.extracts)
    rows = []
    for slug, (sha, title, recording) in extracts.items():
        if slugs and slug not in slugs:
            continue
        record = records.get(slug)
        rows.append({"slug": slug, "title": title, "recording": recording,
                     "state": state_of(records, slug, sha),
                     "by": record.by if record else "", "at": record.at if record else "",
                     "note": record.note if record else ""})  # fmt: skip
    if as_json:
        click.echo(json.dumps({"required": required(project.settings), "extracts": rows}, indent=2,
                              ensure_ascii=False))  # fmt: skip
        return
    for r in rows:
        who = f" by {r['by']} ({r['at']})" if r["by"] and r["state"] != "pending" else ""
        click.echo(f"{r['state']:<9} {r['slug']}{who}")
    if not required(project.settings):
        click.echo(
            "Note: [signoff] required is false: publish and archive do not ask for it", err=True
        )
