"""The publish pipeline: extracts (their JSON sidecars) to a YouTube playlist with captions.

Nothing is uploaded twice. A state file in the extracts folder records, per extract SHA-256,
the resumable upload session and the bytes the server confirmed, then the video, playlist item
and caption ids, written atomically after every step. A re-run, even after `kill -9` in the
middle of an upload, asks the server how much of the session it holds and carries on from
there; steps that may have happened without being recorded (the process died between the call
and the save) are checked with a cheap list call before being repeated.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ClipkitError, InputError
from .ffmpeg import sha256_file
from .fsutil import atomic_write_text
from .plan import PlanError
from .progress import Event, EventCallback
from .sidecar import ExtractSidecar, NotASidecar, read_sidecar
from .youtube import (
    AuthError,
    QuotaError,
    UploadSettings,
    YouTubeError,
    classify,
    error_message,
    error_reason,
    quota_reset,
)

STATE_NAME = ".clipkit-publish.json"
STATE_SAVE_INTERVAL = 1.0  # seconds between saves of an upload's confirmed byte count
PRIVACY = ("private", "unlisted", "public")
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
UNVERIFIED_NOTE = (
    "YouTube locks videos uploaded through unverified API projects to private until the "
    "project passes Google's API audit; the videos can be made public after that"
)


class BudgetReached(ClipkitError):
    """Publishing stopped before a call that would exceed the quota budget."""


@dataclass(frozen=True)
class PublishOptions:
    playlist: str
    privacy: str = "private"
    captions: bool = True
    thumbnail_at: float | None = None  # seconds into each extract; None: YouTube picks
    replace: bool = False
    quota_budget: int | None = None
    language: str | None = None
    category: str = "22"  # People & Blogs
    settings: UploadSettings = field(default_factory=UploadSettings)
    costs: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Item:
    sidecar: Path
    video: Path
    srt: Path | None
    sha256: str
    slug: str
    title: str
    description: str
    tags: tuple[str, ...]
    language: str
    fixups: tuple[str, ...]
    order: tuple[str, int, str]

    @property
    def size(self) -> int:
        return self.video.stat().st_size


# --- sidecars ------------------------------------------------------------------------------


def clean_metadata(
    sidecar: ExtractSidecar, where: str
) -> tuple[str, str, tuple[str, ...], list[str]]:
    """YouTube's limits: title <= 100 characters without < or >, description <= 5000 bytes
    without < or >, tags <= 500 characters in all. Fix-ups are returned to be reported."""
    fixups: list[str] = []
    title = " ".join(sidecar.title.split())
    if not title:
        raise InputError(f"{where}: no title")
    if "<" in title or ">" in title:
        raise InputError(f"{where}: the title contains < or >, which YouTube does not accept")
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
        fixups.append(f"title shortened to {TITLE_MAX} characters")
    description = sidecar.description
    if "<" in description or ">" in description:
        description = description.replace("<", "‹").replace(">", "›")
        fixups.append("< and > in the description replaced by ‹ and ›")
    if len(description.encode("utf-8")) > DESCRIPTION_MAX_BYTES:
        cut = description.encode("utf-8")[: DESCRIPTION_MAX_BYTES - 3].decode("utf-8", "ignore")
        description = cut.rstrip() + "…"
        fixups.append(f"description shortened to {DESCRIPTION_MAX_BYTES} bytes")
    tags: list[str] = []
    total = 0
    raw_tags = [t.replace("<", "").replace(">", "").strip() for t in sidecar.tags]
    for tag in filter(None, raw_tags):
        cost = len(tag) + (2 if " " in tag else 0) + (1 if tags else 0)  # quotes and commas count
        if total + cost > TAGS_MAX:
            fixups.append(
                f"tags after {tags[-1] if tags else 'the first'!r} dropped ({TAGS_MAX}-character limit)"
            )
            break
        tags.append(tag)
        total += cost
    return title, description, tuple(tags), fixups


def collect(paths: Sequence[Path], language: str | None = None) -> list[Item]:
    """The extracts to publish, from folders of sidecars or sidecar files; all problems at once."""
    sidecars: list[Path] = []
    for p in paths:
        if p.is_dir():
            sidecars += sorted(f for f in p.glob("*.json") if not f.name.startswith("."))
        elif p.is_file():
            sidecars.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    items, problems = [], []
    for path in sidecars:
        try:
            sidecar = read_sidecar(path)
        except NotASidecar as exc:
            if len(paths) == 1 and paths[0].is_dir():
                continue  # other JSON in the folder (transcripts) is not ours to publish
            problems.append(str(exc))
            continue
        except InputError as exc:
            problems.append(str(exc))
            continue
        try:
            title, description, tags, fixups = clean_metadata(sidecar, str(path))
        except InputError as exc:
            problems.append(str(exc))
            continue
        video = path.parent / sidecar.video
        if not sidecar.video or not video.is_file():
            problems.append(f"{path}: video {video.name if sidecar.video else '(none)'} is missing")
            continue
        srt = (
            path.parent / sidecar.srt
            if sidecar.srt and (path.parent / sidecar.srt).is_file()
            else None
        )
        items.append(
            Item(
                sidecar=path,
                video=video,
                srt=srt,
                sha256=sha256_file(video),
                slug=sidecar.slug,
                title=title,
                description=description,
                tags=tags,
                language=language or sidecar.language or "en",
                fixups=tuple(fixups),
                order=sidecar.plan_order(path.name),
            )
        )
    if problems:
        raise PlanError(problems)
    if not items:
        raise InputError("no extracts to publish (expected clipkit extract sidecars, NAME.json)")
    return sorted(items, key=lambda i: i.order)


# --- state ---------------------------------------------------------------------------------


class PublishState:
    """The state file: {'playlists': {title: id}, 'extracts': {sha256: {...}}, 'slugs': {slug: sha256}}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "format": "clipkit-publish/1",
            "playlists": {},
            "extracts": {},
            "slugs": {},
        }
        if path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(
                    f"{path}: the publish state is damaged (not JSON); move it aside to start over"
                ) from exc
            self.data.update(loaded)

    @classmethod
    def for_items(cls, items: Sequence[Item]) -> PublishState:
        folder = Path(os.path.commonpath([str(i.sidecar.parent.resolve()) for i in items]))
        return cls(folder / STATE_NAME)

    def entry(self, sha: str) -> dict[str, Any]:
        """The record of the extract whose video has this SHA-256 (made when absent)."""
        return self.data["extracts"].setdefault(sha, {})

    def known(self, sha: str) -> dict[str, Any]:
        """The record of that extract, or an empty one (nothing is added)."""
        return dict(self.data["extracts"].get(sha, {}))

    def video_id(self, sha: str) -> str | None:
        value = self.data["extracts"].get(sha, {}).get("video_id")
        return str(value) if value else None

    def playlist_id(self, title: str) -> str | None:
        return self.data["playlists"].get(title)

    def set_playlist_id(self, title: str, playlist_id: str) -> None:
        self.data["playlists"][title] = playlist_id

    def sha_of_slug(self, slug: str) -> str | None:
        return self.data["slugs"].get(slug)

    def set_slug(self, slug: str, sha: str) -> None:
        self.data["slugs"][slug] = sha

    def published(self) -> dict[str, str]:
        """{slug: video id} of every extract published."""
        out = {}
        for slug, sha in self.data["slugs"].items():
            if video := self.video_id(sha):
                out[slug] = video
        return out

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, ensure_ascii=False, indent=2) + "\n")


# --- planning (dry run and budget) ---------------------------------------------------------


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
    for item in items:
        entry = state.known(item.sha256)
        if _changed(item, state) and not options.replace:
            continue
        if not entry.get("video_id"):
            calls.append(PlannedCall(item, "videos.insert", f"{item.size / 1e6:.1f} MB"))
        if not any(p.get("item_id") for p in entry.get("playlists", {}).values()):
            calls.append(PlannedCall(item, "playlistItems.insert"))
        if options.captions and item.srt and not entry.get("caption", {}).get("id"):
            calls.append(PlannedCall(item, "captions.insert", item.language))
        if options.thumbnail_at is not None and not entry.get("thumbnail"):
            calls.append(
                PlannedCall(item, "thumbnails.set", f"frame at {options.thumbnail_at:g} s")
            )
        if _changed(item, state):
            calls += [
                PlannedCall(item, "playlistItems.delete", "old version"),
                PlannedCall(item, "videos.delete", "old version"),
            ]
    return calls


def _changed(item: Item, state: PublishState) -> str | None:
    """The SHA-256 of an earlier, different version of this extract already on YouTube."""
    old = state.sha_of_slug(item.slug)
    if old and old != item.sha256 and state.video_id(old):
        return str(old)
    return None


# --- publishing ----------------------------------------------------------------------------


@dataclass
class Outcome:
    item: Item
    status: str = "pending"  # published, already, changed, failed, left
    video_id: str = ""
    notes: list[str] = field(default_factory=list)


def _media_class() -> Any:  # built lazily: googleapiclient is an optional extra
    from googleapiclient.http import MediaFileUpload

    class BytesFileUpload(MediaFileUpload):  # type: ignore[misc]
        """Hands each chunk to the transport as bytes: after a dropped connection httplib2
        silently resends a request once, and a stream-backed chunk cannot be rewound (the resend
        went out empty and hung until the socket timeout)."""

        def has_stream(self) -> bool:
            return False

    return BytesFileUpload


class Publisher:
    def __init__(
        self, client: Any, state: PublishState, options: PublishOptions, emit: EventCallback
    ) -> None:
        self.client = client
        self.state = state
        self.options = options
        self.emit = emit
        self.used = 0
        self.calls: list[str] = []
        self.sleep: Callable[[float], None] = time.sleep
        self._last_save = 0.0

    # quota and retries

    def spend(self, call: str) -> None:
        cost = self.options.costs.get(call, 1)
        budget = self.options.quota_budget
        if budget is not None and self.used + cost > budget:
            raise BudgetReached(
                f"stopped before {call} ({cost} units): it would exceed the quota budget of "
                f"{budget} units ({self.used} used); run again after the quota resets at {quota_reset()}"
            )
        self.used += cost
        self.calls.append(call)

    def backoff(self, attempt: int) -> float:
        s = self.options.settings
        return random.uniform(
            0, min(s.retry_max_seconds, s.retry_base_seconds * 2**attempt)
        )  # full jitter

    def fail(self, exc: BaseException, what: str) -> ClipkitError:
        kind = classify(exc)
        if kind == "quota":
            reason = error_reason(exc)
            limit = "upload limit" if reason == "uploadLimitExceeded" else "daily API quota"
            return QuotaError(
                f"YouTube's {limit} is used up ({what}); it resets at {quota_reset()}"
            )
        if kind == "auth":
            return AuthError(f"YouTube refused the saved login ({what}): run `clipkit auth login`")
        return YouTubeError(f"{what} failed: {error_message(exc)}")

    def execute(self, request: Any, call: str, what: str) -> Any:
        """One API call, charged once, retried on transient errors."""
        self.spend(call)
        for attempt in range(self.options.settings.retries + 1):
            try:
                return request.execute()
            except Exception as exc:
                if classify(exc) != "retry" or attempt == self.options.settings.retries:
                    raise self.fail(exc, what) from exc
                self.warn(
                    f"{what}: {type(exc).__name__}; retrying ({attempt + 1}/{self.options.settings.retries})"
                )
                self.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def warn(self, message: str) -> None:
        self.emit(Event("warning", "", 0, 0, message=message))

    # the playlist

    def playlist_id(self) -> str:
        known = self.state.playlist_id(self.options.playlist)
        if known:
            return str(known)
        listing = self.client.playlists().list
        for pl in self._items(
            lambda token: listing(part="snippet", mine=True, maxResults=50, pageToken=token),
            "playlists.list",
            "listing your playlists",
        ):
            if pl.get("snippet", {}).get("title") == self.options.playlist:
                return self._remember_playlist(pl["id"])
        created = self.execute(
            self.client.playlists().insert(
                part="snippet,status",
                body={
                    "snippet": {"title": self.options.playlist},
                    "status": {"privacyStatus": self.options.privacy},
                },
            ),
            "playlists.insert",
            f"creating playlist {self.options.playlist!r}",
        )
        return self._remember_playlist(created["id"])

    def _remember_playlist(self, pid: str) -> str:
        self.state.set_playlist_id(self.options.playlist, pid)
        self.state.save()
        return pid

    # the upload

    def upload(self, item: Item, index: int, total: int) -> dict[str, Any]:
        entry = self.state.entry(item.sha256)
        entry.update({"slug": item.slug, "file": item.video.name, "size": item.size})
        body = {
            "snippet": {
                "title": item.title,
                "description": item.description,
                "tags": list(item.tags),
                "categoryId": self.options.category,
                "defaultLanguage": item.language,
                "defaultAudioLanguage": item.language,
            },
            "status": {"privacyStatus": self.options.privacy, "selfDeclaredMadeForKids": False},
        }
        media = _media_class()(
            str(item.video),
            mimetype="video/mp4",
            chunksize=self.options.settings.chunk_size,
            resumable=True,
        )
        request = self.client.videos().insert(
            part="snippet,status", body=body, media_body=media, notifySubscribers=False
        )
        if entry.get("session_uri"):
            # a session from an earlier run: first ask the server how much it holds ("bytes */N")
            request.resumable_uri = entry["session_uri"]
            request._in_error_state = True
        else:
            self.spend("videos.insert")
        attempt = 0
        self.emit(
            Event(
                "start",
                item.slug,
                index,
                total,
                done_ms=entry.get("bytes_confirmed", 0),
                duration_ms=item.size,
            )
        )
        while True:
            try:
                status, response = request.next_chunk()
            except Exception as exc:
                self._record_session(entry, request)
                if self._session_gone(exc, request, entry):
                    self.spend("videos.insert")
                    continue
                if classify(exc) != "retry" or attempt >= self.options.settings.retries:
                    raise self.fail(exc, f"uploading {item.video.name}") from exc
                attempt += 1
                self.warn(
                    f"{item.video.name}: {type(exc).__name__} during upload; resuming ({attempt}/{self.options.settings.retries})"
                )
                self.sleep(self.backoff(attempt - 1))
                continue
            attempt = 0
            self._record_session(entry, request)
            done = item.size if response is not None else request.resumable_progress
            self.emit(
                Event("progress", item.slug, index, total, done_ms=done, duration_ms=item.size)
            )
            if response is not None:
                entry.update(
                    {
                        "video_id": response["id"],
                        "privacy": response.get("status", {}).get("privacyStatus"),
                    }
                )
                entry.pop("session_uri", None)
                self.state.set_slug(item.slug, item.sha256)
                self.state.save()
                return dict(response)

    def _record_session(self, entry: dict[str, Any], request: Any) -> None:
        """The session URI is saved at once (it is what a later run resumes); the byte count
        only for people and progress, at most once a second, since a resuming run asks the
        server for its offset anyway."""
        if not request.resumable_uri:
            return
        new_session = entry.get("session_uri") != request.resumable_uri
        entry["session_uri"] = request.resumable_uri
        entry["bytes_confirmed"] = request.resumable_progress
        now = time.monotonic()
        if new_session or now - self._last_save >= STATE_SAVE_INTERVAL:
            self.state.save()
            self._last_save = now

    def _session_gone(self, exc: BaseException, request: Any, entry: dict[str, Any]) -> bool:
        """An upload session the server no longer knows (expired): start a new one."""
        status = getattr(getattr(exc, "resp", None), "status", None)
        if entry.get("session_uri") and status in (404, 410):
            self.warn("the earlier upload session has expired; starting the upload again")
            request.resumable_uri = None
            request.resumable_progress = 0
            request._in_error_state = False
            entry.pop("session_uri", None)
            entry["bytes_confirmed"] = 0
            self.state.save()
            return True
        return False

    # playlist items and captions

    def add_to_playlist(
        self, item: Item, video_id: str, playlist_id: str, position: int | None
    ) -> str:
        entry = self.state.entry(item.sha256)
        record = entry.setdefault("playlists", {}).setdefault(playlist_id, {})
        if record.get("item_id"):
            return str(record["item_id"])
        if record.get("pending"):  # the last run may have added it without recording it
            found = self._find_playlist_item(playlist_id, video_id)
            if found:
                record.update({"item_id": found, "pending": False})
                self.state.save()
                return found
        record["pending"] = True
        self.state.save()
        snippet: dict[str, Any] = {
            "playlistId": playlist_id,
            "resourceId": {"kind": "youtube#video", "videoId": video_id},
        }
        if position is not None:
            snippet["position"] = position
        result = self.execute(
            self.client.playlistItems().insert(part="snippet", body={"snippet": snippet}),
            "playlistItems.insert",
            f"adding {item.video.name} to the playlist",
        )
        record.update({"item_id": result["id"], "pending": False})
        self.state.save()
        return str(result["id"])

    def _find_playlist_item(self, playlist_id: str, video_id: str) -> str | None:
        listing = self.client.playlistItems().list
        for it in self._items(
            lambda token: listing(
                part="snippet", playlistId=playlist_id, maxResults=50, pageToken=token
            ),
            "playlistItems.list",
            "checking the playlist",
        ):
            if it.get("snippet", {}).get("resourceId", {}).get("videoId") == video_id:
                return str(it["id"])
        return None

    def _items(
        self, request_for: Callable[[str | None], Any], call: str, what: str
    ) -> Iterator[dict[str, Any]]:
        """Every item of a paged list call, one page (and one quota charge) at a time."""
        token = None
        while True:
            page = self.execute(request_for(token), call, what)
            yield from page.get("items", [])
            token = page.get("nextPageToken")
            if not token:
                return

    def set_thumbnail(self, item: Item, video_id: str, seconds: float) -> None:
        """A custom thumbnail from the frame at `seconds` (YouTube allows them only on verified
        channels: a refusal is reported, and the video keeps YouTube's own)."""
        import tempfile

        from googleapiclient.http import MediaFileUpload

        from .ffmpeg import input_path, probe, run_ffmpeg

        entry = self.state.entry(item.sha256)
        if entry.get("thumbnail"):
            return
        duration = probe(item.video).duration_ms / 1000
        at = seconds if seconds < duration else duration / 2
        with tempfile.TemporaryDirectory(prefix="clipkit-") as tmp:
            jpg = Path(tmp) / "thumbnail.jpg"
            run_ffmpeg(["-y", "-loglevel", "error", "-ss", f"{at:.3f}", "-i", input_path(item.video),
                        "-frames:v", "1", "-q:v", "2", "-vf", "scale='min(1280,iw)':-2", str(jpg)])  # fmt: skip
            try:
                self.execute(
                    self.client.thumbnails().set(
                        videoId=video_id,
                        media_body=MediaFileUpload(str(jpg), mimetype="image/jpeg"),
                    ),
                    "thumbnails.set",
                    f"setting the thumbnail of {item.video.name}",
                )
            except YouTubeError as exc:
                self.warn(
                    f"{item.video.name}: no custom thumbnail ({exc}); custom thumbnails need a verified channel"
                )
                return
        entry["thumbnail"] = {"at": round(at, 3)}
        self.state.save()

    def add_caption(self, item: Item, video_id: str) -> str | None:
        if item.srt is None:
            return None
        from googleapiclient.http import MediaFileUpload

        record = self.state.entry(item.sha256).setdefault("caption", {})
        if record.get("id"):
            return str(record["id"])
        if record.get("pending"):
            listing = self.execute(
                self.client.captions().list(part="snippet", videoId=video_id),
                "captions.list",
                "checking captions",
            )
            for cap in listing.get("items", []):
                if cap.get("snippet", {}).get("language") == item.language:
                    record.update({"id": cap["id"], "pending": False})
                    self.state.save()
                    return str(cap["id"])
        record.update({"pending": True, "language": item.language})
        self.state.save()
        result = self.execute(
            self.client.captions().insert(
                part="snippet",
                body={
                    "snippet": {
                        "videoId": video_id,
                        "language": item.language,
                        "name": "",
                        "isDraft": False,
                    }
                },
                media_body=MediaFileUpload(
                    str(item.srt), mimetype="application/octet-stream", resumable=False
                ),
            ),
            "captions.insert",
            f"adding captions to {item.video.name}",
        )
        record.update({"id": result["id"], "pending": False})
        self.state.save()
        return str(result["id"])

    def remove_old(self, old_sha: str, playlist_id: str) -> None:
        old = self.state.known(old_sha)
        record = old.get("playlists", {}).get(playlist_id, {})
        if record.get("item_id"):
            self.execute(
                self.client.playlistItems().delete(id=record["item_id"]),
                "playlistItems.delete",
                "removing the old version",
            )
            record["item_id"] = None
            self.state.save()
        if old.get("video_id"):
            self.execute(
                self.client.videos().delete(id=old["video_id"]),
                "videos.delete",
                "deleting the old version",
            )
            old["replaced"] = old.pop("video_id")
            self.state.save()

    # the whole run

    def run(self, items: Sequence[Item]) -> list[Outcome]:
        outcomes = [Outcome(item) for item in items]
        to_upload = [i for i in items if not self.state.video_id(i.sha256)]
        self.emit(Event("batch", "", 0, len(items), duration_ms=sum(i.size for i in to_upload)))
        playlist_id = self.playlist_id()
        total = len(items)
        in_playlist = 0
        try:
            for index, outcome in enumerate(outcomes, start=1):
                item = outcome.item
                for fix in item.fixups:
                    self.warn(f"{item.sidecar.name}: {fix}")
                old = _changed(item, self.state)
                if old and not self.options.replace:
                    outcome.status = "changed"
                    outcome.video_id = self.state.video_id(old)
                    self.emit(
                        Event(
                            "failed",
                            item.slug,
                            index,
                            total,
                            message="changed since it was published; --replace replaces it",
                        )
                    )
                    in_playlist += 1
                    continue
                entry = self.state.entry(item.sha256)
                fresh = not entry.get("video_id")
                if fresh:
                    video = self.upload(item, index, total)
                    privacy = video.get("status", {}).get("privacyStatus")
                    if self.options.privacy != "private" and privacy == "private":
                        outcome.notes.append(UNVERIFIED_NOTE)
                        self.warn(
                            f"{item.video.name}: uploaded as private, not {self.options.privacy}: {UNVERIFIED_NOTE}"
                        )
                video_id = str(entry["video_id"])
                self.add_to_playlist(item, video_id, playlist_id, in_playlist)
                in_playlist += 1
                if self.options.captions:
                    self.add_caption(item, video_id)
                if self.options.thumbnail_at is not None:
                    self.set_thumbnail(item, video_id, self.options.thumbnail_at)
                if old:
                    self.remove_old(old, playlist_id)
                    self.state.set_slug(item.slug, item.sha256)
                    self.state.save()
                outcome.status = "published" if fresh or old else "already"
                outcome.video_id = video_id
                kind = "done" if outcome.status == "published" else "skipped"
                self.emit(
                    Event(
                        kind,
                        item.slug,
                        index,
                        total,
                        done_ms=item.size,
                        duration_ms=item.size,
                        outputs=(f"https://youtu.be/{video_id}",),
                    )
                )
        except BudgetReached:
            for outcome in outcomes:
                if outcome.status == "pending":
                    outcome.status = "left"
            raise
        return outcomes
