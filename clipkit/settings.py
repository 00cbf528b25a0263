"""Every setting of a project, declared once.

A setting has a section (the command that reads it), a key, a kind, a default and one line of
help. The command-line options of those commands, the validation of a project's clipkit.toml,
the documented `configs/clipkit.toml` (written by `render_config`) and the defaults of the
options dataclasses are all made from, or checked against, this table (tests/test_settings.py).
Adding a setting is one row here; the command that reads it takes `setting_option(...)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ClipkitError, InputError

PRIVACY = ("private", "unlisted", "public")  # what YouTube accepts for videos and playlists
SPEAKER_MODES = ("off", "auto", "files", "channels")
SPEAKER_LABELS = ("none", "prefix", "dash")
ASPECTS = ("source", "9:16")
SNAPS = ("words", "silence", "off")
LOUDNESS_LUFS = (-31.0, -5.0)  # what loudnorm accepts as an integrated target
SPEAKER_COUNT = (1, 20)


@dataclass(frozen=True)
class Setting:
    section: str  # the command that reads it ([cluster]: every command that runs on a cluster)
    key: str
    kind: str  # text bool number count seconds choice terms colour engine profile style
    default: Any  # what the command does when nothing says otherwise; None: decided at run time
    help: str  # --help and the comment in configs/clipkit.toml
    choices: tuple[str, ...] = ()
    low: float | None = None  # number and count: the range allowed
    high: float | None = None
    unit: str = ""  # number and count: what is counted, for messages ("LUFS", "people")
    option: bool = True  # also a command-line option of its section's command
    example: Any = None  # shown (commented out) in configs/clipkit.toml when default is None
    template: Any = None  # what `clipkit init` writes, where a project is better off with it

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def written(self) -> Any:
        """The value `clipkit init` writes into a new project's clipkit.toml."""
        return self.default if self.template is None else self.template

    def check(self, value: Any) -> None:
        """Raise InputError saying what the value must be."""
        CHECKS[self.kind](self, value)


def _text(s: Setting, value: Any) -> None:
    if not isinstance(value, str):
        raise InputError("must be a string")


def _bool(s: Setting, value: Any) -> None:
    if not isinstance(value, bool):
        raise InputError("must be true or false")


def _of(s: Setting) -> str:
    return f" of {s.unit}" if s.unit else ""


def _number(s: Setting, value: Any) -> None:
    number = not isinstance(value, bool) and isinstance(value, int | float)
    if not number or not s.low <= value <= s.high:  # type: ignore[operator]
        raise InputError(f"must be a number{_of(s)} from {s.low:g} to {s.high:g}")


def _count(s: Setting, value: Any) -> None:
    whole = not isinstance(value, bool) and isinstance(value, int)
    if not whole or not s.low <= value <= s.high:  # type: ignore[operator]
        raise InputError(f"must be a whole number{_of(s)} from {s.low:g} to {s.high:g}")


def _seconds(s: Setting, value: Any) -> None:
    from .timecode import parse_timecode

    parse_timecode(str(value))


def _choice(s: Setting, value: Any) -> None:
    if value not in s.choices:
        raise InputError(f"must be one of {', '.join(repr(a) for a in s.choices)}")


def _terms(s: Setting, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise InputError('must be a list of words and names, e.g. ["co-production", "Leeds"]')


def _colour(s: Setting, value: Any) -> None:
    if not isinstance(value, str) or not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise InputError('must be a colour like "#0b57d0"')


def _named(s: Setting, value: Any) -> None:
    """An engine, profile or style the library knows (or a TOML file where allowed)."""
    _text(s, value)
    try:
        if s.kind == "engine":
            from .engines import engine_spec

            engine_spec(value)
        elif s.kind == "profile":
            from .profiles import load_profile

            load_profile(value)
        else:
            from .burn import load_style

            load_style(value)
    except ClipkitError as exc:
        raise InputError(str(exc)) from exc


CHECKS: dict[str, Callable[[Setting, Any], None]] = {
    "text": _text, "bool": _bool, "number": _number, "count": _count, "seconds": _seconds,
    "choice": _choice, "terms": _terms, "colour": _colour,
    "engine": _named, "profile": _named, "style": _named,
}  # fmt: skip

SETTINGS: tuple[Setting, ...] = (
    # --- transcribe
    Setting("transcribe", "engine", "engine", "faster-whisper", "Speech-to-text engine."),
    Setting("transcribe", "model", "text", "tiny.en",
            "Whisper model name or a local model path (larger models are more accurate)."),
    Setting("transcribe", "language", "text", "auto", "Language code (en, cy, pl, ...) or auto."),
    Setting("transcribe", "translate", "choice", None,
            "Also an English subtitle track (NAME.en.srt, .vtt) on the same cues, for a story "
            "told in another language (Whisper's translate task; a multilingual model).",
            choices=("en",), example="en"),
    Setting("transcribe", "profile", "profile", None,
            "Subtitle profile, or a TOML file (default: the story's language's).",
            example="bbc"),
    Setting("transcribe", "vad", "bool", True,
            "Skip non-speech with voice activity detection (faster-whisper)."),
    Setting("transcribe", "vocabulary", "terms", (),
            "Names and words of your project, comma-separated (repeatable): "
            "\"co-production, People's Voice Media\".", example=["co-production", "Amira"]),
    Setting("transcribe", "initial_prompt", "text", None,
            "Text to steer the engine's style and spelling.",
            example="A conversation about community radio."),
    Setting("transcribe", "speakers", "choice", "off",
            "Who speaks: files (one audio file per participant, e.g. Zoom's audio*.m4a), "
            "channels (one microphone per channel), auto (files or channels where the "
            "recording has them, else told apart by voice).", choices=SPEAKER_MODES),
    Setting("transcribe", "num_speakers", "count", None,
            "How many people speak, if you know (with --speakers auto).",
            low=SPEAKER_COUNT[0], high=SPEAKER_COUNT[1], unit="people", example=2),
    Setting("transcribe", "min_speakers", "count", None,
            "At least this many people speak (with --speakers auto): 2 for an interview, so "
            "two alike voices are not taken for one.",
            low=SPEAKER_COUNT[0], high=SPEAKER_COUNT[1], unit="people", example=2),
    Setting("transcribe", "max_speakers", "count", None,
            "At most this many people speak (with --speakers auto).",
            low=SPEAKER_COUNT[0], high=SPEAKER_COUNT[1], unit="people", example=4),
    Setting("transcribe", "speaker_labels", "choice", "none",
            "Mark speaker turns in the SRT: `NAME: ` prefixes or `- ` dashes (WebVTT has "
            "voices).", choices=SPEAKER_LABELS),
    # --- cut
    Setting("cut", "style", "style", None,
            "Burn-in style (default, boxed), or a TOML file (default: the profile's).",
            example="boxed"),
    Setting("cut", "profile", "profile", None,
            "Subtitle profile for subtitles shaped from a transcript, or a TOML file.",
            example="bbc"),
    Setting("cut", "fade", "seconds", "0.3", "Audio and video fade in/out, seconds (0: none)."),
    Setting("cut", "loudness", "number", -14.0,
            "Target integrated loudness, LUFS (-31 to -5; -14 is YouTube's reference).",
            low=LOUDNESS_LUFS[0], high=LOUDNESS_LUFS[1], unit="LUFS"),
    Setting("cut", "aspect", "choice", "source", "9:16 makes a vertical variant.",
            choices=ASPECTS),
    Setting("cut", "burn", "bool", True, "Burn the subtitles into the picture."),
    Setting("cut", "snap", "choice", "off",
            "Move in/out points out of words, or into pauses; off: as typed.",
            choices=SNAPS, template="words"),
    Setting("cut", "pad", "seconds", "0", "Lead-in and lead-out added to every extract, seconds."),
    # --- publish
    Setting("publish", "playlist", "text", None,
            "Playlist title: found by title, or created.", example="Our Voices 2026"),
    Setting("publish", "privacy", "choice", "private", "Privacy of videos and the playlist.",
            choices=PRIVACY),
    Setting("publish", "captions", "bool", True, "Upload each extract's SRT as a caption track."),
    Setting("publish", "client_secrets", "text", None,
            "OAuth client secrets JSON (Desktop app), if not in $CLIPKIT_HOME.",
            option=False, example="secrets/client_secret.json"),
    # --- cluster (CLIPKIT_SCHEDULER wins over it; see cluster.py)
    Setting("cluster", "scheduler", "text", None,
            "A Dask scheduler's address: transcribe and cut run their work there.",
            option=False, example="tcp://10.0.0.5:8786"),
    # --- archive
    Setting("archive", "title", "text", None,
            "The archive's title (default: the playlist title, else the folder's name).",
            example="Our Voices"),
    Setting("archive", "organisation", "text", None, "Shown at the top of every page.",
            option=False, example="Community Reporters"),
    Setting("archive", "logo", "text", None, "An image in the project.", option=False,
            example="archive/logo.png"),
    Setting("archive", "accent", "colour", "#0b57d0", "Links and buttons.", option=False),
    Setting("archive", "footer", "text", None, "The foot of every page.", option=False,
            example="Stories shared under CC BY-NC 4.0"),
    Setting("archive", "about", "text", None, "A text file in the project: the About page.",
            option=False, example="archive/about.md"),
    # --- signoff
    Setting("signoff", "required", "bool", False,
            "true: each extract goes online only once its storyteller approved it "
            "(clipkit signoff SLUG --approve --by NAME).", option=False),
)  # fmt: skip

SECTIONS: dict[str, str] = {  # a note under each section's heading in configs/clipkit.toml
    "transcribe": "",
    "cut": "",
    "publish": "",
    "cluster": "CLIPKIT_SCHEDULER, where set, wins over it.",
    "archive": "Pages are Jinja2 templates (base.html, style.css): copy one from clipkit's "
    "configs/archive/ into the project's archive/ folder to change it.",
    "signoff": "",
}


def setting(section: str, key: str) -> Setting:
    for s in SETTINGS:
        if (s.section, s.key) == (section, key):
            return s
    raise KeyError(f"{section}.{key}")


def default(section: str, key: str) -> Any:
    return setting(section, key).default


def section_settings(section: str) -> tuple[Setting, ...]:
    return tuple(s for s in SETTINGS if s.section == section)


def _toml_value(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)  # a TOML basic string is a JSON string


def _wrap(text: str, width: int = 98) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width - 2) or [""]


def render_config(values: Mapping[tuple[str, str], Any] | None = None) -> str:
    """The documented clipkit.toml: every setting with its help, a value or a commented-out
    example, as configs/clipkit.toml holds it; `clipkit init` gives a new project's own
    `values` ({(section, key): value}, e.g. its playlist title)."""
    values = values or {}
    lines = [
        "# clipkit.toml: a project's settings. `clipkit init DIR` writes a copy into the project;",
        "# every command run inside the project (or given --project DIR) reads it, and",
        "# command-line flags override it. A line starting with # is an example, not a setting.",
        "# Written by clipkit.settings.render_config: change the table there, not this file.",
    ]
    for section, note in SECTIONS.items():
        lines += ["", f"[{section}]"]
        lines += [f"# {line}" for line in _wrap(note)] if note else []
        for s in section_settings(section):
            lines += [f"# {line}" for line in _wrap(s.help)]
            value = values.get((s.section, s.key), s.written)
            if value is None:
                lines.append(f"# {s.key} = {_toml_value(s.example)}")
            else:
                lines.append(f"{s.key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"
