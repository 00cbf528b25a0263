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
from typing import Any, Protocol

from .errors import BudgetReached, ClipkitError, InputError, PlanError
from .ffmpeg import grab_frame, probe, sha256_file
from .formats import has_cues
from .fsutil import atomic_write_text, temp_dir
from .progress import Event, EventCallback
from .sidecar import TITLE_MAX, ExtractSidecar, NotASidecar, read_sidecar
from .youtube import UploadSettings

STATE_NAME = ".clipkit-publish.json"
# Every video clipkit uploads carries this tag with its file's content hash: the channel itself
# then says what is already there, so a lost state file or a second laptop uploads nothing twice.
MARKER_PREFIX = "clipkit-"
MARKER_HEX = 16


def marker_of(sha256: str) -> str:
    return MARKER_PREFIX + sha256[:MARKER_HEX]


STATE_SAVE_INTERVAL = 1.0  # seconds between saves of an upload's confirmed byte count
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
UNVERIFIED_NOTE = (
    "YouTube locks videos uploaded through unverified API projects to private until the "
    "project passes Google's API audit; the videos can be made public after that"
)


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
    prune: bool = False  # remove playlist items of extracts no longer in the plan


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
    recording: str = ""  # the file name of the recording it was cut from
    moments: tuple[tuple[str, str, str], ...] = ()  # a film's: (slug, SHA-256, recording)
    tracks: tuple[tuple[str, Path], ...] = ()  # (language, SRT): translations, a track each

    @property
    def size(self) -> int:
        return self.video.stat().st_size

    def metadata(self, privacy: str) -> dict[str, Any]:
        """What a viewer sees besides the video: kept in step with YouTube on every publish."""
        return {"title": self.title, "description": self.description,
                "tags": list(self.tags), "privacy": privacy}  # fmt: skip


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
    total = len(marker_of("0" * 64)) + 1  # the marker tag clipkit adds
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
            if sidecar.srt and has_cues(path.parent / sidecar.srt)
            else None
        )  # no speech in the extract: no caption track
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
                recording=Path(sidecar.source).name,
                moments=sidecar.moments,
                tracks=tuple(
                    (t.language, path.parent / t.srt)
                    for t in sidecar.tracks
                    if t.language != (language or sidecar.language or "en")
                    and has_cues(path.parent / t.srt)
                ),
            )
        )
    if problems:
        raise PlanError(problems)
    if not items:
        raise InputError("no extracts to publish (expected clipkit extract sidecars, NAME.json)")
    return sorted(items, key=lambda i: i.order)


def with_signoff(items: list[Item]) -> tuple[list[Item], list[str]]:
    """The items their storytellers approved (for this very video), and one line for each
    left out."""
    from .signoff import left_out, load_signoffs, state_of

    records: dict[Path, Any] = {}
    states = {}
    for item in items:
        folder = item.sidecar.parent
        if item.moments:  # a film: each of its moments approved, as they were when it was made
            from .project import find_project

            root = find_project(folder)
            extracts = (root / "extracts") if root else folder
            if extracts not in records:
                records[extracts] = load_signoffs(extracts)
            moment_states = {state_of(records[extracts], m[0], m[1]) for m in item.moments}
            states[item.slug] = "approved" if moment_states == {"approved"} else "pending"
            continue
        if folder not in records:
            records[folder] = load_signoffs(folder)
        states[item.slug] = state_of(records[folder], item.slug, item.sha256)
    return [i for i in items if states[i.slug] == "approved"], left_out(states)


def with_consent(items: list[Item], root: Path) -> tuple[list[Item], list[str]]:
    """The items whose story has consent given in the project's stories.toml, and one line
    for each recording left out."""
    from .stories import consent_of, held_back, load_stories

    stories = load_stories(root)

    def recordings_of(item: Item) -> list[str]:  # a film: every story it shows
        return [m[2] for m in item.moments] if item.moments else [item.recording]

    recordings = sorted({r for i in items for r in recordings_of(i)})
    kept = [i for i in items if all(consent_of(stories, r) == "given" for r in recordings_of(i))]
    return kept, held_back(stories, recordings)


# --- state ---------------------------------------------------------------------------------


class PublishState:
    """The state file: {'playlists': {title: id}, 'extracts': {sha256: {...}}, 'slugs': {slug: sha256}}."""

    def __init__(self, path: Path, load: bool = True) -> None:
        self.path = path
        self.data: dict[str, Any] = {
            "format": "clipkit-publish/1",
            "playlists": {},
            "extracts": {},
            "slugs": {},
        }
        if load and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InputError(
                    f"{path}: the publish state is damaged (not JSON); move it aside to start over"
                ) from exc
            self.data.update(loaded)

    @staticmethod
    def path_for(items: Sequence[Item]) -> Path:
        folder = Path(os.path.commonpath([str(i.sidecar.parent.resolve()) for i in items]))
        return folder / STATE_NAME

    @classmethod
    def for_items(cls, items: Sequence[Item], load: bool = True) -> PublishState:
        return cls(cls.path_for(items), load)

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

    def order(self, playlist_id: str) -> list[str]:
        """Our videos in the playlist, in the order the last run left them."""
        return list(self.data.get("order", {}).get(playlist_id, []))

    def set_order(self, playlist_id: str, videos: list[str]) -> None:
        self.data.setdefault("order", {})[playlist_id] = videos

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
    if any(not state.video_id(i.sha256) for i in items):  # the channel may hold them already
        calls.append(PlannedCall(None, "channels.list", "find your uploads"))
        calls.append(PlannedCall(None, "videos.list", "look for these extracts by clipkit's tag"))
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
        for language, _ in item.tracks if options.captions else ():
            if not entry.get("captions", {}).get(language, {}).get("id"):
                calls.append(PlannedCall(item, "captions.insert", language))
        if options.thumbnail_at is not None and not entry.get("thumbnail"):
            calls.append(
                PlannedCall(item, "thumbnails.set", f"frame at {options.thumbnail_at:g} s")
            )
        if _changed(item, state):
            calls += [
                PlannedCall(item, "playlistItems.delete", "old version"),
                PlannedCall(item, "videos.delete", "old version"),
            ]
        elif entry.get("video_id") and (what := metadata_changes(entry, item, options.privacy)):
            calls.append(PlannedCall(item, "videos.update", f"{', '.join(what)} changed"))
    published = [v for i in items if (v := state.known(i.sha256).get("video_id"))]
    if published:
        calls.append(PlannedCall(None, "playlistItems.list", "check the playlist's order"))
        known = state.order(state.playlist_id(options.playlist) or "")
        for video_id, position in playlist_moves(known, published):
            calls.append(PlannedCall(None, "playlistItems.update",
                                     f"move {video_id} to position {position + 1}"))  # fmt: skip
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


def metadata_changes(entry: dict[str, Any], item: Item, privacy: str) -> list[str]:
    """Which of title, description, tags and privacy differ from what was published."""
    published = entry.get("meta")
    if not published:
        return []  # published before clipkit recorded it: taken as in step
    now = item.metadata(privacy)
    return [k for k in now if published.get(k) != now[k]]


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


class Platform(Protocol):
    """What the publisher needs of a video platform (youtube.py's YouTubeChannel is one; a
    PeerTube or Vimeo channel would be another). Methods return calls the publisher runs."""

    name: str

    def video_url(self, video_id: str) -> str: ...
    def classify(self, exc: BaseException) -> str: ...  # retry, quota, auth or fatal
    def translate(self, exc: BaseException, what: str) -> ClipkitError: ...
    def session_gone(self, exc: BaseException) -> bool: ...
    def quota_reset(self) -> str: ...
    def list_playlists(self, token: str | None) -> Callable[[], Any]: ...
    def uploads_playlist(self) -> Callable[[], str]: ...
    def list_uploads(self, uploads: str, token: str | None) -> Callable[[], Any]: ...
    def create_playlist(self, title: str, privacy: str) -> Callable[[], str]: ...
    def list_playlist_items(self, playlist_id: str, token: str | None) -> Callable[[], Any]: ...
    def add_to_playlist(
        self, playlist_id: str, video_id: str, position: int | None
    ) -> Callable[[], str]: ...
    def remove_from_playlist(self, item_id: str) -> Callable[[], Any]: ...
    def upload(self, video: Path, **meta: Any) -> Any: ...
    def delete_video(self, video_id: str) -> Callable[[], Any]: ...
    def update_video(self, video_id: str, **meta: Any) -> Callable[[], Any]: ...
    def move_in_playlist(
        self, item_id: str, playlist_id: str, video_id: str, position: int
    ) -> Callable[[], Any]: ...
    def set_thumbnail(self, video_id: str, jpg: Path) -> Callable[[], Any]: ...
    def list_captions(self, video_id: str) -> Callable[[], list[tuple[str, str]]]: ...
    def add_captions(self, video_id: str, language: str, srt: Path) -> Callable[[], str]: ...


class Publisher:
    """The platform-neutral publishing loop: collect, state, quota budget, retries, resume,
    report. Every platform call goes through `execute`, charged once and retried."""

    def __init__(
        self, channel: Platform, state: PublishState, options: PublishOptions, emit: EventCallback
    ) -> None:
        self.channel = channel
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
                f"{budget} units ({self.used} used); run again after the quota resets at "
                f"{self.channel.quota_reset()}"
            )
        self.used += cost
        self.calls.append(call)

    def backoff(self, attempt: int) -> float:
        s = self.options.settings
        return random.uniform(
            0, min(s.retry_max_seconds, s.retry_base_seconds * 2**attempt)
        )  # full jitter

    def execute(self, request: Callable[[], Any], call: str, what: str) -> Any:
        """One platform call, charged once, retried on transient errors."""
        self.spend(call)
        for attempt in range(self.options.settings.retries + 1):
            try:
                return request()
            except Exception as exc:
                if (
                    self.channel.classify(exc) != "retry"
                    or attempt == self.options.settings.retries
                ):
                    raise self.channel.translate(exc, what) from exc
                self.warn(
                    f"{what}: {type(exc).__name__}; retrying ({attempt + 1}/{self.options.settings.retries})"
                )
                self.sleep(self.backoff(attempt))
        raise AssertionError("unreachable")

    def warn(self, message: str) -> None:
        self.emit(Event("warning", "", 0, 0, message=message))

    def _items(
        self, request_for: Callable[[str | None], Callable[[], Any]], call: str, what: str
    ) -> Iterator[Any]:
        """Every item of a paged list call, one page (and one quota charge) at a time."""
        token = None
        while True:
            items, token = self.execute(request_for(token), call, what)
            yield from items
            if not token:
                return

    # the playlist

    def playlist_id(self) -> str:
        known = self.state.playlist_id(self.options.playlist)
        if known:
            return str(known)
        for pid, title in self._items(
            self.channel.list_playlists, "playlists.list", "listing your playlists"
        ):
            if title == self.options.playlist:
                return self._remember_playlist(pid)
        created = self.execute(
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

    def upload(self, item: Item, index: int, total: int) -> tuple[str, str]:
        """(video id, privacy) of the uploaded extract, resuming an earlier session."""
        entry = self.state.entry(item.sha256)
        entry.update({"slug": item.slug, "file": item.video.name, "size": item.size})
        upload = self.channel.upload(
            item.video,
            title=item.title,
            description=item.description,
            tags=(*item.tags, marker_of(item.sha256)),
            language=item.language,
            privacy=self.options.privacy,
            category=self.options.category,
            chunk_size=self.options.settings.chunk_size,
            session_uri=entry.get("session_uri"),
        )
        if not entry.get("session_uri"):
            self.spend("videos.insert")
        attempt = 0
        self.emit(Event("start", item.slug, index, total,
                        done_ms=entry.get("bytes_confirmed", 0), duration_ms=item.size))  # fmt: skip
        while True:
            try:
                result = upload.next_chunk()
            except Exception as exc:
                self._record_session(entry, upload)
                if entry.get("session_uri") and self.channel.session_gone(exc):
                    self.warn("the earlier upload session has expired; starting the upload again")
                    upload.restart()
                    entry.pop("session_uri", None)
                    entry["bytes_confirmed"] = 0
                    self.state.save()
                    self.spend("videos.insert")
                    continue
                if (
                    self.channel.classify(exc) != "retry"
                    or attempt >= self.options.settings.retries
                ):
                    raise self.channel.translate(exc, f"uploading {item.video.name}") from exc
                attempt += 1
                self.warn(
                    f"{item.video.name}: {type(exc).__name__} during upload; resuming ({attempt}/{self.options.settings.retries})"
                )
                self.sleep(self.backoff(attempt - 1))
                continue
            attempt = 0
            self._record_session(entry, upload)
            done = item.size if result is not None else upload.progress
            self.emit(
                Event("progress", item.slug, index, total, done_ms=done, duration_ms=item.size)
            )
            if result is not None:
                video_id, privacy = result
                entry.update({"video_id": video_id, "privacy": privacy})
                entry.pop("session_uri", None)
                self.state.set_slug(item.slug, item.sha256)
                self.state.save()
                return video_id, privacy

    def _record_session(self, entry: dict[str, Any], upload: Any) -> None:
        """The session URI is saved at once (it is what a later run resumes); the byte count
        only for people and progress, at most once a second, since a resuming run asks the
        server for its offset anyway."""
        if not upload.session_uri:
            return
        new_session = entry.get("session_uri") != upload.session_uri
        entry["session_uri"] = upload.session_uri
        entry["bytes_confirmed"] = upload.progress
        now = time.monotonic()
        if new_session or now - self._last_save >= STATE_SAVE_INTERVAL:
            self.state.save()
            self._last_save = now

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
        item_id = self.execute(
            self.channel.add_to_playlist(playlist_id, video_id, position),
            "playlistItems.insert",
            f"adding {item.video.name} to the playlist",
        )
        record.update({"item_id": item_id, "pending": False})
        self.state.save()
        return str(item_id)

    def _find_playlist_item(self, playlist_id: str, video_id: str) -> str | None:
        for item_id, vid in self._items(
            lambda token: self.channel.list_playlist_items(playlist_id, token),
            "playlistItems.list",
            "checking the playlist",
        ):
            if vid == video_id:
                return str(item_id)
        return None

    def set_thumbnail(self, item: Item, video_id: str, seconds: float) -> None:
        """A custom thumbnail from the frame at `seconds` (YouTube allows them only on verified
        channels: a refusal is reported, and the video keeps the platform's own)."""
        entry = self.state.entry(item.sha256)
        if entry.get("thumbnail"):
            return
        duration = probe(item.video).duration_ms / 1000
        at = seconds if seconds < duration else duration / 2
        with temp_dir() as tmp:
            jpg = Path(tmp) / "thumbnail.jpg"
            grab_frame(item.video, at, jpg)
            try:
                self.execute(
                    self.channel.set_thumbnail(video_id, jpg),
                    "thumbnails.set",
                    f"setting the thumbnail of {item.video.name}",
                )
            except ClipkitError as exc:
                if isinstance(exc, BudgetReached) or self.channel.classify(
                    exc.__cause__ or exc
                ) in ("quota", "auth"):
                    raise
                self.warn(
                    f"{item.video.name}: no custom thumbnail ({exc}); custom thumbnails need a verified channel"
                )
                return
        entry["thumbnail"] = {"at": round(at, 3)}
        self.state.save()

    def add_caption(self, item: Item, video_id: str) -> str | None:
        """The extract's caption track in its own language, then one per translation."""
        for language, srt in item.tracks:
            record = self.state.entry(item.sha256).setdefault("captions", {})
            self._add_track(item, video_id, language, srt, record.setdefault(language, {}))
        if item.srt is None:
            return None
        record = self.state.entry(item.sha256).setdefault("caption", {})
        return self._add_track(item, video_id, item.language, item.srt, record)

    def _add_track(
        self, item: Item, video_id: str, language: str, srt: Path, record: dict[str, Any]
    ) -> str:
        """One caption track, never twice: a track whose insert may have landed before a crash
        is looked for on the video first."""
        if record.get("id"):
            return str(record["id"])
        if record.get("pending"):
            listing = self.execute(
                self.channel.list_captions(video_id), "captions.list", "checking captions"
            )
            for cap_id, found in listing:
                if found == language:
                    record.update({"id": cap_id, "pending": False})
                    self.state.save()
                    return str(cap_id)
        record.update({"pending": True, "language": language})
        self.state.save()
        cap_id = self.execute(
            self.channel.add_captions(video_id, language, srt),
            "captions.insert",
            f"adding {language} captions to {item.video.name}",
        )
        record.update({"id": cap_id, "pending": False})
        self.state.save()
        return str(cap_id)

    def remove_old(self, old_sha: str, playlist_id: str) -> None:
        old = self.state.entry(old_sha)
        record = old.get("playlists", {}).get(playlist_id, {})
        if record.get("item_id"):
            self.execute(
                self.channel.remove_from_playlist(record["item_id"]),
                "playlistItems.delete",
                "removing the old version",
            )
            record["item_id"] = None
            self.state.save()
        if old.get("video_id"):
            self.execute(
                self.channel.delete_video(old["video_id"]),
                "videos.delete",
                "deleting the old version",
            )
            old["replaced"] = old.pop("video_id")
            self.state.save()

    # the channel as the source of truth

    def channel_videos(self) -> Iterator[tuple[str, list[str], dict[str, Any]]]:
        """(video id, tags, metadata) of every video on the channel, newest first."""
        uploads = self.execute(
            self.channel.uploads_playlist(), "channels.list", "finding your uploads"
        )
        yield from self._items(
            lambda token: self.channel.list_uploads(uploads, token),
            "videos.list",
            "checking what your channel already holds",
        )

    def reconcile(self, items: Sequence[Item], playlist_id: str | None) -> list[Item]:
        """Extracts the state does not know as published, looked up on the channel by their
        marker; those found are recorded (their playlist item and captions to be checked before
        any insert). Returns the items found."""
        wanted = {marker_of(i.sha256): i for i in items if not self.state.video_id(i.sha256)}
        found: list[Item] = []
        if not wanted:
            return found
        for video_id, tags, meta in self.channel_videos():
            for tag in tags:
                item = wanted.pop(tag, None)
                if item is None:
                    continue
                entry = self.state.entry(item.sha256)
                entry.pop("session_uri", None)
                entry.update({"video_id": video_id, "privacy": meta.get("privacy"),
                              "slug": item.slug, "file": item.video.name, "size": item.size,
                              "meta": {**meta, "tags": [t for t in tags if not t.startswith(MARKER_PREFIX)]}})  # fmt: skip
                if playlist_id:
                    record = entry.setdefault("playlists", {}).setdefault(playlist_id, {})
                    if not record.get("item_id"):
                        record["pending"] = True
                if not entry.get("caption", {}).get("id"):
                    entry.setdefault("caption", {})["pending"] = True
                for language, _ in item.tracks:  # its translations may be there too
                    track = entry.setdefault("captions", {}).setdefault(language, {})
                    if not track.get("id"):
                        track["pending"] = True
                if not self.state.sha_of_slug(item.slug):
                    self.state.set_slug(item.slug, item.sha256)
                found.append(item)
            if not wanted:
                break
        if found:
            self.state.save()
            self.warn(f"{len(found)} extract(s) already on the channel (found by clipkit's tag); "
                      "recorded, not uploaded again")  # fmt: skip
        return [i for i in items if any(i is f for f in found)]  # in plan order

    def resync(self, items: Sequence[Item]) -> list[Item]:
        """The state file rebuilt from the channel: the playlist found by its title (not made),
        each extract's video found by its marker."""
        playlist_id = self.state.playlist_id(self.options.playlist)
        if playlist_id is None:
            for pid, title in self._items(
                self.channel.list_playlists, "playlists.list", "listing your playlists"
            ):
                if title == self.options.playlist:
                    playlist_id = self._remember_playlist(pid)
                    break
        return self.reconcile(items, playlist_id)

    # the whole run

    def run(self, items: Sequence[Item]) -> list[Outcome]:
        outcomes = [Outcome(item) for item in items]
        playlist_id = self.playlist_id()
        self.reconcile(items, playlist_id)
        to_upload = [i for i in items if not self.state.video_id(i.sha256)]
        self.emit(Event("batch", "", 0, len(items), duration_ms=sum(i.size for i in to_upload)))
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
                updated = False
                if not fresh and not old:
                    updated = self.update_metadata(item, entry)
                if fresh:
                    _, privacy = self.upload(item, index, total)
                    entry["meta"] = item.metadata(self.options.privacy)
                    self.state.save()
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
                outcome.status = (
                    "published" if fresh or old else "updated" if updated else "already"
                )
                outcome.video_id = video_id
                kind = "done" if outcome.status in ("published", "updated") else "skipped"
                self.emit(
                    Event(
                        kind,
                        item.slug,
                        index,
                        total,
                        done_ms=item.size,
                        duration_ms=item.size,
                        outputs=(self.channel.video_url(video_id),),
                    )
                )
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

    def update_metadata(self, item: Item, entry: dict[str, Any]) -> bool:
        """Title, description, tags or privacy changed in the plan: `videos.update`, no upload."""
        what = metadata_changes(entry, item, self.options.privacy)
        if not entry.get("meta"):
            entry["meta"] = item.metadata(self.options.privacy)
            self.state.save()
        if not what:
            return False
        meta = item.metadata(self.options.privacy)
        self.execute(
            self.channel.update_video(
                str(entry["video_id"]), title=item.title, description=item.description,
                tags=(*item.tags, marker_of(item.sha256)), language=item.language, privacy=self.options.privacy,
                category=self.options.category,
            ),
            "videos.update",
            f"updating the {', '.join(what)} of {item.video.name}",
        )  # fmt: skip
        entry["meta"] = meta
        self.state.save()
        return True

    def _video_of(self, item: Item) -> str | None:
        """The extract's video on the platform: this version's, else the one published under its
        slug (a changed extract not yet replaced)."""
        return self.state.video_id(item.sha256) or self.state.video_id(
            self.state.sha_of_slug(item.slug) or ""
        )

    def keep_order(self, items: Sequence[Item], playlist_id: str) -> None:
        """The playlist in plan order (moves with `playlistItems.update`); playlist items of
        extracts no longer in the plan are reported, and removed with --prune."""
        listing = list(self._items(
            lambda token: self.channel.list_playlist_items(playlist_id, token),
            "playlistItems.list", "checking the playlist's order",
        ))  # fmt: skip
        wanted = [v for i in items if (v := self._video_of(i))]
        ours = {
            str(e.get("video_id") or e.get("replaced"))
            for e in self.state.data["extracts"].values()
        }
        for item_id, video_id in listing:
            if video_id in ours and video_id not in wanted:
                if self.options.prune:
                    self.execute(self.channel.remove_from_playlist(item_id), "playlistItems.delete",
                                 f"removing {video_id}, no longer in the plan")  # fmt: skip
                else:
                    self.warn(f"{self.channel.video_url(video_id)} is in the playlist but no "
                              "longer in the plan: --prune removes it from the playlist")  # fmt: skip
        if self.options.prune:
            listing = [(i, v) for i, v in listing if v not in ours or v in wanted]
        item_of = dict((v, i) for i, v in listing)
        for video_id, position in playlist_moves([v for _, v in listing], wanted):
            self.execute(
                self.channel.move_in_playlist(item_of[video_id], playlist_id, video_id, position),
                "playlistItems.update", f"moving {video_id} to position {position + 1}",
            )  # fmt: skip
        self.state.set_order(playlist_id, [v for v in wanted if v in item_of])
        self.state.save()
