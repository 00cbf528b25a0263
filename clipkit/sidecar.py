"""The extract sidecar (`NAME.json` beside `NAME.mp4`): what `cut` made and what `publish`,
`archive` and `status` read. One typed record, one reader, one writer, versioned like the
transcript JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError
from .fsutil import atomic_write_text
from .settings import default as setting_default
from .timecode import format_clock

EXTRACT_FORMAT = "clipkit-extract/1"
# YouTube refuses titles with these characters or over this length: cut refuses them before
# encoding, publish checks sidecars written by hand
TITLE_MAX = 100
TITLE_FORBIDDEN = "<>"


@dataclass(frozen=True)
class LoudnessRecord:
    target_lufs: float
    integrated_lufs: float | None = None  # measured through the gain and limiter
    gain_db: float | None = None
    true_peak_limit_dbtp: float = -1.5


@dataclass(frozen=True)
class CaptionTrack:
    """A subtitle track in another language (a translation beside the transcript)."""

    language: str
    srt: str
    vtt: str
    from_sha256: str  # of the recording's translated subtitles it was sliced from


@dataclass(frozen=True)
class ExtractSidecar:
    title: str
    slug: str
    source: str  # the recording, relative to the sidecar's folder when it can be
    start_ms: int
    end_ms: int
    video: str  # file names in the sidecar's folder
    srt: str
    vtt: str
    cues: int
    burnt_in: bool
    aspect: str
    size: int
    sha256: str
    loudness: LoudnessRecord
    recipe: str  # what the video was made from: same recipe, same picture and sound
    description: str = ""
    tags: tuple[str, ...] = ()
    language: str | None = None
    plan_row: str = ""
    clipkit_version: str = ""
    # a film's moments: (slug, video SHA-256, recording) each, for consent and sign-off
    moments: tuple[tuple[str, str, str], ...] = ()
    tracks: tuple[CaptionTrack, ...] = ()  # translations, one per language

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms

    def plan_order(self, fallback: str) -> tuple[str, int, str]:
        """Where the extract stands in its plan (file, line), for playlist order."""
        plan, _, line = self.plan_row.rpartition(":")
        return (plan, int(line), fallback) if line.isdigit() else (self.plan_row, 0, fallback)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "format": EXTRACT_FORMAT,
            "clipkit_version": self.clipkit_version,
            "title": self.title,
            "description": self.description,
            "tags": list(self.tags),
            "slug": self.slug,
            "source": self.source,
            "start": self.start_ms / 1000,
            "end": self.end_ms / 1000,
            "start_timecode": format_clock(self.start_ms),
            "end_timecode": format_clock(self.end_ms),
            "duration": self.duration_ms / 1000,
            "video": self.video,
            "subtitles": {
                "srt": self.srt,
                "vtt": self.vtt,
                "cues": self.cues,
                "translations": [
                    {
                        "language": t.language,
                        "srt": t.srt,
                        "vtt": t.vtt,
                        "from_sha256": t.from_sha256,
                    }
                    for t in self.tracks
                ],
            },  # fmt: skip
            "burnt_in": self.burnt_in,
            "language": self.language,
            "aspect": self.aspect,
            "size": self.size,
            "sha256": self.sha256,
            "loudness": {
                "target_lufs": self.loudness.target_lufs,
                "integrated_lufs": self.loudness.integrated_lufs,
                "gain_db": self.loudness.gain_db,
                "true_peak_limit_dbtp": self.loudness.true_peak_limit_dbtp,
            },
            "plan_row": self.plan_row,
            "recipe": self.recipe,
        }

    @classmethod
    def from_json_dict(cls, data: Any, where: str) -> ExtractSidecar:
        if not isinstance(data, dict) or data.get("format") != EXTRACT_FORMAT:
            raise NotASidecar(f"{where}: not a clipkit extract sidecar")
        try:
            subs = data.get("subtitles") or {}
            loud = data.get("loudness") or {}
            return cls(
                title=str(data.get("title") or ""),
                slug=str(data.get("slug") or Path(where).stem),
                source=str(data.get("source") or ""),
                start_ms=round(float(data.get("start") or 0) * 1000),
                end_ms=round(float(data.get("end") or 0) * 1000),
                video=str(data.get("video") or ""),
                srt=str(subs.get("srt") or ""),
                vtt=str(subs.get("vtt") or ""),
                cues=int(subs.get("cues") or 0),
                burnt_in=bool(data.get("burnt_in")),
                aspect=str(data.get("aspect") or ""),
                size=int(data.get("size") or 0),
                sha256=str(data.get("sha256") or ""),
                loudness=LoudnessRecord(
                    target_lufs=float(loud.get("target_lufs", setting_default("cut", "loudness"))),
                    integrated_lufs=_float_or_none(loud.get("integrated_lufs")),
                    gain_db=_float_or_none(loud.get("gain_db")),
                    true_peak_limit_dbtp=float(loud.get("true_peak_limit_dbtp", -1.5)),
                ),
                recipe=str(data.get("recipe") or ""),
                description=str(data.get("description") or ""),
                tags=tuple(str(t) for t in data.get("tags") or ()),
                language=str(data["language"]) if data.get("language") else None,
                plan_row=str(data.get("plan_row") or ""),
                clipkit_version=str(data.get("clipkit_version") or ""),
                moments=tuple(
                    (str(m["slug"]), str(m.get("sha256", "")), str(m.get("recording", "")))
                    for m in (data.get("film") or {}).get("moments", [])
                ),
                tracks=tuple(
                    CaptionTrack(
                        str(t["language"]),
                        str(t.get("srt") or ""),
                        str(t.get("vtt") or ""),
                        str(t.get("from_sha256") or ""),
                    )
                    for t in subs.get("translations") or ()
                ),  # fmt: skip
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: damaged extract sidecar ({exc})") from exc


class NotASidecar(InputError):
    """A JSON file that is not an extract sidecar (a folder may hold other JSON)."""


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def read_sidecar(path: Path) -> ExtractSidecar:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot be read ({exc})") from exc
    except ValueError as exc:
        raise InputError(f"{path}: not a clipkit extract sidecar (invalid JSON)") from exc
    return ExtractSidecar.from_json_dict(data, str(path))


def write_sidecar(path: Path, sidecar: ExtractSidecar) -> None:
    text = json.dumps(sidecar.to_json_dict(), ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(path, text)
