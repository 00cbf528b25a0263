"""The publish state file, as typed records.

On disk (`.clipkit-publish.json` beside the extracts, written atomically after every step):
{"format": "clipkit-publish/1", "playlists": {title: id}, "extracts": {sha256: {...}},
"slugs": {slug: sha256}, "order": {playlist id: [video ids]}}. Keys a newer clipkit wrote are
kept as they were.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..fsutil import atomic_write_text
from .items import Item, VideoMeta

STATE_NAME = ".clipkit-publish.json"
STATE_FORMAT = "clipkit-publish/1"


class DamagedState(InputError):
    pass


def _dict(value: Any, where: Path) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DamagedState(
            f"{where}: the publish state is damaged (not a clipkit publish state); "
            "move it aside to start over"
        )
    return value


def _dicts(value: Any, where: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of a JSON object whose values are objects, each checked."""
    for key, item in _dict(value, where).items():
        yield key, _dict(item, where)


@dataclass
class PlaylistItem:
    """The extract's entry in one playlist; `pending` while an insert may have landed
    unrecorded (looked for before it is made again)."""

    id: str | None = None  # the platform's id of the playlist item
    pending: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"item_id": self.id, "pending": self.pending}


@dataclass
class CaptionTrack:
    id: str | None = None
    pending: bool = False
    language: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "pending": self.pending}
        return {**out, "language": self.language} if self.language else out


@dataclass
class UploadedVideo:
    """One extract version (one video file's SHA-256) on the platform, from its resumable
    upload session to its video, playlist items, caption tracks and thumbnail."""

    slug: str = ""
    file: str = ""
    size: int = 0
    session_uri: str | None = None
    bytes_confirmed: int = 0
    video_id: str | None = None
    privacy: str | None = None
    replaced: str | None = None  # the video id this version had before --replace deleted it
    meta: VideoMeta | None = None  # as published; None: published before clipkit kept it
    playlists: dict[str, PlaylistItem] = field(default_factory=dict)
    caption: CaptionTrack | None = None  # the track in the extract's own language
    captions: dict[str, CaptionTrack] = field(default_factory=dict)  # translations
    thumbnail_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def playlist_item(self, playlist_id: str) -> PlaylistItem:
        return self.playlists.setdefault(playlist_id, PlaylistItem())

    def in_a_playlist(self) -> bool:
        return any(p.id for p in self.playlists.values())

    def own_track(self) -> CaptionTrack:
        if self.caption is None:
            self.caption = CaptionTrack()
        return self.caption

    def translation(self, language: str) -> CaptionTrack:
        return self.captions.setdefault(language, CaptionTrack())

    def has_track(self, language: str | None = None) -> bool:
        """Whether the own track (language None) or a translation's is recorded."""
        if language is None:
            return bool(self.caption and self.caption.id)
        return bool(self.captions.get(language, CaptionTrack()).id)

    KNOWN = ("slug", "file", "size", "session_uri", "bytes_confirmed", "video_id", "privacy",
             "replaced", "meta", "playlists", "caption", "captions", "thumbnail")  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any], where: Path) -> UploadedVideo:
        data = _dict(data, where)

        def track(d: Any) -> CaptionTrack:
            d = _dict(d, where)
            return CaptionTrack(d.get("id"), bool(d.get("pending")), str(d.get("language") or ""))

        return cls(
            slug=str(data.get("slug") or ""),
            file=str(data.get("file") or ""),
            size=int(data.get("size") or 0),
            session_uri=data.get("session_uri") or None,
            bytes_confirmed=int(data.get("bytes_confirmed") or 0),
            video_id=str(data["video_id"]) if data.get("video_id") else None,
            privacy=data.get("privacy"),
            replaced=data.get("replaced"),
            meta=VideoMeta.from_json(_dict(data["meta"], where)) if data.get("meta") else None,
            playlists={
                pid: PlaylistItem(raw.get("item_id"), bool(raw.get("pending")))
                for pid, raw in _dicts(data.get("playlists"), where)
            },
            caption=track(data["caption"]) if "caption" in data else None,
            captions={k: track(v) for k, v in _dict(data.get("captions"), where).items()},
            thumbnail_at=_dict(data.get("thumbnail"), where).get("at"),
            extra={k: v for k, v in data.items() if k not in cls.KNOWN},
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        for key in ("slug", "file", "size", "session_uri", "video_id", "privacy", "replaced"):
            if (value := getattr(self, key)) not in (None, ""):
                out[key] = value
        if self.session_uri or self.bytes_confirmed:
            out["bytes_confirmed"] = self.bytes_confirmed
        if self.meta is not None:
            out["meta"] = self.meta.to_json()
        if self.playlists:
            out["playlists"] = {pid: p.to_json() for pid, p in self.playlists.items()}
        if self.caption is not None:
            out["caption"] = self.caption.to_json()
        if self.captions:
            out["captions"] = {k: t.to_json() for k, t in self.captions.items()}
        if self.thumbnail_at is not None:
            out["thumbnail"] = {"at": self.thumbnail_at}
        return out


@dataclass
class PlaylistState:
    """A playlist clipkit publishes to, found or made by its title; `order` is our videos in
    it as the last run left them."""

    id: str
    order: list[str] = field(default_factory=list)


class PublishState:
    """The state file as records: `playlists` by title, `videos` by SHA-256, `slugs`."""

    def __init__(self, path: Path, load: bool = True) -> None:
        self.path = path
        self.playlists: dict[str, PlaylistState] = {}
        self.videos: dict[str, UploadedVideo] = {}
        self.slugs: dict[str, str] = {}
        self._orders: dict[str, list[str]] = {}  # playlists no title here names any more
        self._extra: dict[str, Any] = {}
        if load and path.is_file():
            self._load()

    def _load(self) -> None:
        try:
            data = _dict(json.loads(self.path.read_text(encoding="utf-8")), self.path)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DamagedState(
                f"{self.path}: the publish state is damaged (not JSON); move it aside to start over"
            ) from exc
        orders = {pid: list(v) for pid, v in _dict(data.get("order"), self.path).items()}
        for title, pid in _dict(data.get("playlists"), self.path).items():
            self.playlists[title] = PlaylistState(str(pid), orders.pop(pid, []))
        self._orders = orders
        for sha, record in _dict(data.get("extracts"), self.path).items():
            self.videos[sha] = UploadedVideo.from_json(record, self.path)
        self.slugs = {str(k): str(v) for k, v in _dict(data.get("slugs"), self.path).items()}
        known = ("format", "playlists", "extracts", "slugs", "order")
        self._extra = {k: v for k, v in data.items() if k not in known}

    def to_json(self) -> dict[str, Any]:
        orders = dict(self._orders)
        orders.update({p.id: p.order for p in self.playlists.values() if p.order})
        out: dict[str, Any] = {
            **self._extra,
            "format": STATE_FORMAT,
            "playlists": {title: p.id for title, p in self.playlists.items()},
            "extracts": {sha: v.to_json() for sha, v in self.videos.items()},
            "slugs": self.slugs,
        }
        return {**out, "order": orders} if orders else out

    def save(self) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n"
        atomic_write_text(self.path, text)

    @staticmethod
    def path_for(items: Sequence[Item]) -> Path:
        folder = Path(os.path.commonpath([str(i.sidecar.parent.resolve()) for i in items]))
        return folder / STATE_NAME

    @classmethod
    def for_items(cls, items: Sequence[Item], load: bool = True) -> PublishState:
        return cls(cls.path_for(items), load)

    def entry(self, sha: str) -> UploadedVideo:
        """The record of the extract whose video has this SHA-256 (made when absent)."""
        return self.videos.setdefault(sha, UploadedVideo())

    def known(self, sha: str) -> UploadedVideo:
        """The record of that extract, or an empty one (nothing is added)."""
        return self.videos.get(sha) or UploadedVideo()

    def video_id(self, sha: str) -> str | None:
        record = self.videos.get(sha)
        return record.video_id if record else None

    def playlist_id(self, title: str) -> str | None:
        playlist = self.playlists.get(title)
        return playlist.id if playlist else None

    def set_playlist_id(self, title: str, playlist_id: str) -> None:
        order = self._orders.pop(playlist_id, [])
        self.playlists[title] = PlaylistState(playlist_id, order)

    def sha_of_slug(self, slug: str) -> str | None:
        return self.slugs.get(slug)

    def set_slug(self, slug: str, sha: str) -> None:
        self.slugs[slug] = sha

    def _playlist(self, playlist_id: str) -> PlaylistState | None:
        return next((p for p in self.playlists.values() if p.id == playlist_id), None)

    def order(self, playlist_id: str) -> list[str]:
        """Our videos in the playlist, in the order the last run left them."""
        playlist = self._playlist(playlist_id)
        return list(playlist.order if playlist else self._orders.get(playlist_id, []))

    def set_order(self, playlist_id: str, videos: list[str]) -> None:
        if playlist := self._playlist(playlist_id):
            playlist.order = list(videos)
        else:
            self._orders[playlist_id] = list(videos)

    def ours(self) -> Iterator[str]:
        """Every video id clipkit published from these extracts, replaced ones included."""
        for record in self.videos.values():
            if video := record.video_id or record.replaced:
                yield video

    def published(self) -> dict[str, str]:
        """{slug: video id} of every extract published."""
        return {slug: v for slug, sha in self.slugs.items() if (v := self.video_id(sha))}
