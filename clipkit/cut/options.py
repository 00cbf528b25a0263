"""What a cut is asked for and what it made: the options, a validated extract, a result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..media import MediaInfo
from ..plan import PlanRow
from ..settings import default as setting_default
from ..timecode import parse_timecode

VERTICAL = "9:16"
MIN_EXTRACT_MS = 1000
MADE_BY = "made by clipkit"  # the MP4 comment by which a later run knows its own file


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
    loudness: float = setting_default("cut", "loudness")
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
