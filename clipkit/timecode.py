"""Timecodes as integer milliseconds: parsing what editors type and formatting for each format."""

from __future__ import annotations

import re

from .errors import InputError

_CLOCK = re.compile(
    r"""^\s*(?:(?P<h>\d+):)??(?:(?P<m>\d+):)?(?P<s>\d+(?:[.,]\d+)?)\s*$""",
    re.VERBOSE,
)
_FRAMES = re.compile(r"^\s*(?P<h>\d+):(?P<m>\d+):(?P<s>\d+):(?P<f>\d+)\s*$")


def parse_timecode(text: str, fps: float = 25.0) -> int:
    """Parse `SS`, `MM:SS`, `HH:MM:SS(.mmm)`, `HH:MM:SS,mmm` or `HH:MM:SS:FF` into milliseconds."""
    raw = str(text).strip()
    if raw.startswith("-"):
        raise InputError(f"negative time {raw!r}")
    frames = _FRAMES.match(raw)
    if frames:
        h, m, s, f = (int(frames.group(k)) for k in "hmsf")
        if m >= 60 or s >= 60:
            raise InputError(f"invalid timecode {raw!r}")
        if f >= round(fps):
            raise InputError(f"invalid timecode {raw!r}: frame {f} at {fps:g} fps")
        return (h * 3600 + m * 60 + s) * 1000 + round(f * 1000 / fps)
    clock = _CLOCK.match(raw)
    if not clock:
        raise InputError(f"invalid timecode {raw!r} (use SS, MM:SS, HH:MM:SS.mmm or HH:MM:SS:FF)")
    h = int(clock.group("h") or 0)
    m = int(clock.group("m") or 0)
    seconds = clock.group("s").replace(",", ".")
    whole, _, frac = seconds.partition(".")
    if (clock.group("m") is not None and int(whole) >= 60) or (
        clock.group("h") is not None and m >= 60
    ):
        raise InputError(f"invalid timecode {raw!r}")
    ms = int((frac + "000")[:3]) if frac else 0
    if len(frac) > 3 and int(frac[3]) >= 5:
        ms += 1  # round, not truncate, sub-millisecond digits
    return (h * 3600 + m * 60 + int(whole)) * 1000 + ms


def _split(ms: int) -> tuple[int, int, int, int]:
    if ms < 0:
        raise ValueError(f"negative time {ms} ms")
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, milli = divmod(rest, 1000)
    return h, m, s, milli


def format_vtt_time(ms: int) -> str:
    h, m, s, milli = _split(ms)
    return f"{h:02d}:{m:02d}:{s:02d}.{milli:03d}"


def format_clock(ms: int) -> str:
    """Short human form for messages and progress: `M:SS.mmm` or `H:MM:SS.mmm`."""
    h, m, s, milli = _split(ms)
    if h:
        return f"{h}:{m:02d}:{s:02d}.{milli:03d}"
    return f"{m}:{s:02d}.{milli:03d}"


def seconds_to_ms(seconds: float) -> int:
    return int(round(seconds * 1000))
