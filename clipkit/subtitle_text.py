"""SRT and WebVTT as text: cues rendered (SRT through the `srt` library; WebVTT with its text
escaped, speakers as voice tags) and parsed back, with an error naming the file and line. Pure:
no I/O; times are integer ms.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import srt as srtlib

from .errors import SubtitleError
from .subtitles import Cue
from .timecode import format_vtt_time


def render_srt(cues: Sequence[Cue]) -> str:
    """SRT text (UTF-8 when encoded, no BOM, LF line ends) via the `srt` library."""
    from datetime import timedelta

    items = [
        srtlib.Subtitle(
            index=i,
            start=timedelta(milliseconds=c.start),
            end=timedelta(milliseconds=c.end),
            content=c.text,
        )
        for i, c in enumerate(cues, start=1)
    ]
    return srtlib.compose(items, reindex=False)


def _vtt_escape(text: str) -> str:
    """Cue text as WebVTT reads it: `&`, `<` and `>` escaped (else `<b>` in a transcript, or a
    speaker named `A>B`, would be markup), no blank line (it would end the cue)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\n\s*\n", "\n", text).strip("\n")


def render_vtt(cues: Sequence[Cue]) -> str:
    parts = ["WEBVTT", ""]
    for c in cues:
        text = _vtt_escape(c.text).replace("--&gt;", "-&gt;")
        if c.speaker:
            text = f"<v {_vtt_escape(' '.join(c.speaker.split()))}>{text}"
        parts += [f"{format_vtt_time(c.start)} --> {format_vtt_time(c.end)}", text, ""]
    return "\n".join(parts)


def _subtitle_text(text: str, source: str) -> str:
    """The file's text with its BOM dropped and line ends made LF; binary data or an empty
    file is a SubtitleError."""
    if "\x00" in text:
        raise SubtitleError(f"{source}: not a subtitle file (binary data)")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise SubtitleError(f"{source}: empty subtitle file")
    return text


def parse_srt(text: str, source: str = "<srt>", allow_overlap: bool = False) -> list[Cue]:
    """Parse SRT text into cues, with an error naming the file and line on malformed input.

    Overlapping or out-of-order cues are errors unless `allow_overlap` (for `subs check`, which
    reports them as rule breaks instead).
    """
    text = _subtitle_text(text, source)
    try:
        items = list(srtlib.parse(text, ignore_errors=False))
    except srtlib.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1
        raise SubtitleError(f"{source}:{line}: malformed SRT cue") from exc
    except ValueError as exc:
        raise SubtitleError(f"{source}: malformed SRT ({exc})") from exc
    # the k-th timing line belongs to the k-th cue; its number line is just above it
    timing_lines = [n for n, ln in enumerate(text.split("\n"), start=1) if _SRT_TIMING.match(ln)]
    cues: list[Cue] = []
    lines_of: list[int] = []
    for k, item in enumerate(items):
        start = int(item.start.total_seconds() * 1000 + 0.5)
        end = int(item.end.total_seconds() * 1000 + 0.5)
        lines = tuple(ln.strip() for ln in item.content.split("\n") if ln.strip())
        cues.append(Cue(start=start, end=end, lines=lines))
        lines_of.append(max(timing_lines[k] - 1, 1) if k < len(timing_lines) else 1)
    return _checked_order(cues, lines_of, source, allow_overlap)


_SRT_TIMING = re.compile(r"^\s*\d+:\d{2}:\d{2}[,.]\d{1,3}\s*-->")


def _checked_order(
    cues: list[Cue], lines_of: list[int], source: str, allow_overlap: bool
) -> list[Cue]:
    if not cues:
        raise SubtitleError(f"{source}: no subtitle cues found")
    for k, cue in enumerate(cues):
        where = f"{source}:{lines_of[k]}: cue {k + 1}"
        if cue.end <= cue.start:
            raise SubtitleError(f"{where} ends before it starts")
        if k and not allow_overlap:
            previous = cues[k - 1]
            if cue.start < previous.start:
                raise SubtitleError(f"{where} starts before the previous cue")
            if cue.start < previous.end:
                raise SubtitleError(
                    f"{where} overlaps the previous cue (starts {format_vtt_time(cue.start)}, "
                    f"previous ends {format_vtt_time(previous.end)})"
                )
    return cues


_VTT_TIMING = re.compile(
    r"^\s*(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{3})\s+-->\s+(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{3})(?:\s.*)?$"
)
_VOICE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]+>")
_ZOOM_SPEAKER = re.compile(r"^(?P<name>[^:\n]{1,60}?):\s+(?P<text>\S.*)$", re.DOTALL)


def _vtt_ms(stamp: str) -> int:
    parts = stamp.replace(",", ".").split(":")
    seconds = float(parts[-1])
    minutes = int(parts[-2])
    hours = int(parts[-3]) if len(parts) == 3 else 0
    return (hours * 3600 + minutes * 60) * 1000 + int(round(seconds * 1000))


def _vtt_blocks(lines: list[str], source: str) -> list[tuple[int, int, list[str], int]]:
    """(start, end, body lines, line number of the timing) per cue; NOTE, STYLE and REGION
    blocks skipped."""
    if not lines[0].startswith("WEBVTT"):
        raise SubtitleError(f"{source}:1: missing WEBVTT header (is this an SRT file?)")
    raw: list[tuple[int, int, list[str], int]] = []
    k = 1
    while k < len(lines):
        line = lines[k]
        if line.startswith(("NOTE", "STYLE", "REGION")):
            while k < len(lines) and lines[k].strip():
                k += 1
            continue
        match = _VTT_TIMING.match(line)
        if match is None and "-->" in line:
            raise SubtitleError(f"{source}:{k + 1}: malformed cue timing")
        if match:
            start, end = _vtt_ms(match["start"]), _vtt_ms(match["end"])
            timing_line = k + 1
            body = []
            k += 1
            while k < len(lines) and lines[k].strip():
                body.append(lines[k].strip())
                k += 1
            raw.append((start, end, body, timing_line))
            continue
        k += 1
    return raw


def parse_vtt(
    text: str, source: str = "<vtt>", zoom_speakers: bool | None = None, allow_overlap: bool = False
) -> list[Cue]:
    """Parse WebVTT, including Zoom cloud-recording transcripts (`Speaker Name: text`).

    Speakers come from `<v Name>` voice tags, or from Zoom's `Name: ` prefixes. With
    `zoom_speakers=None` the prefixes are taken as speakers when most cues carry one and the
    names are few; True or False forces the choice.
    """
    text = _subtitle_text(text, source)
    raw = _vtt_blocks(text.split("\n"), source)
    if not raw:
        raise SubtitleError(f"{source}: no subtitle cues found")

    def voice(body: list[str]) -> str | None:
        m = _VOICE.match(body[0]) if body else None
        return html.unescape(m.group(1).strip()) if m else None

    joined = [" ".join(body) for _, _, body, _ in raw]
    prefixed = [m for t in joined if (m := _ZOOM_SPEAKER.match(_TAG.sub("", t)))]
    if zoom_speakers is None:
        names = {m["name"].strip() for m in prefixed}
        zoom_speakers = len(prefixed) * 2 >= len(raw) and len(names) <= max(2, len(raw) // 3)
    cues: list[Cue] = []
    for start, end, body, _ in raw:
        speaker = voice(body)
        body = [html.unescape(_TAG.sub("", b)).strip() for b in body]
        body = [b for b in body if b]
        if zoom_speakers and body:
            m = _ZOOM_SPEAKER.match(" ".join(body))
            if m:
                speaker = m["name"].strip()
                body = [m["text"].strip()]
        cues.append(Cue(start=start, end=end, lines=tuple(body), speaker=speaker))
    return _checked_order(cues, [r[3] for r in raw], source, allow_overlap)
