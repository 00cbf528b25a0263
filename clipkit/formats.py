"""Every file format clipkit reads or writes, in one table keyed by extension: SRT, WebVTT, ASS
(Aegisub's, through pysubs2), plain text and clipkit's transcript JSON. transcribe, `subs
convert`, `status` and the CLI's choices all read this table; adding a format is one entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import InputError, SubtitleError
from .fsutil import atomic_write_text
from .subtitle_text import parse_srt, parse_vtt, render_srt, render_vtt
from .subtitles import Cue
from .transcript import Transcript, from_json_dict, render_text, to_json_dict, transcript_from_cues


@dataclass(frozen=True)
class Format:
    suffix: str
    description: str
    # text -> cues (None: not read as subtitles); `where` names the file in errors
    parse: Callable[[str, str, bool | None, bool], list[Cue]] | None
    # (cues, transcript) -> text
    render: Callable[[Sequence[Cue], Transcript], str]
    transcript_output: bool  # written by `transcribe` by default


def _render_json(cues: Sequence[Cue], doc: Transcript) -> str:
    return json.dumps(to_json_dict(doc, __version__), ensure_ascii=False, indent=2) + "\n"


def _parse_ass(text: str, where: str, zoom: bool | None, allow_overlap: bool) -> list[Cue]:
    import pysubs2

    try:
        subs = pysubs2.SSAFile.from_string(text, format_="ass")
    except Exception as exc:  # pysubs2 raises several types for malformed files
        raise SubtitleError(f"{where}: not a valid ASS/SSA file ({exc})") from exc
    cues = []
    for event in subs.events:
        if event.is_comment or not event.plaintext.strip():
            continue
        lines = tuple(ln.strip() for ln in event.plaintext.splitlines() if ln.strip())
        cues.append(Cue(start=event.start, end=max(event.end, event.start + 1), lines=lines))
    return sorted(cues, key=lambda c: c.start)


def _render_ass(cues: Sequence[Cue], doc: Transcript) -> str:
    from .burn import BurnStyle, ass_document

    return ass_document(list(cues), BurnStyle(), 1920, 1080)


FORMATS: dict[str, Format] = {
    ".srt": Format(".srt", "SubRip subtitles", lambda t, w, z, o: parse_srt(t, w, o),
                   lambda cues, doc: render_srt(cues), True),
    ".vtt": Format(".vtt", "WebVTT subtitles", parse_vtt,
                   lambda cues, doc: render_vtt(cues), True),
    ".ass": Format(".ass", "Advanced SubStation Alpha (Aegisub)", _parse_ass, _render_ass, False),
    ".txt": Format(".txt", "plain text, a paragraph per speaker turn", None,
                   lambda cues, doc: render_text(doc), True),
    ".json": Format(".json", "clipkit transcript JSON with word timings", None, _render_json, True),
}  # fmt: skip
SUBTITLE_SUFFIXES = tuple(s for s, f in FORMATS.items() if f.parse is not None)
READABLE = (*SUBTITLE_SUFFIXES, ".json")
WRITABLE = tuple(FORMATS)
TRANSCRIPT_OUTPUTS = tuple(s.lstrip(".") for s, f in FORMATS.items() if f.transcript_output)
OUTPUT_NAMES = tuple(s.lstrip(".") for s in FORMATS)


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
            from .fsutil import UTF8_HINT

            raise SubtitleError(f"{path}: not UTF-8 text; {UTF8_HINT}") from exc


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
    suffix = _suffix(path, SUBTITLE_SUFFIXES, "subtitle")
    parse = FORMATS[suffix].parse
    assert parse is not None
    return parse(read_text(path), str(path), zoom_speakers, allow_overlap)


def has_cues(path: Path | None) -> bool:
    """Whether a subtitle file exists and holds any text: an extract with no speech in it gets
    an empty SRT, which is no subtitles rather than a broken file."""
    if path is None or not path.is_file():
        return False
    head = read_text(path).lstrip("\ufeff").strip()
    return bool(head) and head != "WEBVTT"


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
    """The text for `path`'s format: cues for subtitles, the transcript for TXT/JSON."""
    suffix = _suffix(path, tuple(FORMATS), "output")  # read now: a format added is one entry
    doc = transcript if transcript is not None else transcript_from_cues(list(cues))
    return FORMATS[suffix].render(cues, doc)


def render_styled_ass(
    cues: Sequence[Cue], transcript: Transcript, style_name: str, width: int, height: int
) -> str:
    """An ASS script in a burn-in style for a `width`x`height` frame; a style with a highlight
    colour (`shorts`) colours each word while it is said, from the transcript's word timings."""
    from .burn import ass_document, load_style

    style = load_style(style_name)
    words = list(transcript.words) if style.highlight_colour and transcript.words else None
    return ass_document(list(cues), style, width, height, words)


def write(path: Path, cues: Sequence[Cue], transcript: Transcript | None = None) -> None:
    text = render(path, cues, transcript)
    atomic_write_text(path, text)
