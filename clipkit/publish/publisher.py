"""The publishing steps, platform-neutral: the playlist, the resumable upload, playlist items,
caption tracks, the thumbnail, replacing a changed extract, metadata kept in step, the
playlist's order, and the channel itself as the source of truth when the state is lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..batch import BatchItem, ProgressCallback, batch_of
from ..errors import BudgetReached, ClipkitError
from ..ffmpeg import grab_frame
from ..fsutil import temp_dir
from ..media import probe
from .executor import Executor, Platform
from .items import Item, VideoMeta, marker_of
from .options import PublishOptions
from .plan import changed_version, metadata_changes, playlist_moves
from .state import CaptionTrack, PlaylistItem, PublishState, UploadedVideo

STATE_SAVE_INTERVAL = 1.0  # seconds between saves of an upload's confirmed byte count
UNVERIFIED_NOTE = (
    "YouTube locks videos uploaded through unverified API projects to private until the "
    "project passes Google's API audit; the videos can be made public after that"
)


@dataclass
class Outcome:
    item: Item
    status: str = "pending"  # published, updated, already, changed, failed, left
    video_id: str = ""
    notes: list[str] = field(default_factory=list)


class Publisher:
    """Publishes extracts to one playlist on one platform, resuming whatever an earlier run
    left; every platform call goes through the executor, charged once and retried."""

    def __init__(
        self,
        channel: Platform,
        state: PublishState,
        options: PublishOptions,
        emit: ProgressCallback,
    ) -> None:
        self.channel = channel
        self.state = state
        self.options = options
        self.emit = emit
        self.calls = Executor(channel, options, emit)
        self._last_save = 0.0

    @property
    def used(self) -> int:
        """Quota units spent by this run."""
        return self.calls.used

    def warn(self, message: str) -> None:
        self.calls.warn(message)

    # the playlist

    def _find_playlist(self) -> str | None:
        for pid, title in self.calls.pages(
            self.channel.list_playlists, "playlists.list", "listing your playlists"
        ):
            if title == self.options.playlist:
                return self._remember_playlist(pid)
        return None

    def playlist_id(self) -> str:
        """The playlist's id: as recorded, else found on the channel by its title, else made."""
        known = self.state.playlist_id(self.options.playlist) or self._find_playlist()
        if known:
            return known
        created = self.calls.execute(
            self.channel.create_playlist(self.options.playlist, self.options.privacy),
            "playlists.insert",
            f"creating playlist {self.options.playlist!r}",
        )
        return self._remember_playlist(created)

    def _remember_playlist(self, pid: str) -> str:
        self.state.set_playlist_id(self.options.playlist, pid)
        self.state.save()
        return pid

    # the upload

    def _meta(self, item: Item) -> VideoMeta:
        return item.meta(self.options.privacy, self.options.category)

    def upload(self, item: Item, handle: BatchItem) -> tuple[str, str]:
        """(video id, privacy) of the uploaded extract, resuming an earlier session; its bytes
        are reported through `handle`."""
        record = self.state.entry(item.sha256)
        record.slug, record.file, record.size = item.slug, item.video.name, item.size
        upload = self.channel.upload(
            item.video,
            self._meta(item).with_marker(item.sha256),
            chunk_size=self.options.settings.chunk_size,
            session_uri=record.session_uri,
        )
        if not record.session_uri:
            self.calls.spend("videos.insert")
        self.emit(handle.start(done=record.bytes_confirmed))
        attempt = 0
        while True:
            try:
                result = upload.next_chunk()
            except Exception as exc:
                self._record_session(record, upload)
                if record.session_uri and self.channel.session_gone(exc):
                    self._restart(record, upload)
                    continue
                attempt += 1
                warning = f"{item.video.name}: {type(exc).__name__} during upload; resuming"
                self.calls.retry_or_raise(exc, attempt, f"uploading {item.video.name}", warning)
                continue
            attempt = 0
            self._record_session(record, upload)
            done = item.size if result is not None else upload.progress
            self.emit(handle.progress(done))
            if result is not None:
                record.video_id, record.privacy = result
                record.session_uri = None
                self.state.set_slug(item.slug, item.sha256)
                self.state.save()
                return result

    def _restart(self, record: UploadedVideo, upload: Any) -> None:
        self.warn("the earlier upload session has expired; starting the upload again")
        upload.restart()
        record.session_uri, record.bytes_confirmed = None, 0
        self.state.save()
        self.calls.spend("videos.insert")

    def _record_session(self, record: UploadedVideo, upload: Any) -> None:
        """The session URI is saved at once (it is what a later run resumes); the byte count
        only for people and progress, at most once a second, since a resuming run asks the
        server for its offset anyway."""
        if not upload.session_uri:
            return
        new_session = record.session_uri != upload.session_uri
        record.session_uri, record.bytes_confirmed = upload.session_uri, upload.progress
        now = time.monotonic()
        if new_session or now - self._last_save >= STATE_SAVE_INTERVAL:
            self.state.save()
            self._last_save = now

    # playlist items and captions: inserts that must never happen twice

    def _once(
        self,
        record: PlaylistItem | CaptionTrack,
        look_up: Callable[[], str | None],
        insert: Callable[[], str],
    ) -> str:
        """An insert made at most once: recorded as pending before the call, so that after a
        crash between the call and the save the next run looks for it before inserting."""
        if record.id:
            return record.id
        if record.pending and (found := look_up()):
            record.id, record.pending = found, False
            self.state.save()
            return found
        record.pending = True
        self.state.save()
        record.id, record.pending = str(insert()), False
        self.state.save()
        return record.id

    def add_to_playlist(
        self, item: Item, video_id: str, playlist_id: str, position: int | None
    ) -> str:
        return self._once(
            self.state.entry(item.sha256).playlist_item(playlist_id),
            lambda: self._find_playlist_item(playlist_id, video_id),
            lambda: self.calls.execute(
                self.channel.add_to_playlist(playlist_id, video_id, position),
                "playlistItems.insert",
                f"adding {item.video.name} to the playlist",
            ),
        )

    def _playlist_items(self, playlist_id: str, what: str) -> Iterator[tuple[str, str]]:
        return self.calls.pages(
            lambda token: self.channel.list_playlist_items(playlist_id, token),
            "playlistItems.list",
            what,
        )

    def _find_playlist_item(self, playlist_id: str, video_id: str) -> str | None:
        listing = self._playlist_items(playlist_id, "checking the playlist")
        return next((str(item_id) for item_id, vid in listing if vid == video_id), None)

    def add_caption(self, item: Item, video_id: str) -> str | None:
        """The extract's caption track in its own language, then one per translation."""
        record = self.state.entry(item.sha256)
        for language, srt in item.tracks:
            self._add_track(item, video_id, language, srt, record.translation(language))
        if item.srt is None:
            return None
        return self._add_track(item, video_id, item.language, item.srt, record.own_track())

    def _add_track(
        self, item: Item, video_id: str, language: str, srt: Path, record: CaptionTrack
    ) -> str:
        def look_up() -> str | None:
            listing = self.calls.execute(
                self.channel.list_captions(video_id), "captions.list", "checking captions"
            )
            return next((str(cap_id) for cap_id, found in listing if found == language), None)

        if not record.id:
            record.language = language
        return self._once(
            record,
            look_up,
            lambda: self.calls.execute(
                self.channel.add_captions(video_id, language, srt),
                "captions.insert",
                f"adding {language} captions to {item.video.name}",
            ),
        )

    def set_thumbnail(self, item: Item, video_id: str, seconds: float) -> None:
        """A custom thumbnail from the frame at `seconds` (YouTube allows them only on verified
        channels: a refusal is reported, and the video keeps the platform's own)."""
        record = self.state.entry(item.sha256)
        if record.thumbnail_at is not None:
            return
        duration = probe(item.video).duration_ms / 1000
        at = seconds if seconds < duration else duration / 2
        with temp_dir() as tmp:
            jpg = Path(tmp) / "thumbnail.jpg"
            grab_frame(item.video, at, jpg)
            try:
                self.calls.execute(
                    self.channel.set_thumbnail(video_id, jpg),
                    "thumbnails.set",
                    f"setting the thumbnail of {item.video.name}",
                )
            except ClipkitError as exc:
                cause = self.channel.classify(exc.__cause__ or exc)
                if isinstance(exc, BudgetReached) or cause in ("quota", "auth"):
                    raise
                self.warn(f"{item.video.name}: no custom thumbnail ({exc}); custom thumbnails "
                          "need a verified channel")  # fmt: skip
                return
        record.thumbnail_at = round(at, 3)
        self.state.save()

    def remove_old(self, old_sha: str, playlist_id: str) -> None:
        """The earlier version of a changed extract: out of the playlist, then deleted."""
        old = self.state.entry(old_sha)
        in_playlist = old.playlists.get(playlist_id)
        if in_playlist and in_playlist.id:
            self.calls.execute(
                self.channel.remove_from_playlist(in_playlist.id),
                "playlistItems.delete",
                "removing the old version",
            )
            in_playlist.id = None
            self.state.save()
        if old.video_id:
            self.calls.execute(
                self.channel.delete_video(old.video_id), "videos.delete", "deleting the old version"
            )
            old.replaced, old.video_id = old.video_id, None
            self.state.save()

    def update_metadata(self, item: Item, record: UploadedVideo) -> bool:
        """Title, description, tags or privacy changed in the plan: an update, no upload."""
        what = metadata_changes(record, item, self.options.privacy)
        meta = self._meta(item)
        if record.meta is None:
            record.meta = meta
            self.state.save()
        if not what:
            return False
        self.calls.execute(
            self.channel.update_video(str(record.video_id), meta.with_marker(item.sha256)),
            "videos.update",
            f"updating the {', '.join(what)} of {item.video.name}",
        )
        record.meta = meta
        self.state.save()
        return True

    # the channel as the source of truth

    def channel_videos(self) -> Iterator[tuple[str, VideoMeta]]:
        """(video id, metadata with every tag) of every video on the channel, newest first."""
        uploads = self.calls.execute(
            self.channel.uploads_playlist(), "channels.list", "finding your uploads"
        )
        yield from self.calls.pages(
            lambda token: self.channel.list_uploads(uploads, token),
            "videos.list",
            "checking what your channel already holds",
        )

    def reconcile(self, items: Sequence[Item], playlist_id: str | None) -> list[Item]:
        """Extracts the state does not know as published, looked up on the channel by their
        marker; those found are recorded (their playlist item and captions to be checked before
        any insert). Returns the items found, in plan order."""
        wanted = {marker_of(i.sha256): i for i in items if not self.state.video_id(i.sha256)}
        found: list[Item] = []
        if not wanted:
            return found
        for video_id, meta in self.channel_videos():
            for tag in meta.tags:
                if item := wanted.pop(tag, None):
                    self._found_on_channel(item, video_id, meta, playlist_id)
                    found.append(item)
            if not wanted:
                break
        if found:
            self.state.save()
            self.warn(f"{len(found)} extract(s) already on the channel (found by clipkit's tag); "
                      "recorded, not uploaded again")  # fmt: skip
        return [i for i in items if any(i is f for f in found)]

    def _found_on_channel(
        self, item: Item, video_id: str, meta: VideoMeta, playlist_id: str | None
    ) -> None:
        record = self.state.entry(item.sha256)
        record.session_uri = None
        record.video_id, record.privacy, record.meta = (
            video_id,
            meta.privacy,
            meta.without_markers(),
        )
        record.slug, record.file, record.size = item.slug, item.video.name, item.size
        if playlist_id and not (entry := record.playlist_item(playlist_id)).id:
            entry.pending = True
        tracks = [record.own_track()] + [record.translation(lang) for lang, _ in item.tracks]
        for track in tracks:  # its translations may be there too
            track.pending = track.pending or not track.id
        if not self.state.sha_of_slug(item.slug):
            self.state.set_slug(item.slug, item.sha256)

    def resync(self, items: Sequence[Item]) -> list[Item]:
        """The state file rebuilt from the channel: the playlist found by its title (not made),
        each extract's video found by its marker."""
        playlist_id = self.state.playlist_id(self.options.playlist) or self._find_playlist()
        return self.reconcile(items, playlist_id)

    # the whole run

    def run(self, items: Sequence[Item]) -> list[Outcome]:
        outcomes = [Outcome(item) for item in items]
        playlist_id = self.playlist_id()
        self.reconcile(items, playlist_id)
        to_upload = [i for i in items if not self.state.video_id(i.sha256)]
        self.emit(batch_of(sum(i.size for i in to_upload), len(items), "bytes"))
        in_playlist = 0
        try:
            for index, outcome in enumerate(outcomes, start=1):
                self._publish(outcome, index, len(items), playlist_id, in_playlist)
                in_playlist += 1
            # extracts published before this run may have moved in the plan (or left it)
            if self.options.prune or any(o.status in ("already", "updated") for o in outcomes):
                self.keep_order(items, playlist_id)
            else:  # all inserted in plan order just now: that is the playlist's order
                self.state.set_order(playlist_id, [v for i in items if (v := self._video_of(i))])
                self.state.save()
        except BudgetReached:
            for outcome in outcomes:
                if outcome.status == "pending":
                    outcome.status = "left"
            raise
        return outcomes

    def _publish(
        self, outcome: Outcome, index: int, total: int, playlist_id: str, position: int
    ) -> None:
        """One extract: uploaded (or its metadata kept in step), in the playlist at `position`,
        with its captions and thumbnail, replacing its earlier version with --replace."""
        item = outcome.item
        handle = BatchItem(item.slug, index, total, item.size, "bytes")
        for fix in item.fixups:
            self.warn(f"{item.sidecar.name}: {fix}")
        old = changed_version(item, self.state)
        if old and not self.options.replace:
            outcome.status, outcome.video_id = "changed", self.state.video_id(old) or ""
            message = "changed since it was published; --replace replaces it"
            self.emit(handle.finished("failed", message=message))
            return
        record = self.state.entry(item.sha256)
        fresh = not record.video_id
        updated = not fresh and not old and self.update_metadata(item, record)
        if fresh:
            self._upload_new(outcome, handle)
        video_id = str(record.video_id)
        self.add_to_playlist(item, video_id, playlist_id, position)
        if self.options.captions:
            self.add_caption(item, video_id)
        if self.options.thumbnail_at is not None:
            self.set_thumbnail(item, video_id, self.options.thumbnail_at)
        if old:
            self.remove_old(old, playlist_id)
            self.state.set_slug(item.slug, item.sha256)
            self.state.save()
        outcome.status = "published" if fresh or old else "updated" if updated else "already"
        outcome.video_id = video_id
        kind = "done" if outcome.status in ("published", "updated") else "skipped"
        self.emit(handle.finished(kind, (self.channel.video_url(video_id),)))

    def _upload_new(self, outcome: Outcome, handle: BatchItem) -> None:
        item = outcome.item
        _, privacy = self.upload(item, handle)
        self.state.entry(item.sha256).meta = self._meta(item)
        self.state.save()
        if self.options.privacy != "private" and privacy == "private":
            outcome.notes.append(UNVERIFIED_NOTE)
            self.warn(f"{item.video.name}: uploaded as private, not {self.options.privacy}: "
                      f"{UNVERIFIED_NOTE}")  # fmt: skip

    def _video_of(self, item: Item) -> str | None:
        """The extract's video on the platform: this version's, else the one published under its
        slug (a changed extract not yet replaced)."""
        return self.state.video_id(item.sha256) or self.state.video_id(
            self.state.sha_of_slug(item.slug) or ""
        )

    def keep_order(self, items: Sequence[Item], playlist_id: str) -> None:
        """The playlist in plan order (moves with `playlistItems.update`); playlist items of
        extracts no longer in the plan are reported, and removed with --prune."""
        listing = list(self._playlist_items(playlist_id, "checking the playlist's order"))
        wanted = [v for i in items if (v := self._video_of(i))]
        ours = set(self.state.ours())
        for item_id, video_id in listing:
            if video_id in ours and video_id not in wanted:
                if self.options.prune:
                    self.calls.execute(self.channel.remove_from_playlist(item_id), "playlistItems.delete",
                                       f"removing {video_id}, no longer in the plan")  # fmt: skip
                else:
                    self.warn(f"{self.channel.video_url(video_id)} is in the playlist but no "
                              "longer in the plan: --prune removes it from the playlist")  # fmt: skip
        if self.options.prune:
            listing = [(i, v) for i, v in listing if v not in ours or v in wanted]
        item_of = dict((v, i) for i, v in listing)
        for video_id, position in playlist_moves([v for _, v in listing], wanted):
            self.calls.execute(
                self.channel.move_in_playlist(item_of[video_id], playlist_id, video_id, position),
                "playlistItems.update", f"moving {video_id} to position {position + 1}",
            )  # fmt: skip
        self.state.set_order(playlist_id, [v for v in wanted if v in item_of])
        self.state.save()
