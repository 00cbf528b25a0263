"""Project folders: `recordings/`, `transcripts/`, `extracts/`, `plan.csv`, `clipkit.toml`.

A project's `clipkit.toml` supplies option defaults to every command (flags override them).
"""

from __future__ import annotations

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
