"""The storyteller's sign-off: per extract, approved or declined by the person whose story it
is, before it goes public. Story-level consent (stories.toml) says the story may go online;
with `[signoff] required = true` in clipkit.toml each extract must also be approved.

An approval holds for the video it was given on (its SHA-256): an extract cut again is pending
again until its storyteller sees the new cut. The record lives in the extracts folder
(`.clipkit-signoff.json`), written under a lock and atomically.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

STATE_NAME = ".clipkit-signoff.json"
STATES = ("pending", "approved", "declined")


@dataclass(frozen=True)
class SignOff:
    slug: str
    state: str  # approved or declined (pending is the absence of a record)
    by: str
    at: str  # ISO 8601, UTC
    sha256: str  # the video the storyteller saw
    note: str = ""


def load_signoffs(folder: Path) -> dict[str, SignOff]:
    path = folder / STATE_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {slug: SignOff(**record) for slug, record in data.get("extracts", {}).items()}
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: the sign-off record is damaged ({exc})") from exc


def state_of(signoffs: dict[str, SignOff], slug: str, sha256: str) -> str:
    """pending, approved or declined, for the extract's video as it is now."""
    record = signoffs.get(slug)
    if record is None:
        return "pending"
    if record.state == "approved" and record.sha256 != sha256:
        return "pending"  # cut again since: the storyteller has not seen this version
    return record.state


def record_signoff(
    folder: Path,
    extracts: Sequence[tuple[str, str]],
    state: str,
    by: str,
    note: str = "",
    now: dt.datetime | None = None,
) -> list[SignOff]:
    """Record `state` (approved, declined, or pending to forget) for (slug, video SHA-256)
    pairs, under the folder's lock; returns what was recorded."""
    from .fsutil import atomic_write_text, item_lock

    if state not in STATES:
        raise InputError(f"sign-off must be one of {', '.join(STATES)}")
    if state != "pending" and not by.strip():
        raise InputError("say who signs off: --by NAME (the storyteller)")
    at = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat()
    path = folder / STATE_NAME
    with item_lock(path):
        current = load_signoffs(folder)
        made = []
        for slug, sha in extracts:
            if state == "pending":
                current.pop(slug, None)
                continue
            current[slug] = SignOff(slug, state, by.strip(), at, sha, note.strip())
            made.append(current[slug])
        data: dict[str, Any] = {
            "format": "clipkit-signoff/1",
            "extracts": {slug: asdict(r) for slug, r in sorted(current.items())},
        }
        atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return made


def required(settings: dict[str, dict[str, Any]]) -> bool:
    return bool(settings.get("signoff", {}).get("required", False))


def left_out(states: dict[str, str]) -> list[str]:
    """One line for each extract not approved, naming it and why."""
    return [
        f"{slug}: left out, its storyteller's sign-off is {state} (clipkit signoff {slug} --approve)"
        for slug, state in states.items()
        if state != "approved"
    ]


def extracts_of(folder: Path) -> dict[str, tuple[str, str, str]]:
    """{slug: (video SHA-256, title, recording)} of the clipkit extracts in `folder`."""
    from .sidecar import NotASidecar, read_sidecar

    out = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            side = read_sidecar(path)
        except NotASidecar:
            continue
        out[side.slug] = (side.sha256, side.title, Path(side.source).name)
    return out
