"""Plan rows checked against their recordings and made into extracts: times snapped, slugs
and subtitles found, the extract's cues and words."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..burn import load_style
from ..errors import ClipkitError, InputError, PlanError
from ..find import FIND_ORIGIN
from ..formats import read_cues, read_transcript
from ..linebreak import SENTENCE_END
from ..media import SILENT_TRACK_DB, MediaInfo, probe, speech_track
from ..plan import PlanRow, slugify
from ..profiles import load_profile
from ..sidecar import (
    TITLE_FORBIDDEN,
    TITLE_MAX,
)
from ..subtitles import (
    EDGE_MIN_MS,
    Cue,
    Word,
    shape_words,
    slice_cues,
    slice_words,
    words_from_cues,
)
from ..timecode import format_clock, parse_timecode
from .graph import output_size
from .options import MIN_EXTRACT_MS, VERTICAL, CutOptions, Extract

if TYPE_CHECKING:
    pass

# --- validation ----------------------------------------------------------------------------


def find_subtitles(source: Path) -> Path | None:
    """The recording's subtitles by convention: beside it, or in a sibling `transcripts/`."""
    for folder in (source.parent, source.parent.parent / "transcripts"):
        for suffix in (".srt", ".vtt", ".json"):
            candidate = folder / f"{source.stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def _transcript_path(subs: Path | None, source: Path) -> Path | None:
    """The recording's transcript JSON: beside its subtitles, or where transcripts live."""
    candidates = [subs.with_suffix(".json")] if subs is not None else []
    found = find_subtitles(source)
    if found is not None:
        candidates.append(found.with_suffix(".json"))
    return next((c for c in candidates if c.is_file()), None)


def _transcript_words(subs: Path | None, source: Path) -> list[Word] | None:
    """Word timings for snapping, warnings and reshaping (each transcript read once)."""
    path = _transcript_path(subs, source)
    return list(_words_of(str(path), path.stat().st_mtime_ns)) if path is not None else None


@lru_cache(maxsize=16)
def _words_of(path: str, mtime_ns: int) -> tuple[Word, ...]:
    return tuple(read_transcript(Path(path)).words)


SHORTS_MAX_MS = 180_000  # YouTube Shorts: up to 3 minutes since October 2024
SHORT_EXTRACT_MS = 3000
_MINUTES_AS_DECIMAL = re.compile(r"^\d{1,2}\.[0-5]\d$")  # 2.33 typed for 2:33


def cut_point_warnings(start: int, end: int, words: Sequence[Word]) -> list[str]:
    """What an editor would want to know about in/out points: inside a word, mid-sentence."""
    out = []
    split: set[str] = set()
    for label, ms in (("in", start), ("out", end)):
        inside = next((w for w in words if w.start < ms < w.end), None)
        if inside is not None:
            split.add(label)
            out.append(
                f"{label} point {format_clock(ms)} falls inside the word {inside.text!r} "
                f"({format_clock(inside.start)}-{format_clock(inside.end)}); --snap words moves it"
            )
    after = next((k for k, w in enumerate(words) if w.start >= start), None)
    if after is not None and after > 0 and "in" not in split:
        before = words[after - 1]
        if not SENTENCE_END.search(before.text) and words[after].start - before.end < 300:
            out.append(f"in point {format_clock(start)} is mid-sentence (after {before.text!r})")
    last = next((k for k in range(len(words) - 1, -1, -1) if words[k].end <= end), None)
    if (
        "out" not in split
        and last is not None
        and last + 1 < len(words)
        and not SENTENCE_END.search(words[last].text)
        and words[last + 1].start - words[last].end < 300
    ):
        out.append(
            f"out point {format_clock(end)} is mid-sentence (before {words[last + 1].text!r})"
        )
    return out


def transcript_language(extract: Extract) -> str | None:
    """The language the transcript found (captions are published in it)."""
    path = _transcript_path(extract.subs, extract.source)
    if path is None:
        return None
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("language") or "") or None
    except (OSError, ValueError):
        return None


def snap_point(ms: int, words: Sequence[Word], mode: str, tolerance: int, is_start: bool) -> int:
    """Move a cut point out of a word (mode "words") or into the middle of a pause ("silence")."""
    if mode == "words":
        for w in words:
            if w.start < ms < w.end:
                target = w.start if is_start else w.end
                return target if abs(target - ms) <= tolerance else ms
        return ms
    pauses = [
        (a.end, b.start) for a, b in zip(words, words[1:], strict=False) if b.start - a.end >= 250
    ]
    best = min(pauses, key=lambda p: abs((p[0] + p[1]) // 2 - ms), default=None)
    if best is None:
        return ms
    middle = (best[0] + best[1]) // 2
    return middle if abs(middle - ms) <= tolerance else ms


@dataclass(frozen=True)
class Prepared:
    extracts: list[Extract]
    problems: list[str]  # bad rows, each naming its row: they fail alone unless --strict


def prepare(
    rows: Sequence[PlanRow], base: Path, options: CutOptions, only: Sequence[str] = ()
) -> Prepared:
    """Check every row against its recording. A bad row is a problem of its own: the good rows
    are still cut (unless `options.strict`). `only`: the slugs wanted; other rows are skipped
    before they are checked, so one bad row never stops another row's make rule."""
    if only:
        wanted = set(only)
        suffix = "-vertical" if options.aspect == VERTICAL else ""
        rows = [r for r in rows if wanted & {provisional_slug(r), provisional_slug(r) + suffix}]
        if not rows:
            raise InputError(f"no extract with slug {', '.join(only)} in the plan")
    problems: list[str] = []
    extracts: list[Extract] = []
    infos: dict[Path, MediaInfo] = {}
    slugs: dict[str, str] = {}
    for row in rows:
        try:
            extract = prepare_row(row, base, options, infos)
        except ClipkitError as exc:
            problems.append(f"{row.where}: {exc}")
            continue
        if extract.slug in slugs:
            problems.append(
                f"{row.where}: slug {extract.slug!r} is already used by {slugs[extract.slug]}"
            )
            continue
        slugs[extract.slug] = row.where
        extracts.append(extract)
    if problems and (options.strict or not extracts):
        raise PlanError(problems)
    if not extracts:
        raise InputError("the plan has no extracts")
    return Prepared(extracts, problems)


def provisional_slug(row: PlanRow) -> str:
    """A row's slug before the row is checked: what make rules and `cut --only` name."""
    source = Path(row.source)
    try:
        start = parse_timecode(row.start)
    except InputError:
        start = 0
    return row_slug(row, source.stem, start)


def row_slug(row: PlanRow, source_stem: str, start_ms: int) -> str:
    """The one slug formula: the row's slug, else its title, else the recording and in point."""
    fallback = f"{source_stem}-{format_clock(start_ms).replace(':', '-')}"
    return slugify(row.slug or row.title or fallback)


def prepare_row(
    row: PlanRow, base: Path, options: CutOptions, infos: dict[Path, MediaInfo]
) -> Extract:
    """A plan row checked and resolved: its recording probed, in and out points in ms (snapped,
    padded, clamped), subtitles found, title and slug; what looks wrong but can be cut is a
    warning, what cannot is an InputError."""
    source, info = _probed_source(row, base, infos)
    warnings: list[str] = []
    track = _audio_track(source, info, options, warnings)
    raw_start, end = _in_out(row, source, info, warnings)
    subs = _subtitles_of(row, base, source, options, warnings)
    start, end = _snapped(raw_start, end, subs, source, options, row, info.duration_ms, warnings)
    _check_length(row, source, subs, start, end, info.duration_ms)
    if not row.title and row.fields.get("origin") == FIND_ORIGIN:
        raise InputError("no title yet: a row `clipkit find` added needs one (fill its title)")
    title = row.title or f"{source.stem} {format_clock(start)}"
    check_title(title)
    slug = row_slug(row, source.stem, raw_start)
    if options.aspect == VERTICAL:
        slug += "-vertical"
    style = row.style or options.style or "default"
    if options.burn:
        load_style(style)  # a style column naming no style fails here, in the dry run too
    fade_ms = min(options.fade_ms, (end - start) // 3)
    if options.fade_ms > 0 and fade_ms < options.fade_ms:
        warnings.append(
            f"fade of {options.fade_ms / 1000:g} s shortened to {fade_ms / 1000:g} s "
            "(a third of the extract)"
        )
    return Extract(row, source, info, start, end, title, slug, subs, style, tuple(warnings), track)


def _probed_source(
    row: PlanRow, base: Path, infos: dict[Path, MediaInfo]
) -> tuple[Path, MediaInfo]:
    if not row.source:
        raise InputError("no source recording")
    # absolute, but not resolved: a linked recording (`fetch --link`) keeps its place in the
    # project, where its transcript is found
    source = Path(os.path.abspath(base / row.source))
    if not source.exists():
        raise InputError(f"source {row.source!r} not found")
    if source not in infos:
        infos[source] = probe(source)
    info = infos[source]
    if not info.has_video and not info.has_audio:
        raise InputError(f"{row.source}: no audio or video")
    return source, info


def _audio_track(source: Path, info: MediaInfo, options: CutOptions, warnings: list[str]) -> int:
    """The audio track the extract takes: the one asked for, else the one with speech."""
    if not info.has_audio:
        return 0
    chosen = speech_track(source, options.audio_track)
    if chosen.reason:
        warnings.append(chosen.reason)
    if chosen.level_db < SILENT_TRACK_DB:
        warnings.append(f"audio track {chosen.index + 1} of {source.name} is silent")
    return chosen.index


def _in_out(row: PlanRow, source: Path, info: MediaInfo, warnings: list[str]) -> tuple[int, int]:
    """The row's in and out points in ms; an out point just past the end is clamped to it."""
    fps = info.fps or 25.0
    start, end = parse_timecode(row.start, fps), parse_timecode(row.end, fps)
    duration = info.duration_ms
    if start >= end:
        raise InputError(f"start {row.start} is not before end {row.end}")
    if start >= duration:
        raise InputError(
            f"start {row.start} is beyond the end of {source.name} ({format_clock(duration)})"
        )
    if end > duration:
        if end - duration > 1000:
            raise InputError(
                f"end {row.end} is past the end of {source.name} ({format_clock(duration)})"
            )
        warnings.append(
            f"end {row.end} clamped to the end of the recording ({format_clock(duration)})"
        )
        end = duration
    return start, end


def _subtitles_of(
    row: PlanRow, base: Path, source: Path, options: CutOptions, warnings: list[str]
) -> Path | None:
    """The row's subtitles, else --subs, else those found beside the recording."""
    subs = None
    if row.subs:
        subs = (base / row.subs).resolve() if not Path(row.subs).is_absolute() else Path(row.subs)
    elif options.subs is not None:
        subs = options.subs
    if subs is not None and not subs.is_file():
        raise InputError(f"subtitles {subs} not found")
    if subs is None:  # burnt in or not, the extract's SRT/VTT go with it (captions)
        subs = find_subtitles(source)
        if subs is None and options.burn:
            warnings.append(f"no subtitles found for {source.name} (pass --subs); cutting without")
    return subs


def _snapped(
    start: int, end: int, subs: Path | None, source: Path, options: CutOptions, row: PlanRow,
    duration: int, warnings: list[str],
) -> tuple[int, int]:  # fmt: skip
    """In and out points snapped to word or sentence edges (--snap), then padded."""
    if options.snap:
        words = _transcript_words(subs, source)
        if words is None:
            warnings.append(f"no transcript JSON of {source.name}: in/out points not snapped")
        else:
            start = snap_point(start, words, options.snap, options.snap_tolerance_ms, True)
            end = snap_point(end, words, options.snap, options.snap_tolerance_ms, False)
    pad = parse_timecode(row.pad) if row.pad else options.pad_ms
    start, end = max(0, start - pad), min(duration, end + pad)
    if options.burn or options.snap:
        words = _transcript_words(subs, source)
        if words:
            warnings += cut_point_warnings(start, end, words)
    if end - start < SHORT_EXTRACT_MS and end - start >= MIN_EXTRACT_MS:
        warnings.append(f"the extract is only {(end - start) / 1000:.1f} s long")
    if options.aspect == VERTICAL and end - start > SHORTS_MAX_MS:
        warnings.append(
            f"the extract is {format_clock(end - start)} long; YouTube Shorts take at most 3:00"
        )
    return start, end


def _check_length(
    row: PlanRow, source: Path, subs: Path | None, start: int, end: int, duration: int
) -> None:
    """Subtitles of another recording, and extracts too short to be one, are refused."""
    if subs is not None:
        last_end = subtitles_end(subs)
        if last_end > duration + 1000:
            raise InputError(
                f"subtitles {subs.name} run to {format_clock(last_end)}, past the end of "
                f"{source.name} ({format_clock(duration)}): not this recording's subtitles?"
            )
    if end - start < MIN_EXTRACT_MS:
        hint = ""
        if _MINUTES_AS_DECIMAL.match(row.start) and _MINUTES_AS_DECIMAL.match(row.end):
            hint = f" (did you mean {row.start.replace('.', ':')} to {row.end.replace('.', ':')}?)"
        raise InputError(
            f"the extract is {(end - start) / 1000:.3f} s long; extracts must be at least "
            f"{MIN_EXTRACT_MS / 1000:g} s{hint}"
        )


def check_title(title: str) -> None:
    """Titles YouTube would refuse are refused before anything is encoded."""
    bad = sorted({c for c in title if c in TITLE_FORBIDDEN})
    if bad:
        raise InputError(f"title {title!r} contains {' and '.join(bad)}, which YouTube refuses")
    if len(title) > TITLE_MAX:
        raise InputError(f"title is {len(title)} characters long; YouTube allows {TITLE_MAX}")


def subtitles_end(subs: Path) -> int:
    """When a subtitle file's last cue (or a transcript's last word) ends, in ms."""
    return _subtitles_end(str(subs), subs.stat().st_mtime_ns)


@lru_cache(maxsize=64)  # a plan's rows share a few files: read each once
def _subtitles_end(path: str, mtime_ns: int) -> int:
    subs = Path(path)
    if subs.suffix.lower() == ".json":
        transcript = read_transcript(subs)
        return max(
            [seg.end for seg in transcript.segments] + [w.end for w in transcript.words], default=0
        )
    return max((c.end for c in read_cues(subs)), default=0)


def extract_cues(extract: Extract, options: CutOptions) -> list[Cue]:
    """The extract's subtitles, re-timed to start at 0.

    An SRT/VTT (possibly corrected by hand) is sliced as it is; a transcript's words are shaped
    afresh for the extract. A portrait extract (9:16, or an upright phone video) is re-shaped to
    the vertical profile: lines shaped for 16:9 would not fit its width.
    """
    if extract.subs is None:
        return []
    width, height = output_size(extract.info, options.aspect)
    vertical = width < height  # a 9:16 variant, or a phone video shown upright
    profile = load_profile("vertical" if vertical else options.profile)
    if extract.subs.suffix.lower() == ".json":
        words = slice_words(read_transcript(extract.subs).words, extract.start_ms, extract.end_ms)
        labels = "prefix" if load_style(extract.style).speaker_names else "none"
        return shape_words(words, profile, labels, extract.duration_ms)
    cues = slice_cues(read_cues(extract.subs), extract.start_ms, extract.end_ms, EDGE_MIN_MS)
    if vertical:
        return shape_words(words_from_cues(cues), profile, media_end=extract.duration_ms)
    return cues


def extract_words(extract: Extract) -> list[Word] | None:
    """The extract's words with their timings, re-timed to start at 0, from its transcript JSON;
    None for SRT/VTT subtitles (their word times would be guesses)."""
    if extract.subs is None or extract.subs.suffix.lower() != ".json":
        return None
    return slice_words(read_transcript(extract.subs).words, extract.start_ms, extract.end_ms)
