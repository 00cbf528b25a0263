"""Project folders: `recordings/`, `transcripts/`, `extracts/`, `plan.csv`, `clipkit.toml`.

A project's `clipkit.toml` supplies option defaults to every command (flags override them).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError
from .settings import SECTIONS, render_config, section_settings

CONFIG_NAME = "clipkit.toml"
PLAN_HEADER = "source,start,end,title,description,tags\n"
FOLDERS = ("recordings", "transcripts", "extracts")


@dataclass(frozen=True)
class Project:
    root: Path
    settings: dict[str, dict[str, Any]]

    @property
    def recordings(self) -> Path:
        return self.root / "recordings"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def extracts(self) -> Path:
        return self.root / "extracts"

    @property
    def plan(self) -> Path:
        return self.root / "plan.csv"

    def default_map(self) -> dict[str, dict[str, Any]]:
        """click's default_map: clipkit.toml values become option defaults."""
        out: dict[str, dict[str, Any]] = {}
        for section in SECTIONS:
            values = self.settings.get(section, {})
            out[section] = {
                s.key: values[s.key]
                for s in section_settings(section)
                if s.option and s.key in values and values[s.key] != ""
            }
        return out


def find_project(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding a clipkit.toml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


def load_project(root: Path) -> Project:
    path = root / CONFIG_NAME
    if not path.is_file():
        raise InputError(
            f"{root}: not a clipkit project (no {CONFIG_NAME}; `clipkit init {root}` makes one)"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc  # the message carries the line and column
    except UnicodeDecodeError as exc:
        from .fsutil import UTF8_HINT

        raise ConfigError(f"{path}: not UTF-8 text; {UTF8_HINT}") from exc
    problems = []
    for section, values in data.items():
        if section not in SECTIONS or not isinstance(values, dict):
            problems.append(f"unknown section [{section}]")
            continue
        known = {s.key: s for s in section_settings(section)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            problems.append(f"unknown key(s) in [{section}]: {', '.join(unknown)}")
        for key, value in values.items():
            if key in unknown or value == "":  # "": the default
                continue
            try:
                known[key].check(value)
            except InputError as exc:
                problems.append(f"[{section}] {key} = {value!r}: {exc}")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return Project(root.resolve(), data)


def init_project(root: Path, playlist: str | None = None) -> list[Path]:
    """Create the folders, an empty plan and a documented clipkit.toml; never overwrite."""
    made: list[Path] = []
    root.mkdir(parents=True, exist_ok=True)
    for name in FOLDERS:
        folder = root / name
        if not folder.exists():
            folder.mkdir()
            made.append(folder)
    plan = root / "plan.csv"
    if not plan.exists():
        plan.write_text(PLAN_HEADER, encoding="utf-8")
        made.append(plan)
    config = root / CONFIG_NAME
    if not config.exists():
        title = playlist or root.resolve().name
        config.write_text(render_config({("publish", "playlist"): title}), encoding="utf-8")
        made.append(config)
    from .stories import EXAMPLE, STORIES_NAME

    stories = root / STORIES_NAME
    if not stories.exists():
        stories.write_text(EXAMPLE, encoding="utf-8")
        made.append(stories)
    return made


# --- make rules ----------------------------------------------------------------------------

STATE_DIR = ".clipkit"
RECORDING_SUFFIXES = {
    ".mp4",
    ".m4a",
    ".mov",
    ".mkv",
    ".webm",
    ".wav",
    ".mp3",
    ".aac",
    ".flac",
    ".ogg",
    ".opus",
    ".avi",
    ".m4v",
    ".mts",
    ".3gp",
    ".wma",
    ".amr",
}


def recording_id(recording: Path) -> str:
    """A recording's safe name in make rules and state stamps (file names may hold spaces)."""
    from .plan import slugify

    return slugify(recording.name, 60)


def check_recording_names(recordings: list[Path]) -> None:
    """One recording per id and per transcript: two names that slugify alike would share one
    make rule, and story.mp4 beside story.m4a one transcript (one of them never transcribed)."""
    by_id: dict[str, Path] = {}
    by_stem: dict[str, Path] = {}
    for rec in recordings:
        for table, key, what in ((by_id, recording_id(rec), "make name"),
                                 (by_stem, rec.stem, "transcript")):  # fmt: skip
            other = table.setdefault(key, rec)
            if other != rec:
                raise InputError(
                    f"recordings {other.name!r} and {rec.name!r} would share one {what} "
                    f"({key}); rename one of them"
                )


def project_recordings(project: Project) -> list[Path]:
    if not project.recordings.is_dir():
        return []
    return sorted(
        p for p in project.recordings.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in RECORDING_SUFFIXES
    )  # fmt: skip


def _quote(path: Path | str) -> str:
    """A shell word for a make recipe: single-quoted, with make's `$` doubled."""
    import shlex

    return shlex.quote(str(path)).replace("$", "$$")


def _write_if_changed(path: Path, text: str) -> None:
    """Keep the mtime (what make compares) unless the content really changed."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    from .fsutil import atomic_write_text

    atomic_write_text(path, text)  # a make starting beside us never reads half a file


def _link_subtitles(project: Project, row: Any, source: Path, link: Path) -> bool:
    """`link` pointed at the subtitles `cut` would burn into this row's extract; False (and no
    link) while there are none."""
    from .cut import find_subtitles

    subs = (project.plan.parent / row.subs) if row.subs else find_subtitles(source)
    if subs is None or not subs.is_file():
        if link.is_symlink():
            link.unlink()
        return False
    _link(link, Path(os.path.relpath(subs.absolute(), link.parent.absolute())))
    return True


def _link(link: Path, target: Path) -> None:
    """`link` pointing at `target`, replaced in one step (two makes writing rules at once must
    not find a half-made link, or fail on each other's)."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    temp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    temp.symlink_to(target)
    os.replace(temp, link)


def write_rules(project: Project, clipkit: str) -> Path:
    """Write `.clipkit/rules.mk` (see `_write_rules`) under its lock: two makes starting at once
    both regenerate it, one after the other."""
    from .fsutil import item_lock

    state = project.root / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    with item_lock(state / "rules.mk"):
        return _write_rules(project, clipkit)


_MAKE = "$(CLIPKIT_PROJECT)"  # every path in rules.mk goes through it


def _write_rules(project: Project, clipkit: str) -> Path:
    """Write `.clipkit/rules.mk`: one rule per recording (transcript <- recording) and one per
    plan row (extract <- its row, its recording, its transcript), on safe stamp names.

    make cannot name files with spaces, so each recording gets a safe-named link under
    `.clipkit/in/` and each plan row a `.clipkit/rows/SLUG.row` file rewritten only when the row
    changes; the recipes pass the real paths to clipkit, quoted.
    """
    root = project.root
    bad = sorted({c for c in str(root) if c in " :#%;|\\\n"})
    if bad:  # make splits or misreads a rule whose file names hold these
        shown = " ".join(repr(c) for c in bad)
        raise InputError(
            f"{root}: make cannot name files in a folder whose path holds {shown}; move or "
            "link the project to a path without them (clipkit's own commands work there too)"
        )
    state = root / STATE_DIR
    for sub in ("in", "rows", "done", "failed"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    ids, names = _recording_links(project, state)
    p = _MAKE
    lines = [
        "# Generated by clipkit from plan.csv and recordings/; do not edit.",
        "# Paths go through CLIPKIT_PROJECT (the Makefile sets it from PROJECT), so a project",
        "# copied or moved elsewhere (cp -a) is still up to date where it now is.",
        f"CLIPKIT_PROJECT ?= {root}",
        f"CLIPKIT_RUN := {clipkit} --project {p}",
        "",
        "# moments ticked in selections/*.md become plan rows (clipkit select --apply)",
        f"{p}/plan.csv: $(wildcard {p}/selections/*.md)",
        "\t@$(CLIPKIT_RUN) select --apply",
        "",
    ]
    transcripts = []
    for rid in sorted(names):
        stamp = f"{p}/{STATE_DIR}/done/{rid}.transcript"
        transcripts.append(stamp)
        failed = f"{p}/{STATE_DIR}/failed/{rid}.transcript"
        lines += [
            f"{stamp}: {p}/{STATE_DIR}/in/{rid} {p}/clipkit.toml",
            f"\t@$(CLIPKIT_RUN) transcribe {p}/{_quote('recordings/' + names[rid])} --jobs 1 --threads 1 "
            f"&& touch $@ && rm -f {failed} "
            f"|| {{ touch {failed}; exit 1; }}",
            "",
        ]
    extracts = _extract_rules(project, state, ids, lines)
    lines += [
        "CLIPKIT_TRANSCRIPTS := " + " ".join(transcripts),
        "CLIPKIT_EXTRACTS := " + " ".join(extracts),
        "",
    ]
    rules = state / "rules.mk"
    _write_if_changed(rules, "\n".join(lines))
    return rules


def _recording_links(project: Project, state: Path) -> tuple[dict[Path, str], dict[str, str]]:
    """A safe-named link under .clipkit/in/ per recording (stale ones removed): ({recording:
    id}, {id: its file name in recordings/})."""
    ids: dict[Path, str] = {}
    names: dict[str, str] = {}
    recordings = project_recordings(project)
    check_recording_names(recordings)
    for rec in recordings:
        rid = recording_id(rec)
        ids[rec.resolve()] = rid
        names[rid] = rec.name
        _link(state / "in" / rid, Path("..") / ".." / "recordings" / rec.name)
    for name in {p.name for p in (state / "in").iterdir()} - set(ids.values()):
        (state / "in" / name).unlink()
    return ids, names


def _extract_rules(
    project: Project, state: Path, ids: dict[Path, str], lines: list[str]
) -> list[str]:
    """A rule per plan row appended to `lines`; returns the extracts' stamps."""
    import json

    from .cut import provisional_slug
    from .plan import read_plan

    p = _MAKE
    extracts = []
    rows = read_plan(project.plan) if project.plan.is_file() else []
    seen: set[str] = set()
    for row in rows:
        source = (
            (project.root / row.source).resolve()
            if not Path(row.source).is_absolute()
            else Path(row.source)
        )
        rid = ids.get(source)
        if rid is None:
            raise InputError(
                f"{row.where}: source {row.source!r} is not a recording of this project ({project.recordings})"
            )
        slug = provisional_slug(row)
        if slug in seen:
            continue  # clipkit cut reports the duplicate with both rows
        seen.add(slug)
        row_file = state / "rows" / f"{slug}.row"
        _write_if_changed(
            row_file, json.dumps(row.fields, sort_keys=True, ensure_ascii=False) + "\n"
        )
        # the subtitles it burns in, through a safe-named link: a hand-corrected SRT is newer
        # than the extract, and make remakes it
        subs_link = _link_subtitles(project, row, source, state / "rows" / f"{slug}.subs")
        stamp = f"{p}/{STATE_DIR}/done/{slug}.extract"
        failed = f"{p}/{STATE_DIR}/failed/{slug}.extract"
        extracts.append(stamp)
        lines += [
            f"{stamp}: {p}/{STATE_DIR}/rows/{slug}.row {p}/{STATE_DIR}/in/{rid} {p}/{STATE_DIR}/done/{rid}.transcript "
            f"{p}/clipkit.toml" + (f" {p}/{STATE_DIR}/rows/{slug}.subs" if subs_link else ""),
            f"\t@$(CLIPKIT_RUN) cut --only {_quote(slug)} --jobs 1 && touch $@ && rm -f {failed} "
            f"|| {{ touch {failed}; exit 1; }}",
            "",
        ]
    return extracts
