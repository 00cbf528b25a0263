"""Subtitle profiles: TOML files naming the reading-speed and layout rules."""

from __future__ import annotations

import tomllib
from dataclasses import fields, replace
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


# Reading speed and line length where a language's own subtitling guide differs from the English
# template (Netflix's per-language Timed Text Style Guides, adult programmes): (characters per
# line, target characters per second). The hard ceiling keeps the English template's ratio.
LANGUAGE_RULES: dict[str, tuple[int, float]] = {
    **{code: (42, 17.0) for code in (
        "fr", "de", "es", "it", "pt", "nl", "da", "sv", "no", "nb", "fi", "pl", "cs", "ro",
        "hu", "el", "tr", "hr", "sl", "sk", "bg", "ca", "eu", "gl", "cy", "ga", "lt", "lv",
        "et", "uk", "ar", "he", "hi", "id", "ms", "vi",
    )},
    "ru": (39, 17.0),
    "th": (35, 15.0),
    "ko": (16, 12.0),
    "zh": (16, 9.0),
    "ja": (13, 4.0),
}  # fmt: skip


def profile_for_language(profile: Profile, language: str | None) -> Profile:
    """The shipped default profile follows the transcript's language; a profile the editor
    named (any other name, or a file) is kept as it is."""
    rules = LANGUAGE_RULES.get((language or "").split("-")[0].lower())
    if profile.name != DEFAULT_PROFILE or rules is None:
        return profile
    per_line, target = rules
    ceiling = round(target * profile.max_cps / profile.target_cps, 1)
    return replace(
        profile,
        name=f"{DEFAULT_PROFILE}:{language}",
        max_chars_per_line=per_line,
        target_cps=target,
        max_cps=ceiling,
    )
