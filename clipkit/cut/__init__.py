"""The cut pipeline: validate a plan against its recordings, then make each extract in ONE ffmpeg
run: an accurate seek, the extract's subtitles burnt in, two-pass loudness normalisation, fades,
H.264 + AAC in MP4 with +faststart. Subtitles are written beside each video as SRT and WebVTT and
a JSON sidecar records what was made (the publisher uses its SHA-256).

The rooms, each importing only those before it: `options` (what is asked and made), `loudness`,
`graph` (the filter chains and the ffmpeg argv), `rows` (plan rows into extracts), `freshness`
(recipes and sidecars), `run` (one extract, a batch, the dry run).
"""

from .freshness import DRY_RUN_STATES, state_of
from .options import MIN_EXTRACT_MS, VERTICAL, CutOptions, CutResult, Extract
from .rows import find_subtitles, prepare, prepare_row, provisional_slug, snap_point
from .run import cut_all, cut_one, dry_run_commands

__all__ = [
    "DRY_RUN_STATES",
    "MIN_EXTRACT_MS",
    "VERTICAL",
    "CutOptions",
    "CutResult",
    "Extract",
    "cut_all",
    "cut_one",
    "dry_run_commands",
    "find_subtitles",
    "prepare",
    "prepare_row",
    "provisional_slug",
    "snap_point",
    "state_of",
]
