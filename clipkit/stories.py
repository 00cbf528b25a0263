"""The stories of a project (`stories.toml`): who tells each one, when and where, its themes and
summary, its licence and, above all, its consent. Lived-experience stories go online only with
`consent = "given"`; `archive` and `publish` leave the others out and say so."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .fsutil import read_user_text

STORIES_NAME = "stories.toml"
CONSENT = ("given", "pending", "withheld")
TEXT_KEYS = ("title", "storyteller", "interviewer", "date", "place", "summary", "licence")
EXAMPLE = """# stories.toml: one table per recording in recordings/, keyed by its file name.
# A story goes online (archive, YouTube) only with consent = "given".
#
# [story."Amira & Tom.m4a"]
# title = "Why we started"
# storyteller = "Amira Khan"
# interviewer = "Tom Price"
# date = "2026-03-14"
# place = "Leeds"
# themes = ["co-production", "parents"]
# summary = "How a group of parents won their community centre back."
# licence = "CC BY-NC 4.0"
# consent = "given"          # given, pending or withheld
# speakers = { "Speaker 1" = "Amira Khan", "Speaker 2" = "Tom Price" }  # names in transcripts
"""


@dataclass(frozen=True)
class Story:
    recording: str  # its file name in recordings/
    consent: str = "pending"
    title: str = ""
    storyteller: str = ""
    interviewer: str = ""
    date: str = ""
    place: str = ""
    summary: str = ""
    licence: str = ""
    themes: tuple[str, ...] = field(default=())
    speakers: tuple[tuple[str, str], ...] = ()  # transcript label → name, e.g. Speaker 1 → Amira


def load_stories(root: Path) -> dict[str, Story]:
    """The project's stories by recording file name; {} without a stories.toml."""
    path = root / STORIES_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(read_user_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    tables = data.get("story", {})
    if not isinstance(tables, dict) or set(data) - {"story"}:
        raise ConfigError(f'{path}: expected only [story."recording file"] tables')
    stories = {}
    for name, table in tables.items():
        stories[name] = _story(path, name, table)
    return stories


def _story(path: Path, name: str, table: Any) -> Story:
    where = f'{path}: [story."{name}"]'
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - {*TEXT_KEYS, "themes", "consent", "speakers"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    consent = table.get("consent", "pending")
    if consent not in CONSENT:
        raise ConfigError(f"{where} consent = {consent!r}: must be one of {', '.join(CONSENT)}")
    themes = table.get("themes", [])
    if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
        raise ConfigError(f"{where} themes: must be a list of words")
    for key in TEXT_KEYS:
        if key in table and not isinstance(table[key], str):
            raise ConfigError(f"{where} {key}: must be text")
    speakers = table.get("speakers", {})
    if not isinstance(speakers, dict) or not all(
        isinstance(v, str) and v.strip() for v in speakers.values()
    ):
        raise ConfigError(f'{where} speakers: must be a table like {{ "Speaker 1" = "Amira" }}')
    return Story(name, consent, *(str(table.get(k, "")) for k in TEXT_KEYS[:-1]),
                 licence=str(table.get("licence", "")), themes=tuple(themes),
                 speakers=tuple(speakers.items()))  # fmt: skip


def consent_of(stories: dict[str, Story], recording: str) -> str:
    story = stories.get(recording)
    return story.consent if story else "missing"


def held_back(stories: dict[str, Story], recordings: list[str]) -> list[str]:
    """One line for each recording that may not go online, naming it and why."""
    lines = []
    for name in recordings:
        consent = consent_of(stories, name)
        if consent == "given":
            continue
        why = (
            f"consent is {consent}"
            if consent != "missing"
            else f"it has no table in {STORIES_NAME}"
        )
        lines.append(f'{name}: left out, {why} (consent = "given" puts it online)')
    return lines


def add_story(root: Path, recording: str) -> bool:
    """Append a pending table for a new recording to stories.toml (made if absent), under its
    lock: two fetches at once each add their table."""
    import json

    from .fsutil import atomic_write_text, item_lock

    path = root / STORIES_NAME
    with item_lock(path):
        stories = load_stories(root)
        if recording in stories:
            return False
        text = read_user_text(path) if path.is_file() else EXAMPLE
        key = json.dumps(recording, ensure_ascii=False)  # a valid TOML basic string
        text = (
            text.rstrip("\n")
            + f'\n\n[story.{key}]\ntitle = ""\nstoryteller = ""\nconsent = "pending"\n'
        )
        atomic_write_text(path, text)
    return True
