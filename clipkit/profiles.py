"""Subtitle profiles: TOML files naming the reading-speed and layout rules."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from .errors import ConfigError
from .resources import configs_dir
from .subtitles import Profile

DEFAULT_PROFILE = "netflix-en"


def available_profiles() -> list[str]:
    return sorted(p.stem for p in (configs_dir() / "profiles").glob("*.toml"))


def load_profile(name_or_path: str | None = None) -> Profile:
    """A shipped profile by name (`netflix-en`, `bbc`, `vertical`) or a TOML file path."""
    name_or_path = name_or_path or DEFAULT_PROFILE
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = configs_dir() / "profiles" / f"{name_or_path}.toml"
        if not path.is_file():
            known = ", ".join(available_profiles())
            raise ConfigError(f"unknown subtitle profile {name_or_path!r} (known: {known})")
    elif not path.is_file():
        raise ConfigError(f"{path}: no such profile file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text") from exc
    table = data.get("profile", data)
    known = {f.name: f.type for f in fields(Profile)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(f"{path}: unknown profile key(s): {', '.join(unknown)}")
    values = {"name": path.stem, **table}
    try:
        profile = Profile(**values)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for f in fields(Profile):
        value = getattr(profile, f.name)
        if f.name != "name" and (not isinstance(value, int | float) or value < 0):
            raise ConfigError(f"{path}: {f.name} must be a non-negative number")
    return profile
