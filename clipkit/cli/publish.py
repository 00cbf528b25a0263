"""`clipkit publish` and `clipkit auth`: the YouTube playlist."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .base import (
    ProgressPrinter,
    _project,
    cli,
    json_option,
    quiet_option,
    setting_option,
)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@setting_option("publish", "playlist")
@setting_option("publish", "privacy")
@setting_option("publish", "captions")
@click.option("--language", help="Caption and audio language (default: the sidecar's, else en).")
@click.option(
    "--thumbnail-at",
    type=click.FloatRange(0),
    help="A custom thumbnail: the frame this many seconds into each extract.",
)
@click.option("--replace", is_flag=True, help="Replace published extracts whose video has changed.")
@click.option(
    "--prune", is_flag=True, help="Remove playlist items of extracts no longer in the plan."
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the API calls and the quota they would use; upload nothing.",
)
@click.option(
    "--quota-budget",
    type=click.IntRange(0),
    help="Stop before using more quota units than this (default: the daily budget).",
)
@click.option(
    "--chunk-size",
    default=None,
    help="Upload chunk size, a multiple of 256K (default from configs/youtube.toml).",
)
@click.option(
    "--retries", type=click.IntRange(0, 50), help="Retries per request on transient errors."
)
@click.option("--retry-wait", type=float, help="Base of the exponential backoff, seconds.")
@click.option("--timeout", type=float, help="Socket timeout, seconds.")
@click.option(
    "--resync", is_flag=True,
    help="Rebuild the state file from the channel (a new laptop, a lost file); uploads nothing.",
)  # fmt: skip
@quiet_option()
@json_option()
def publish(
    paths: tuple[Path, ...],
    playlist: str,
    privacy: str,
    captions: bool,
    language: str | None,
    replace: bool,
    prune: bool,
    thumbnail_at: float | None,
    dry_run: bool,
    quota_budget: int | None,
    chunk_size: str | None,
    retries: int | None,
    retry_wait: float | None,
    timeout: float | None,
    resync: bool,
    quiet: bool,
    as_json: bool,
) -> None:
    """Upload extracts (folders of NAME.json sidecars, or sidecar files) to a YouTube playlist.

    Resumable and idempotent: an interrupted upload resumes where the server stopped, and an
    extract already uploaded is never uploaded again (state in .clipkit-publish.json beside
    the extracts).

    Example: clipkit publish extracts/ --playlist "Our Voices" --dry-run
    """
    from ..publish import PublishOptions, PublishState, choose_items
    from ..youtube import youtube_config

    costs, settings = youtube_config()
    options = PublishOptions(
        playlist=playlist, privacy=privacy, captions=captions, replace=replace, thumbnail_at=thumbnail_at, prune=prune,
        quota_budget=quota_budget if quota_budget is not None else costs.get("daily_budget"),
        language=language, costs=costs,
        settings=_upload_settings(settings, chunk_size, retries, retry_wait, timeout),
    )  # fmt: skip
    project = _project()
    if not playlist and (paths or project is not None):  # (no extracts at all: said first)
        from ..errors import InputError

        raise InputError(
            "no playlist: pass --playlist TITLE or set [publish] playlist in clipkit.toml"
        )
    items = choose_items(
        paths, language, project, lambda line: click.echo(f"Warning: {line}", err=True)
    )
    state = PublishState.for_items(items, load=not resync)  # --resync starts from nothing
    if dry_run:
        _print_plan(items, state, options)
        return
    _publish_locked(items, state.path, options, resync, quiet, as_json)


def _upload_settings(
    settings: Any,
    chunk_size: str | None,
    retries: int | None,
    wait: float | None,
    timeout: float | None,
) -> Any:
    """configs/youtube.toml's transfer settings with the command line's overrides."""
    from dataclasses import replace

    from ..youtube import parse_size

    if chunk_size:
        settings = replace(settings, chunk_size=parse_size(chunk_size))
    if retries is not None:
        settings = replace(settings, retries=retries)
    if wait is not None:
        settings = replace(settings, retry_base_seconds=wait)
    if timeout is not None:
        settings = replace(settings, timeout_seconds=timeout)
    return settings


def _print_plan(items: list[Any], state: Any, options: Any) -> None:
    from ..publish import UNVERIFIED_NOTE, plan_calls, quota_estimate

    calls = plan_calls(items, state, options)
    units, daily, per_day = quota_estimate(calls, options)
    click.echo(
        f"Would publish {len(items)} extract(s) to playlist {options.playlist!r} ({options.privacy}):"
    )
    for c in calls:
        who = c.item.video.name if c.item else "playlist" if "playlist" in c.call else "channel"
        note = f" ({c.note})" if c.note else ""
        click.echo(f"  {who}: {c.call}{note}  {options.costs.get(c.call, 1)} units")
    for item in items:
        for fix in item.fixups:
            click.echo(f"  note: {item.sidecar.name}: {fix}")
    click.echo(
        f"Estimated quota: {units} units of the {daily}-unit daily budget (budget for this "
        f"run: {options.quota_budget}); a day's quota uploads about {per_day} "
        "extracts with their captions."
    )
    if options.privacy != "private":
        click.echo(f"Note: {UNVERIFIED_NOTE}.")


def _publish_locked(
    items: list[Any], state_path: Path, options: Any, resync: bool, quiet: bool, as_json: bool
) -> None:
    """One publish at a time per folder of extracts: a second run waits, then finds it done."""
    from ..fsutil import item_lock
    from ..publish import Publisher, PublishState
    from ..youtube import connected_channel

    def waiting() -> None:
        click.echo(f"Waiting: another clipkit publish is running on {state_path.parent}", err=True)

    printer = ProgressPrinter(quiet, verb="uploading", skipped="already published")
    with connected_channel(options.settings) as channel, item_lock(state_path, waiting):
        # read only now: the other run may have published
        state = PublishState(state_path, load=not resync)
        publisher = Publisher(channel, state, options, printer)
        if resync:
            found = publisher.resync(items)
            if as_json:
                click.echo(json.dumps({"found": [i.slug for i in found], "of": len(items),
                                       "quota_used": publisher.used}, indent=2))  # fmt: skip
            elif not quiet:
                click.echo(f"Resynced {state.path}: {len(found)} of {len(items)} extract(s) "
                           f"found on the channel; {publisher.used} quota units used", err=True)  # fmt: skip
            return
        outcomes = publisher.run(items)
    _report(outcomes, state.playlist_id(options.playlist), publisher.used, quiet, as_json)


def _report(
    outcomes: list[Any], playlist_id: str | None, used: int, quiet: bool, as_json: bool
) -> None:
    if as_json:
        click.echo(json.dumps({
            "playlist": playlist_id, "quota_used": used,
            "extracts": [{"slug": o.item.slug, "status": o.status, "video_id": o.video_id, "notes": o.notes} for o in outcomes],
        }, indent=2))  # fmt: skip
    if not quiet:
        done = sum(o.status == "published" for o in outcomes)
        already = sum(o.status == "already" for o in outcomes)
        updated = sum(o.status == "updated" for o in outcomes)
        click.echo(
            f"Published {done} of {len(outcomes)} extract(s)"
            + (f", {updated} with new metadata" if updated else "")
            + (f", {already} already published" if already else "")
            + f"; {used} quota units used",
            err=True,
        )
    changed = [o for o in outcomes if o.status == "changed"]
    if changed:
        from ..errors import InputError

        names = ", ".join(o.item.slug for o in changed)
        raise InputError(
            f"{len(changed)} extract(s) changed since they were published ({names}): --replace replaces them"
        )


@cli.group()
def auth() -> None:
    """Log in to YouTube (OAuth), show the saved login, log out."""


@auth.command("login")
@click.option(
    "--client-secrets",
    type=click.Path(path_type=Path),
    help="OAuth client secrets JSON (Desktop app).",
)
@click.option(
    "--browser/--no-browser",
    "open_browser",
    default=True,
    help="Open a browser, or only print the URL.",
)
@click.option("--browser-name", help="Which browser to open (Python's webbrowser names).")
def auth_login(client_secrets: Path | None, open_browser: bool, browser_name: str | None) -> None:
    """Authorise clipkit to upload to your channel; the token is saved with mode 0600.

    Example: clipkit auth login --client-secrets client_secrets.json
    """
    from ..youtube import client_secrets_path, login, token_path

    secrets = client_secrets_path(client_secrets)
    # the sign-in address must show at once, also through a pipe or under make
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    login(
        secrets,
        open_browser=open_browser,
        browser=browser_name,
        prompt="Open this address to authorise clipkit:\n{url}",
    )
    click.echo(f"Logged in; token saved to {token_path()}")


@auth.command("status")
@json_option("Print as JSON.")
def auth_status(as_json: bool) -> None:
    """Show the saved login: scopes, expiry, the channel. Never prints secrets.

    Example: clipkit auth status
    """
    from ..youtube import login_status

    status = login_status()
    if as_json:
        click.echo(json.dumps(status, indent=2))
        return
    if not status["logged_in"]:
        click.echo(f"Not logged in (no token at {status['token_file']}); run `clipkit auth login`.")
        return
    for key, value in status.items():
        if key != "logged_in":
            click.echo(f"{key}: {', '.join(value) if isinstance(value, list) else value}")


@auth.command("logout")
def auth_logout() -> None:
    """Delete the saved token.

    Example: clipkit auth logout
    """
    from ..youtube import logout, token_path

    click.echo(f"Logged out; removed {token_path()}" if logout() else "Not logged in.")
