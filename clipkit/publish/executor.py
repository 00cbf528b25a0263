"""Platform calls run under the quota budget, retried with backoff: every call a publish makes
goes through `Executor.execute`, charged once however often it is retried."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from ..batch import ProgressCallback, warning
from ..errors import BudgetReached, ClipkitError
from .items import VideoMeta
from .options import PublishOptions


class Platform(Protocol):
    """What the publisher needs of a video platform (youtube.py's YouTubeChannel is one; a
    PeerTube or Vimeo channel would be another). Methods return calls the executor runs."""

    name: str

    def video_url(self, video_id: str) -> str: ...
    def classify(self, exc: BaseException) -> str: ...  # retry, quota, auth or fatal
    def translate(self, exc: BaseException, what: str) -> ClipkitError: ...
    def session_gone(self, exc: BaseException) -> bool: ...
    def quota_reset(self) -> str: ...
    def list_playlists(self, token: str | None) -> Callable[[], Any]: ...
    def uploads_playlist(self) -> Callable[[], str]: ...
    # a page of uploads: ([(video id, VideoMeta with every tag)], next page token)
    def list_uploads(self, uploads: str, token: str | None) -> Callable[[], Any]: ...
    def create_playlist(self, title: str, privacy: str) -> Callable[[], str]: ...
    def list_playlist_items(self, playlist_id: str, token: str | None) -> Callable[[], Any]: ...
    def add_to_playlist(
        self, playlist_id: str, video_id: str, position: int | None
    ) -> Callable[[], str]: ...
    def remove_from_playlist(self, item_id: str) -> Callable[[], Any]: ...
    def upload(
        self, video: Path, meta: VideoMeta, *, chunk_size: int, session_uri: str | None
    ) -> Any: ...
    def delete_video(self, video_id: str) -> Callable[[], Any]: ...
    def update_video(self, video_id: str, meta: VideoMeta) -> Callable[[], Any]: ...
    def move_in_playlist(
        self, item_id: str, playlist_id: str, video_id: str, position: int
    ) -> Callable[[], Any]: ...
    def set_thumbnail(self, video_id: str, jpg: Path) -> Callable[[], Any]: ...
    def list_captions(self, video_id: str) -> Callable[[], list[tuple[str, str]]]: ...
    def add_captions(self, video_id: str, language: str, srt: Path) -> Callable[[], str]: ...


class Executor:
    """Runs a platform's calls: the quota budget, retries with full-jitter backoff, paging."""

    def __init__(self, platform: Platform, options: PublishOptions, emit: ProgressCallback) -> None:
        self.platform = platform
        self.options = options
        self.emit = emit
        self.used = 0
        self.calls: list[str] = []
        self.sleep: Callable[[float], None] = time.sleep

    def spend(self, call: str) -> None:
        cost = self.options.costs.get(call, 1)
        budget = self.options.quota_budget
        if budget is not None and self.used + cost > budget:
            raise BudgetReached(
                f"stopped before {call} ({cost} units): it would exceed the quota budget of "
                f"{budget} units ({self.used} used); run again after the quota resets at "
                f"{self.platform.quota_reset()}"
            )
        self.used += cost
        self.calls.append(call)

    def backoff(self, attempt: int) -> float:
        s = self.options.settings
        return random.uniform(0, min(s.retry_max_seconds, s.retry_base_seconds * 2**attempt))

    def retry_or_raise(self, exc: Exception, attempt: int, what: str, warning: str) -> None:
        """Waits before retry `attempt` (from 1) of a transient failure, saying `warning`;
        raises the platform's error for any other failure, or once the retries are spent."""
        retries = self.options.settings.retries
        if self.platform.classify(exc) != "retry" or attempt > retries:
            raise self.platform.translate(exc, what) from exc
        self.warn(f"{warning} ({attempt}/{retries})")
        self.sleep(self.backoff(attempt - 1))

    def execute(self, request: Callable[[], Any], call: str, what: str) -> Any:
        """One platform call, charged once, retried on transient errors."""
        self.spend(call)
        attempt = 0
        while True:
            try:
                return request()
            except Exception as exc:
                attempt += 1
                self.retry_or_raise(exc, attempt, what, f"{what}: {type(exc).__name__}; retrying")

    def pages(
        self, request_for: Callable[[str | None], Callable[[], Any]], call: str, what: str
    ) -> Iterator[Any]:
        """Every item of a paged list call, one page (and one quota charge) at a time."""
        token = None
        while True:
            items, token = self.execute(request_for(token), call, what)
            yield from items
            if not token:
                return

    def warn(self, message: str) -> None:
        self.emit(warning(message))
