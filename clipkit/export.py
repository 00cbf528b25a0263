"""Export a plan's extracts for a final polish in an editing program: one timeline per recording
(the extracts as clips in plan order, a marker with each title) as OpenTimelineIO JSON, Final
Cut Pro XML or a CMX 3600 EDL, through OpenTimelineIO's adapters."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cut import Extract
from .errors import InputError

FORMATS = {
    "otio": ("otio_json", ".otio"),
    "fcpxml": ("fcpx_xml", ".fcpxml"),
    "edl": ("cmx_3600", ".edl"),
}


def _otio() -> Any:
    try:
        import opentimelineio as otio
    except ImportError as exc:
        raise InputError("export needs OpenTimelineIO: pip install 'clipkit[export]'") from exc
    return otio


EDL_MAX_EVENTS = 999  # CMX 3600 numbers events with three digits


def _one_line(text: str) -> str:
    """A title as one line: a newline inside an EDL marker would start a line of its own."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f\u2028\u2029]", " ", text).split())


def timelines(extracts: Sequence[Extract], fmt: str = "otio") -> list[Any]:
    """One timeline per recording, its extracts as clips cut at their in/out frames."""
    otio = _otio()
    by_source: dict[Path, list[Extract]] = {}
    for ex in extracts:
        by_source.setdefault(ex.source, []).append(ex)
    names: dict[str, Path] = {}
    for source, items in by_source.items():
        # one file per recording: two recordings named alike must not share (and lose) one
        other = names.setdefault(source.stem.casefold(), source)
        if other != source:
            raise InputError(
                f"{other} and {source} would both export to {source.stem}.*: rename one recording"
            )
        if fmt == "edl" and len(items) > EDL_MAX_EVENTS:
            raise InputError(
                f"{source.name}: {len(items)} extracts, but an EDL holds at most "
                f"{EDL_MAX_EVENTS} events; export as otio or fcpxml"
            )
    out = []
    for source, items in by_source.items():
        fps = float(items[0].info.frame_rate or 25)
        timeline = otio.schema.Timeline(name=source.stem)
        track = otio.schema.Track(name="extracts", kind=otio.schema.TrackKind.Video)
        available = otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, fps),
            otio.opentime.RationalTime(round(items[0].info.duration_ms * fps / 1000), fps),
        )
        for ex in items:
            first = round(ex.start_ms * fps / 1000)
            frames = round(ex.end_ms * fps / 1000) - first
            clip = otio.schema.Clip(
                name=ex.slug,
                media_reference=otio.schema.ExternalReference(
                    target_url=source.resolve().as_uri(), available_range=available
                ),
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(first, fps), otio.opentime.RationalTime(frames, fps)
                ),
            )
            clip.markers.append(
                otio.schema.Marker(
                    name=_one_line(ex.title),
                    marked_range=otio.opentime.TimeRange(
                        otio.opentime.RationalTime(first, fps), otio.opentime.RationalTime(0, fps)
                    ),
                    metadata={"clipkit": {"description": ex.row.description}},
                )
            )
            track.append(clip)
        timeline.tracks.append(track)
        out.append(timeline)
    return out


def export(extracts: Sequence[Extract], out_dir: Path, fmt: str) -> list[Path]:
    """Write one file per recording into `out_dir`; returns the files."""
    from .fsutil import atomic_path

    otio = _otio()
    adapter, suffix = FORMATS[fmt]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for timeline in timelines(extracts, fmt):
        target = out_dir / f"{timeline.name}{suffix}"
        with atomic_path(target) as tmp:
            text = otio.adapters.write_to_string(timeline, adapter_name=adapter)
            tmp.write_text(text, encoding="utf-8")
        written.append(target)
    return written
