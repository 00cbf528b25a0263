"""Subtitle tracks in other languages for extracts: `NAME.en.srt` (from `transcribe --translate
en`, or a translation an editor saved beside the transcript as `NAME.xx.srt`) sliced to each
extract as `SLUG.xx.srt` and `.vtt`, for YouTube's caption tracks and the archive's menu."""

from __future__ import annotations

import glob
import re
from pathlib import Path

from .ffmpeg import sha256_file
from .formats import has_cues, read_cues, render
from .fsutil import atomic_write_text
from .sidecar import CaptionTrack
from .subtitles import EDGE_MIN_MS, slice_cues

LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


def translations_of(subs: Path | None, own_language: str | None) -> list[tuple[str, Path]]:
    """(language, file) of each `STEM.xx.srt` beside the transcript `STEM.*`, its own
    language left out."""
    if subs is None:
        return []
    subs = subs.resolve()  # make's per-row link names the transcript it stands for
    stem = subs.with_suffix("").name
    found = []
    for name in sorted(glob.glob(glob.escape(str(subs.parent / stem)) + ".*.srt")):
        path = Path(name)
        tag = path.name[len(stem) + 1 : -len(".srt")]
        if LANGUAGE_TAG.fullmatch(tag) and tag != own_language and has_cues(path):
            found.append((tag, path))
    return found


def _tracks(
    subs: Path | None, own_language: str | None, slug: str
) -> list[tuple[Path, CaptionTrack]]:
    return [
        (path, CaptionTrack(tag, f"{slug}.{tag}.srt", f"{slug}.{tag}.vtt", sha256_file(path)))
        for tag, path in translations_of(subs, own_language)
    ]


def planned_tracks(
    subs: Path | None, own_language: str | None, slug: str
) -> tuple[CaptionTrack, ...]:
    """The tracks an extract should carry (what its sidecar records)."""
    return tuple(track for _, track in _tracks(subs, own_language, slug))


def write_tracks(
    subs: Path | None, own_language: str | None, slug: str, start_ms: int, end_ms: int,
    out_dir: Path,
) -> tuple[CaptionTrack, ...]:  # fmt: skip
    """Each translation sliced to the extract and written (SRT and WebVTT) into `out_dir`."""
    made = _tracks(subs, own_language, slug)
    for path, track in made:
        cues = slice_cues(read_cues(path), start_ms, end_ms, EDGE_MIN_MS)
        for name in (track.srt, track.vtt):
            atomic_write_text(out_dir / name, render(out_dir / name, cues))
    return tuple(track for _, track in made)
