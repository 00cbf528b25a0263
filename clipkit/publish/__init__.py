"""The publish pipeline: extracts (their JSON sidecars) to a video platform's playlist with
captions, in rooms: `items` (what is published, its metadata), `options`, `state` (typed
records of the state file), `plan` (the dry run and pure decisions), `executor` (quota budget
and retries around every platform call) and `publisher` (the steps).

Nothing is uploaded twice. A state file in the extracts folder records, per extract SHA-256,
the resumable upload session and the bytes the server confirmed, then the video, playlist item
and caption ids, written atomically after every step. A re-run, even after `kill -9` in the
middle of an upload, asks the server how much of the session it holds and carries on from
there; steps that may have happened without being recorded (the process died between the call
and the save) are checked with a cheap list call before being repeated.
"""

from .executor import Executor, Platform
from .items import (
    MARKER_PREFIX,
    Item,
    VideoMeta,
    choose_items,
    clean_metadata,
    collect,
    marker_of,
    with_consent,
    with_signoff,
)
from .options import PublishOptions, UploadSettings
from .plan import PlannedCall, metadata_changes, plan_calls, playlist_moves, quota_estimate
from .publisher import UNVERIFIED_NOTE, Outcome, Publisher
from .state import (
    STATE_NAME,
    CaptionTrack,
    PlaylistItem,
    PlaylistState,
    PublishState,
    UploadedVideo,
)

__all__ = [
    "MARKER_PREFIX",
    "STATE_NAME",
    "UNVERIFIED_NOTE",
    "CaptionTrack",
    "Executor",
    "Item",
    "Outcome",
    "Platform",
    "PlannedCall",
    "PlaylistItem",
    "PlaylistState",
    "PublishOptions",
    "PublishState",
    "Publisher",
    "UploadSettings",
    "UploadedVideo",
    "VideoMeta",
    "choose_items",
    "clean_metadata",
    "collect",
    "marker_of",
    "metadata_changes",
    "plan_calls",
    "playlist_moves",
    "quota_estimate",
    "with_consent",
    "with_signoff",
]
