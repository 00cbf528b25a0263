"""The cut pipeline: validate a plan against its recordings, then make each extract in ONE ffmpeg
run: an accurate seek, the extract's subtitles burnt in, two-pass loudness normalisation, fades,
H.264 + AAC in MP4 with +faststart. Subtitles are written beside each video as SRT and WebVTT and
a JSON sidecar records what was made (the publisher uses its SHA-256).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .burn import BurnStyle, ass_document, load_style
from .errors import ClipkitError, InputError, PlanError
from .ffmpeg import (
    SILENT_TRACK_DB,
    FFmpegBinary,
    MediaInfo,
    escape_filter_value,
    find_ffmpeg,
    input_path,
    integrated_loudness,
    probe,
    run_ffmpeg,
    sha256_file,
    speech_track,
    stop_all,
)
from .find import FIND_ORIGIN
from .formats import read_cues, read_transcript, render
from .fsutil import atomic_path, atomic_write_text, item_lock, remove_stale_parts, temp_dir
from .plan import PlanRow, slugify
from .profiles import load_profile
from .progress import Event, EventCallback
from .resources import fonts_dir
from .sidecar import (
    TITLE_FORBIDDEN,
    TITLE_MAX,
    ExtractSidecar,
    LoudnessRecord,
    read_sidecar,
    write_sidecar,
)
from .subtitles import EDGE_MIN_MS, Cue, Word, shape_words, slice_cues, slice_words, words_from_cues
from .timecode import format_clock, parse_timecode
from .tracks import planned_tracks, write_tracks

if TYPE_CHECKING:
    from .cluster import Cluster

VERTICAL = "9:16"
MIN_EXTRACT_MS = 1000


@dataclass(frozen=True)
class CutOptions:
    out_dir: Path
    burn: bool = True
    aspect: str | None = None  # None: the source's; "9:16": a vertical variant
    fill: str = "crop"  # vertical: "crop" the centre or "blur" the source behind it
    style: str | None = None
    profile: str | None = None  # for subtitles shaped from a transcript's words
    subs: Path | None = None  # one subtitle file for every extract (plan `subs` column wins)
    fade_ms: int = 300
    loudness: float = -14.0
    true_peak: float = -1.5
    lra: float = 11.0
    snap: str | None = None  # "words" or "silence"
    snap_tolerance_ms: int = 1000
    pad_ms: int = 0
    crf: int = 20
    preset: str = "veryfast"
    audio_bitrate: str = "160k"
    jobs: int | None = None
    force: bool = False
    audio_track: int | None = None  # 0-based; None: the track with speech
    strict: bool = False  # one bad plan row stops the whole cut

    @classmethod
    def from_settings(cls, values: Mapping[str, Any], out_dir: Path) -> CutOptions:
        """Options as clipkit.toml's [cut] and the command line spell them (seconds as text,
        `aspect = "source"`, 1-based audio tracks). `cut`, `status` and the make rules all
        build their options here, so they agree on what is up to date."""
        v = {k: val for k, val in values.items() if val is not None and val != ""}

        def ms(key: str, default: int) -> int:
            return parse_timecode(str(v[key])) if key in v else default

        defaults = cls(out_dir=out_dir)
        aspect = v.get("aspect", "source")
        track = v.get("audio_track")
        return cls(
            out_dir=out_dir,
            burn=bool(v.get("burn", defaults.burn)),
            aspect=None if aspect == "source" else str(aspect),
            fill=str(v.get("fill", defaults.fill)),
            style=v.get("style"),
            profile=v.get("profile"),
            subs=Path(v["subs"]) if "subs" in v else None,
            fade_ms=ms("fade", defaults.fade_ms),
            loudness=float(v.get("loudness", defaults.loudness)),
            snap=None if v.get("snap") in (None, "off") else v.get("snap"),
            snap_tolerance_ms=ms("snap_tolerance", defaults.snap_tolerance_ms),
            pad_ms=ms("pad", defaults.pad_ms),
            jobs=v.get("jobs"),
            force=bool(v.get("force", False)),
            audio_track=int(track) - 1 if track else None,
            strict=bool(v.get("strict", False)),
        )


@dataclass(frozen=True)
class Extract:
    """A validated plan row: times in ms inside the recording, the output names decided."""

    row: PlanRow
    source: Path
    info: MediaInfo
    start_ms: int
    end_ms: int
    title: str
    slug: str
    subs: Path | None
    style: str
    warnings: tuple[str, ...] = ()
    audio_track: int = 0

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True)
class CutResult:
    extract: Extract
    status: str  # done, updated (the sidecar only), skipped, failed
    video: Path | None = None
    sidecar: Path | None = None
    error: str = ""
    loudness: float | None = None


# --- validation ----------------------------------------------------------------------------


def _find_subtitles(source: Path) -> Path | None:
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
    found = _find_subtitles(source)
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
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
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
        if not _SENTENCE_END.search(before.text) and words[after].start - before.end < 300:
            out.append(f"in point {format_clock(start)} is mid-sentence (after {before.text!r})")
    last = next((k for k in range(len(words) - 1, -1, -1) if words[k].end <= end), None)
    if (
        "out" not in split
        and last is not None
        and last + 1 < len(words)
        and not _SENTENCE_END.search(words[last].text)
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
    warnings: list[str] = []
    track = 0
    if info.has_audio:
        chosen = speech_track(source, options.audio_track)
        track = chosen.index
        if chosen.reason:
            warnings.append(chosen.reason)
        if chosen.level_db < SILENT_TRACK_DB:
            warnings.append(f"audio track {track + 1} of {source.name} is silent")
    fps = info.fps or 25.0
    start, end = parse_timecode(row.start, fps), parse_timecode(row.end, fps)
    raw_start = start
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

    subs = None
    if row.subs:
        subs = (base / row.subs).resolve() if not Path(row.subs).is_absolute() else Path(row.subs)
    elif options.subs is not None:
        subs = options.subs
    if subs is not None and not subs.is_file():
        raise InputError(f"subtitles {subs} not found")
    if subs is None:  # burnt in or not, the extract's SRT/VTT go with it (captions)
        subs = _find_subtitles(source)
        if subs is None and options.burn:
            warnings.append(f"no subtitles found for {source.name} (pass --subs); cutting without")

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
        return _fit(shape_words(words, profile, labels), extract.duration_ms)
    cues = slice_cues(read_cues(extract.subs), extract.start_ms, extract.end_ms, EDGE_MIN_MS)
    if vertical:
        return _fit(shape_words(words_from_cues(cues), profile), extract.duration_ms)
    return cues


def extract_words(extract: Extract) -> list[Word] | None:
    """The extract's words with their timings, re-timed to start at 0, from its transcript JSON;
    None for SRT/VTT subtitles (their word times would be guesses)."""
    if extract.subs is None or extract.subs.suffix.lower() != ".json":
        return None
    return slice_words(read_transcript(extract.subs).words, extract.start_ms, extract.end_ms)


def _fit(cues: list[Cue], duration_ms: int) -> list[Cue]:
    out = []
    for c in cues:
        if c.start < duration_ms:
            out.append(replace(c, end=min(c.end, duration_ms)))
    return out


# --- loudness ------------------------------------------------------------------------------

# Sample peaks are held this far under the true-peak target: inter-sample peaks and the AAC
# encoder add some back.
LIMITER_HEADROOM_DB = 1.5
MAX_GAIN_DB = 30.0


def limiter(options: CutOptions, binary: FFmpegBinary) -> str:
    limit = 10 ** ((options.true_peak - LIMITER_HEADROOM_DB) / 20)
    # `latency` (ffmpeg >= 5.1) removes the limiter's 5 ms look-ahead delay; older ones keep it
    latency = ":latency=true" if binary.alimiter_latency else ""
    return f"alimiter=limit={limit:.4f}:attack=5:release=50:level=false{latency}"


def downmix(info: MediaInfo) -> str | None:
    """Surround is folded to stereo before loudness is measured and limited: a limiter on six
    channels lets the stereo fold-down a player makes peak over the true-peak limit."""
    return "aformat=channel_layouts=stereo" if info.channels > 2 else None


def loudness_chain(
    gain_db: float, options: CutOptions, info: MediaInfo, binary: FFmpegBinary
) -> str:
    parts = [downmix(info), f"volume={gain_db:.2f}dB", limiter(options, binary)]
    return ",".join(p for p in parts if p)


@dataclass(frozen=True)
class GainPlan:
    gain_db: float
    measured_lufs: float  # the extract's audio through the gain and limiter, before encoding


def plan_gain(
    extract: Extract, options: CutOptions, record: list[list[str]] | None = None
) -> GainPlan | None:
    """The gain that brings the extract to the target loudness, peaks held by a limiter.

    loudnorm's linear mode cannot raise quiet speech whose peaks would then clip: it silently
    switches to its dynamic mode, which missed the target by 2 LU on short extracts here. So
    clipkit measures the integrated loudness (EBU R128, audio only), applies the gain through a
    limiter set under the true-peak target, and measures again through that same chain: the
    limiter takes away more as the gain grows, so loudness rises slower than the gain, and the
    secant method on the measured points finds the gain (usually in one or two more passes).
    None: silent audio, left as it is.
    """
    source, start, dur = extract.source, extract.start_ms, extract.duration_ms
    binary = find_ffmpeg()
    track = extract.audio_track
    measured = integrated_loudness(source, start, dur, downmix(extract.info), track, record)
    if measured is None:
        return None
    points = [(0.0, measured)]
    gain = options.loudness - measured
    result = GainPlan(gain, measured)
    for _ in range(6):
        chain = loudness_chain(gain, options, extract.info, binary)
        level = integrated_loudness(source, start, dur, chain, track, record)
        if level is None:
            break
        result = GainPlan(gain, level)
        error = options.loudness - level
        if abs(error) < 0.15:
            break
        g0, l0 = points[-1]
        slope = min(1.0, max(0.1, (level - l0) / (gain - g0))) if gain != g0 else 1.0
        points.append((gain, level))
        gain = min(gain + error / slope, MAX_GAIN_DB)
    return result


# --- the encode ----------------------------------------------------------------------------


def output_size(info: MediaInfo, aspect: str | None) -> tuple[int, int]:
    """The extract's frame: the picture as players show it (turned upright, square pixels),
    or a vertical 9:16 frame."""
    size = info.display_size
    if size is None:
        return (720, 1280) if aspect == VERTICAL else (1280, 720)
    width, height = size
    if aspect == VERTICAL:
        return (1080, 1920) if min(width, height) >= 1080 else (720, 1280)
    return max(2, width - width % 2), max(2, height - height % 2)


# PQ/HLG to SDR BT.709: linear light, then a tone curve, then back (zscale + tonemap)
TONEMAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
)


def video_chain(extract: Extract, options: CutOptions, binary: FFmpegBinary) -> list[str]:
    """Filters from the decoded (already upright: ffmpeg applies the display rotation) frames
    to the output frame, before subtitles: constant frame rate, SDR, square pixels, framing."""
    info = extract.info
    width, height = output_size(info, options.aspect)
    rate = info.frame_rate or 25
    # a constant rate from the first frame at 0: VFR phone/Zoom video stays in sync
    chain = [f"fps={rate.numerator}/{rate.denominator}:start_time=0"]
    if info.hdr and binary.tonemap:
        chain.append(TONEMAP)
    display = info.display_size
    assert display is not None and info.width and info.height
    shown_w, shown_h = display
    if options.aspect == VERTICAL:
        if options.fill == "blur":
            return [
                ",".join(chain) + ",split=2[bg][fg];"
                f"[bg]scale={width}:{height}:force_original_aspect_ratio=increase,"
                f"crop={width}:{height},boxblur=20:3[bgb];"
                f"[fg]scale={width}:-2[fgs];[bgb][fgs]overlay=(W-w)/2:(H-h)/2"
            ]
        # crop the centre of the picture as shown (a portrait phone video needs no crop)
        chain.append(f"scale={shown_w}:{shown_h}")
        crop_w = min(shown_w, round(shown_h * 9 / 16)) // 2 * 2
        crop_h = min(shown_h, round(shown_w * 16 / 9)) // 2 * 2
        chain.append(f"crop={crop_w}:{crop_h},scale={width}:{height}")
        return [",".join(chain)]
    decoded = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
    if (width, height) != decoded or info.sar != 1:
        chain.append(f"scale={width}:{height}")
    return [",".join(chain)]


def audio_chain(
    extract: Extract, options: CutOptions, gain_db: float | None, binary: FFmpegBinary
) -> list[str]:
    chain = []
    if gain_db is not None:
        chain.append(loudness_chain(gain_db, options, extract.info, binary))
    elif extract.info.has_audio and (mix := downmix(extract.info)):
        chain.append(mix)
    # one rate for AAC whatever the source had; audio starts with the video at 0 (an edit
    # list or a stream starting late is padded or trimmed, not left to drift)
    chain.append("aresample=48000:first_pts=0")
    return chain


def build_encode_args(
    extract: Extract,
    options: CutOptions,
    output: str,
    ass_path: str | None,
    gain_db: float | None,
    binary: FFmpegBinary | None = None,
) -> list[str]:
    """The single ffmpeg run for one extract (everything after the program name)."""
    binary = binary or find_ffmpeg()
    info = extract.info
    start, dur = f"{extract.start_ms / 1000:.3f}", f"{extract.duration_ms / 1000:.3f}"
    seconds = extract.duration_ms / 1000
    width, height = output_size(info, options.aspect)
    args = [
        "-y",
        "-loglevel",
        "level+warning",
        "-ss",
        start,
        "-t",
        dur,
        "-i",
        input_path(extract.source),
    ]
    next_input = 1
    graph: list[str] = []
    if info.has_video:
        graph.append(
            f"[0:v:{info.video_index}]" + video_chain(extract, options, binary)[0] + "[framed]"
        )
    else:  # an audio recording: subtitles on a plain background, for YouTube
        args += ["-f", "lavfi", "-t", dur, "-i", f"color=c=0x14181f:s={width}x{height}:r=25"]
        graph.append(f"[{next_input}:v]null[framed]")
        next_input += 1
    if info.has_audio:
        audio_in = f"[0:a:{extract.audio_track}]"
    else:
        args += ["-f", "lavfi", "-t", dur, "-i", "anullsrc=r=48000:cl=stereo"]
        audio_in = f"[{next_input}:a]"

    chain = ["setsar=1"]
    if ass_path is not None:
        chain.append(
            f"subtitles=filename={escape_filter_value(ass_path)}:fontsdir={escape_filter_value(str(fonts_dir()))}"
        )
    fade = min(options.fade_ms, extract.duration_ms // 3) / 1000
    if fade > 0:
        chain += [
            f"fade=t=in:st=0:d={fade:.3f}",
            f"fade=t=out:st={seconds - fade:.3f}:d={fade:.3f}",
        ]
    chain.append("format=yuv420p")
    graph.append(f"[framed]{','.join(chain)}[v]")

    audio = audio_chain(extract, options, gain_db, binary)
    if fade > 0:
        audio += [
            f"afade=t=in:st=0:d={fade:.3f}",
            f"afade=t=out:st={seconds - fade:.3f}:d={fade:.3f}",
        ]
    graph.append(f"{audio_in}{','.join(audio)}[a]")

    args += [
        "-filter_complex", ";".join(graph),
        "-map", "[v]", "-map", "[a]",
        "-c:v", "libx264", "-preset", options.preset, "-crf", str(options.crf), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", options.audio_bitrate, "-ar", "48000",
        "-t", dur,
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-metadata", f"comment={MADE_BY}",  # how a later run knows the file is its own
        "-movflags", "+faststart",
        "-f", "mp4", output,
    ]  # fmt: skip
    return args


def source_key(path: Path) -> str:
    """A recording's identity by content, cheap for hours of video: its size and the SHA-256 of
    its first and last 4 MiB. A copied or moved project (`cp -a`, another disk) keeps it."""
    st = path.stat()
    return _source_key(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _source_key(path: str, size: int, mtime_ns: int) -> str:
    span = 4 << 20
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(span))
        if size > 2 * span:
            fh.seek(size - span)
            digest.update(fh.read(span))
    return digest.hexdigest()


RENDER_OPTIONS = (
    "burn", "aspect", "fill", "profile", "fade_ms", "loudness", "true_peak", "lra", "crf",
    "preset", "audio_bitrate",
)  # fmt: skip


def recipe(extract: Extract, options: CutOptions) -> str:
    """What decides an extract's picture, sound and subtitles, by content (no paths, no file
    times); a changed recipe means the video must be made again. Title, description and tags
    are not in it: they live in the sidecar, which is rewritten alone when only they change."""
    subs_hash = hashlib.sha256(extract.subs.read_bytes()).hexdigest() if extract.subs else None
    style = load_style(extract.style) if options.burn else None
    data = {
        "clipkit": __version__,
        "source": source_key(extract.source),
        "range": [extract.start_ms, extract.end_ms],
        "audio_track": extract.audio_track,
        "subs": subs_hash,
        "style": {k: v for k, v in style.__dict__.items() if k != "name"} if style else None,
        "options": {k: str(getattr(options, k)) for k in RENDER_OPTIONS},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def output_paths(extract: Extract, out_dir: Path) -> dict[str, Path]:
    return {ext: out_dir / f"{extract.slug}.{ext}" for ext in ("mp4", "srt", "vtt", "json")}


def _existing(extract: Extract, options: CutOptions) -> ExtractSidecar | None:
    """The sidecar of an extract already made from the same recipe, if its files are whole."""
    paths = output_paths(extract, options.out_dir)
    if not all(p.is_file() for p in paths.values()):
        return None
    try:
        sidecar = read_sidecar(paths["json"])
    except InputError:
        return None
    if sidecar.recipe != recipe(extract, options) or sidecar.size != paths["mp4"].stat().st_size:
        return None
    return sidecar


MADE_BY = "made by clipkit"


def _ours(video: Path, sidecar: Path) -> bool:
    """Whether `video` is absent, or an extract clipkit made (its sidecar names it): an editor's
    own file of that name is never overwritten without --force."""
    if not video.exists() and not video.is_symlink():
        return True
    try:
        if read_sidecar(sidecar).video == video.name:
            return True
    except ClipkitError:
        pass
    try:  # a run killed between the video and its sidecar: the video says who made it
        import av

        with av.open(str(video)) as container:
            return str(container.metadata.get("comment", "")).startswith(MADE_BY)
    except Exception:  # noqa: BLE001 - not media, unreadable: not ours
        return False


def state_of(extract: Extract, options: CutOptions) -> str:
    """ "done", "metadata" (only the sidecar is out of date: title, description, tags...) or
    "stale" (the video must be made)."""
    existing = _existing(extract, options)
    if existing is None:
        return "stale"
    fresh = make_sidecar(extract, options, existing)
    return "done" if fresh == existing else "metadata"


DRY_RUN_STATES = {
    "done": "up to date (cut skips it; --force makes it again)",
    "metadata": "metadata changed: cut rewrites the sidecar, no encode",
    "stale": "to make",
}


def is_done(extract: Extract, options: CutOptions) -> bool:
    return state_of(extract, options) == "done"


def _portable_where(where: str, folder: Path) -> str:
    """A plan row's place ("plan.csv:3") relative to the extracts folder, so a copied project's
    sidecars still match their rows."""
    path, _, line = where.rpartition(":")
    if not line.isdigit() or not os.path.isabs(path):
        return where
    return f"{os.path.relpath(path, folder)}:{line}"


def make_sidecar(extract: Extract, options: CutOptions, made: ExtractSidecar) -> ExtractSidecar:
    """The sidecar for `extract`: what was made (`made`) with the plan row's metadata."""
    folder = options.out_dir
    language = transcript_language(extract)
    source = (
        os.path.relpath(extract.source, folder)
        if extract.source.is_absolute()
        else str(extract.source)
    )
    return replace(
        made,
        title=extract.title,
        description=extract.row.description,
        tags=tuple(extract.row.tags),
        slug=extract.slug,
        source=source,
        language=language,
        plan_row=_portable_where(extract.row.where, folder),
        clipkit_version=__version__,
        tracks=planned_tracks(extract.subs, language, extract.slug),
    )


def update_sidecar(extract: Extract, options: CutOptions) -> CutResult:
    """The same video: only the sidecar's metadata (title, description, tags...) changed."""
    paths = output_paths(extract, options.out_dir)
    existing = _existing(extract, options)
    assert existing is not None
    _write_tracks(extract, options)
    write_sidecar(paths["json"], make_sidecar(extract, options, existing))
    return CutResult(extract, "updated", paths["mp4"], paths["json"])


def _write_tracks(extract: Extract, options: CutOptions) -> None:
    """The extract's subtitles in other languages (translations beside its transcript)."""
    language = transcript_language(extract)
    write_tracks(
        extract.subs, language, extract.slug, extract.start_ms, extract.end_ms, options.out_dir
    )


def cut_one(
    extract: Extract, options: CutOptions, on_progress: Callable[[int], None] | None = None
) -> CutResult:
    paths = output_paths(extract, options.out_dir)
    cues = extract_cues(extract, options)
    style: BurnStyle = load_style(extract.style)
    binary = find_ffmpeg()
    gain = plan_gain(extract, options) if extract.info.has_audio else None
    width, height = output_size(extract.info, options.aspect)
    with temp_dir() as tmp:
        ass = None
        if options.burn and cues:
            ass = os.path.join(tmp, f"{extract.slug}.ass")
            words = extract_words(extract) if style.highlight_colour else None
            Path(ass).write_text(ass_document(cues, style, width, height, words), encoding="utf-8")
        with atomic_path(paths["mp4"]) as partial:
            args = build_encode_args(
                extract, options, input_path(partial), ass, gain.gain_db if gain else None, binary
            )
            run_ffmpeg(args, on_progress=on_progress, binary=binary, check_fonts=ass is not None)
            digest = sha256_file(partial)
            size = partial.stat().st_size
    for ext in ("srt", "vtt"):
        atomic_write_text(paths[ext], render(paths[ext], cues))
    _write_tracks(extract, options)
    made = ExtractSidecar(
        title="",
        slug=extract.slug,
        source="",
        start_ms=extract.start_ms,
        end_ms=extract.end_ms,
        video=paths["mp4"].name,
        srt=paths["srt"].name,
        vtt=paths["vtt"].name,
        cues=len(cues),
        burnt_in=ass is not None,
        aspect=options.aspect or f"{width}:{height}",
        size=size,
        sha256=digest,
        loudness=LoudnessRecord(
            target_lufs=options.loudness,
            integrated_lufs=gain.measured_lufs if gain else None,
            gain_db=round(gain.gain_db, 2) if gain else None,
            true_peak_limit_dbtp=options.true_peak,
        ),
        recipe=recipe(extract, options),
    )
    write_sidecar(paths["json"], make_sidecar(extract, options, made))
    return CutResult(
        extract,
        "done",
        paths["mp4"],
        paths["json"],
        loudness=gain.measured_lufs if gain else None,
    )


def cut_task(extract: Extract, options: CutOptions) -> CutResult:
    """On a cluster worker: one extract (what a killed attempt there left is removed first)."""
    from .cluster import count_task

    count_task("cut")
    remove_stale_parts(options.out_dir)
    try:
        return cut_one(extract, options)
    except ClipkitError as exc:
        return CutResult(extract, "failed", error=f"{extract.row.where}: {exc}")


def default_jobs() -> int:
    """One extract per core. x264 alone already uses about 1.8 of 2 cores; running two extracts
    side by side fills the gaps (decoding, filters, the audio chain and the loudness passes are
    serial): `make bench` measured 1.95 cores busy and the batch 3% faster than one at a time."""
    return max(1, os.cpu_count() or 1)


def cut_all(
    extracts: Sequence[Extract],
    options: CutOptions,
    on_event: EventCallback | None = None,
    cluster: Cluster | None = None,
) -> list[CutResult]:
    """Cut every extract not already made (the locks keep two runs from making one twice);
    with a `cluster`, each encode is a task on a worker offering the `encode` resource."""
    from .cluster import ENCODE

    emit = on_event or (lambda e: None)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(options.out_dir)  # what a killed run left behind
    total = len(extracts)
    results: dict[int, CutResult] = {}
    todo = []
    for i, ex in enumerate(extracts):
        for w in ex.warnings:
            emit(Event("warning", ex.slug, i + 1, total, message=f"{ex.row.where}: {w}"))
        if not options.force and is_done(ex, options):
            results[i] = CutResult(ex, "skipped", output_paths(ex, options.out_dir)["mp4"])
            emit(Event("skipped", ex.slug, i + 1, total))
        else:
            todo.append(i)

    emit(Event("batch", "", 0, total, duration_ms=sum(extracts[i].duration_ms for i in todo)))

    def work(i: int) -> CutResult:
        ex = extracts[i]
        paths = output_paths(ex, options.out_dir)

        def waiting() -> None:
            msg = f"{ex.row.where}: waiting for another clipkit run making {paths['mp4'].name}"
            emit(Event("warning", ex.slug, i + 1, total, message=msg))

        with item_lock(paths["mp4"], waiting):
            state = "stale" if options.force else state_of(ex, options)
            if state == "done":  # another run made it meanwhile
                return CutResult(ex, "skipped", paths["mp4"])
            if state == "metadata":
                return update_sidecar(ex, options)
            if not options.force and not _ours(paths["mp4"], paths["json"]):
                return CutResult(ex, "failed", error=(
                    f"{ex.row.where}: {paths['mp4']} exists and clipkit did not make it (no "
                    f"sidecar {paths['json'].name} names it); move it aside, or --force replaces it"
                ))  # fmt: skip
            return make(i, ex)

    def make(i: int, ex: Extract) -> CutResult:
        emit(Event("start", ex.slug, i + 1, total, duration_ms=ex.duration_ms))

        def progress(ms: int) -> None:
            emit(
                Event(
                    "progress",
                    ex.slug,
                    i + 1,
                    total,
                    done_ms=min(ms, ex.duration_ms),
                    duration_ms=ex.duration_ms,
                )
            )

        try:
            if cluster is not None:
                key = f"clipkit-cut-{recipe(ex, options)[:32]}-{ex.slug}"
                return cluster.run_all([(key, cut_task, (ex, options))], ENCODE)[0]
            return cut_one(ex, options, progress)
        except ClipkitError as exc:
            return CutResult(ex, "failed", error=f"{ex.row.where}: {exc}")

    jobs = max(1, min(options.jobs or default_jobs(), len(todo) or 1))
    if cluster is not None and todo:
        cluster.check_resource(ENCODE)
        inputs = {str(extracts[i].source) for i in todo}
        inputs |= {str(extracts[i].subs) for i in todo if extracts[i].subs is not None}
        cluster.check_paths(sorted(inputs), ENCODE)
        jobs = min(len(todo), 128)  # the workers set the pace; here each job only waits
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each job is an ffmpeg process
        futures = {pool.submit(work, i): i for i in todo}
        try:
            _collect(futures, extracts, options, results, emit)
        except KeyboardInterrupt:
            for fut in futures:
                fut.cancel()
            stop_all()  # workers see ffmpeg fail and remove their partial files
            raise
    return [results[i] for i in range(total)]


def _collect(futures, extracts, options, results, emit) -> None:  # type: ignore[no-untyped-def]
    total = len(extracts)
    for fut in as_completed(futures):
        i = futures[fut]
        result = fut.result()
        results[i] = result
        ex = extracts[i]
        if result.status == "skipped":
            emit(Event("skipped", ex.slug, i + 1, total))
        elif result.status == "updated":  # metadata only: the sidecar was rewritten
            emit(Event("done", ex.slug, i + 1, total, outputs=(str(result.sidecar),)))
        elif result.status == "done":
            outs = tuple(str(p) for p in output_paths(ex, options.out_dir).values())
            emit(
                Event(
                    "done",
                    ex.slug,
                    i + 1,
                    total,
                    done_ms=ex.duration_ms,
                    duration_ms=ex.duration_ms,
                    outputs=outs,
                )
            )
        else:
            emit(Event("failed", ex.slug, i + 1, total, message=result.error))


def dry_run_commands(extract: Extract, options: CutOptions) -> list[list[str]]:
    """The ffmpeg runs `cut` makes for an extract, in order: the loudness passes (run now: they
    are audio-only and cheap, and the encode needs the gain they find), then the encode, which
    writes to a temporary name beside NAME.mp4 that is renamed when it succeeds."""
    record: list[list[str]] = []
    gain = plan_gain(extract, options, record) if extract.info.has_audio else None
    ass = None
    if options.burn and extract_cues(extract, options):
        ass = str(Path(tempfile_hint()) / f"{extract.slug}.ass")
    out = input_path(output_paths(extract, options.out_dir)["mp4"])
    encode = build_encode_args(extract, options, out, ass, gain.gain_db if gain else None)
    return [*record, encode]


def tempfile_hint() -> str:
    """Where the burn-in script is written (a private temp folder, made per extract)."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), "clipkit-PID-XXXX")
