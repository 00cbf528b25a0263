"""Whether an extract is made and up to date (its recipe in the JSON sidecar), and the sidecar."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..burn import load_style
from ..errors import ClipkitError, InputError
from ..sidecar import (
    ExtractSidecar,
    read_sidecar,
    write_sidecar,
)
from ..sourcekey import source_key
from ..tracks import planned_tracks, write_tracks
from .options import MADE_BY, CutOptions, CutResult, Extract
from .rows import transcript_language

if TYPE_CHECKING:
    pass

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


def is_ours(video: Path, sidecar: Path) -> bool:
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
    write_extract_tracks(extract, options)
    write_sidecar(paths["json"], make_sidecar(extract, options, existing))
    return CutResult(extract, "updated", paths["mp4"], paths["json"])


def write_extract_tracks(extract: Extract, options: CutOptions) -> None:
    """The extract's subtitles in other languages (translations beside its transcript)."""
    language = transcript_language(extract)
    write_tracks(
        extract.subs, language, extract.slug, extract.start_ms, extract.end_ms, options.out_dir
    )
