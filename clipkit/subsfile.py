"""Reading and writing subtitle and transcript files by their extension (SRT, WebVTT, JSON, TXT)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import InputError, SubtitleError
from .fsutil import atomic_write_text
from .subtitles import Cue, parse_srt, parse_vtt, render_srt, render_vtt
from .transcript import Transcript, from_json_dict, render_text, to_json_dict, transcript_from_cues

READABLE = (".srt", ".vtt", ".json")
WRITABLE = (".srt", ".vtt", ".txt", ".json")


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{path}: is a directory") from exc
    if b"\x00" in raw:
        raise SubtitleError(f"{path}: not a subtitle file (binary data)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp1252")  # subtitles saved by older Windows tools
        except UnicodeDecodeError as exc:
            raise SubtitleError(f"{path}: not UTF-8 text") from exc


def _suffix(path: Path, allowed: Sequence[str], what: str) -> str:
    suffix = path.suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"{path}: unsupported {what} format {suffix or '(none)'!r} (use {', '.join(allowed)})"
        )
    return suffix


def read_cues(
    path: Path, zoom_speakers: bool | None = None, allow_overlap: bool = False
) -> list[Cue]:
    suffix = _suffix(path, (".srt", ".vtt"), "subtitle")
    text = read_text(path)
    if suffix == ".srt":
        return parse_srt(text, str(path), allow_overlap)
    return parse_vtt(text, str(path), zoom_speakers, allow_overlap)


def read_transcript(path: Path, zoom_speakers: bool | None = None) -> Transcript:
    """A transcript from clipkit JSON, or from SRT/VTT cues (word times spread by characters)."""
    suffix = _suffix(path, READABLE, "transcript")
    if suffix == ".json":
        try:
            data = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            raise SubtitleError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        return from_json_dict(data, str(path))
    return transcript_from_cues(read_cues(path, zoom_speakers), source=str(path))


def render(path: Path, cues: Sequence[Cue], transcript: Transcript | None = None) -> str:
    """The text for `path`'s format: cues for SRT/VTT, the transcript for TXT/JSON."""
    suffix = _suffix(path, WRITABLE, "output")
    if suffix == ".srt":
        return render_srt(cues)
    if suffix == ".vtt":
        return render_vtt(cues)
    doc = transcript if transcript is not None else transcript_from_cues(list(cues))
    if suffix == ".txt":
        return render_text(doc)
    return json.dumps(to_json_dict(doc, __version__), ensure_ascii=False, indent=2) + "\n"


def write(path: Path, cues: Sequence[Cue], transcript: Transcript | None = None) -> None:
    text = render(path, cues, transcript)
    atomic_write_text(path, text)
