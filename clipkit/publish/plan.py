"""The calls a publish would make (the dry run, the quota estimate) and the pure decisions
the publisher shares with it: playlist moves, metadata changes, a changed extract."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .items import Item
from .options import PublishOptions
from .state import PublishState, UploadedVideo


@dataclass(frozen=True)
class PlannedCall:
    item: Item | None
    call: str
    note: str = ""


def plan_calls(
    items: Sequence[Item], state: PublishState, options: PublishOptions
) -> list[PlannedCall]:
    calls: list[PlannedCall] = []
    if state.playlist_id(options.playlist) is None:
        calls.append(PlannedCall(None, "playlists.list", f"find {options.playlist!r}"))
        calls.append(PlannedCall(None, "playlists.insert", "if not found"))
    if any(not state.video_id(i.sha256) for i in items):  # the channel may hold them already
        calls.append(PlannedCall(None, "channels.list", "find your uploads"))
        calls.append(PlannedCall(None, "videos.list", "look for these extracts by clipkit's tag"))
    for item in items:
        if not changed_version(item, state) or options.replace:
            calls += _item_calls(item, state, options)
    published = [v for i in items if (v := state.video_id(i.sha256))]
    if published:
        calls.append(PlannedCall(None, "playlistItems.list", "check the playlist's order"))
        known = state.order(state.playlist_id(options.playlist) or "")
        for video_id, position in playlist_moves(known, published):
            calls.append(PlannedCall(None, "playlistItems.update",
                                     f"move {video_id} to position {position + 1}"))  # fmt: skip
    return calls


def _item_calls(item: Item, state: PublishState, options: PublishOptions) -> list[PlannedCall]:
    record = state.known(item.sha256)
    calls = []
    if not record.video_id:
        calls.append(PlannedCall(item, "videos.insert", f"{item.size / 1e6:.1f} MB"))
    if not record.in_a_playlist():
        calls.append(PlannedCall(item, "playlistItems.insert"))
    if options.captions and item.srt and not record.has_track():
        calls.append(PlannedCall(item, "captions.insert", item.language))
    for language, _ in item.tracks if options.captions else ():
        if not record.has_track(language):
            calls.append(PlannedCall(item, "captions.insert", language))
    if options.thumbnail_at is not None and record.thumbnail_at is None:
        calls.append(PlannedCall(item, "thumbnails.set", f"frame at {options.thumbnail_at:g} s"))
    if changed_version(item, state):
        calls += [
            PlannedCall(item, "playlistItems.delete", "old version"),
            PlannedCall(item, "videos.delete", "old version"),
        ]
    elif record.video_id and (what := metadata_changes(record, item, options.privacy)):
        calls.append(PlannedCall(item, "videos.update", f"{', '.join(what)} changed"))
    return calls


def quota_estimate(calls: Sequence[PlannedCall], options: PublishOptions) -> tuple[int, int, int]:
    """(units these calls cost, the daily budget, extracts a day's quota uploads)."""
    costs = options.costs
    units = sum(costs.get(c.call, 1) for c in calls)
    daily = costs.get("daily_budget", 10000)
    per_upload = sum(costs.get(c, 1) for c in ("videos.insert", "playlistItems.insert"))
    per_upload += costs.get("captions.insert", 400) if options.captions else 0
    return units, daily, daily // per_upload


def playlist_moves(current: list[str], wanted: list[str]) -> list[tuple[str, int]]:
    """The (video, new position) moves that put `wanted` first, in order, into a playlist now
    in `current` order: one move per video out of place."""
    order = list(current)
    moves = []
    for position, video_id in enumerate(v for v in wanted if v in current):
        if position < len(order) and order[position] == video_id:
            continue
        moves.append((video_id, position))
        order.remove(video_id)
        order.insert(position, video_id)
    return moves


def metadata_changes(record: UploadedVideo, item: Item, privacy: str) -> list[str]:
    """Which of title, description, tags and privacy differ from what was published."""
    if record.meta is None:
        return []  # published before clipkit recorded it: taken as in step
    return item.meta(privacy).changes_from(record.meta)


def changed_version(item: Item, state: PublishState) -> str | None:
    """The SHA-256 of an earlier, different version of this extract already published."""
    old = state.sha_of_slug(item.slug)
    if old and old != item.sha256 and state.video_id(old):
        return old
    return None
