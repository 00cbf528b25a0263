"""Bringing recordings in: URLs through yt-dlp's Python API, local files copied or linked.

Every recording gets a stable, safe name (title + id) and a `NAME.source.json` sidecar with
where it came from. yt-dlp's download archive keeps a URL from being fetched twice; its `.part`
files mean nothing partial ever sits under a final name.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .batch import BatchItem, ItemResult, ProgressCallback, ignore, run_each
from .errors import ClipkitError, InputError
from .ffmpeg import find_ffmpeg, sha256_file
from .fsutil import atomic_path, atomic_write_text
from .media import probe
from .plan import slugify

ARCHIVE_NAME = ".clipkit-archive.txt"
SIDECAR_SUFFIX = ".source.json"
log = logging.getLogger(__name__)


class FetchError(ClipkitError):
    """A recording could not be fetched."""


@dataclass(frozen=True)
class Fetched:
    source: str
    path: Path | None
    status: str  # fetched, already, failed
    error: str = ""


def is_url(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text))


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _write_sidecar(path: Path, data: dict[str, Any]) -> None:
    data = {
        "format": "clipkit-source/1",
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **data,
    }
    atomic_write_text(_sidecar(path), json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _known(folder: Path, key: str, value: str) -> Path | None:
    """A recording already here whose sidecar has `key` == value."""
    for side in folder.glob(f"*{SIDECAR_SUFFIX}"):
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        recording = side.with_name(side.name.removesuffix(SIDECAR_SUFFIX))
        if data.get(key) == value and recording.is_file():
            return recording
    return None


def fetch_local(source: Path, folder: Path, link: bool = False) -> Fetched:
    if not source.exists():
        raise InputError(f"{source}: no such file")
    if source.is_dir():
        raise InputError(f"{source}: is a directory (give the recordings inside it)")
    probe(source)  # refuse what is not media before copying gigabytes
    digest = sha256_file(source)
    existing = _known(folder, "sha256", digest)
    if existing is not None:
        return Fetched(str(source), existing, "already")
    name = f"{slugify(source.stem, 60)}{source.suffix.lower()}"
    target = folder / name
    k = 2
    while target.exists():
        target = folder / f"{slugify(source.stem, 60)}-{k}{source.suffix.lower()}"
        k += 1
    if link:
        os.link(source, target) if _same_device(source, folder) else target.symlink_to(
            source.resolve()
        )
    else:
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)
    _write_sidecar(
        target,
        {
            "source": str(source.resolve()),
            "kind": "file",
            "sha256": digest,
            "size": source.stat().st_size,
        },
    )
    return Fetched(str(source), target, "fetched")


def _same_device(a: Path, folder: Path) -> bool:
    return a.stat().st_dev == folder.stat().st_dev


class _Logger:
    """yt-dlp talks through this: nothing reaches stdout; errors are kept for the message."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        log.info("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        self.errors.append(msg)


def _explain(url: str, message: str) -> str:
    text = re.sub(r"^ERROR:\s*", "", message.strip())
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    low = text.lower()
    if "http error 404" in low:
        return f"{url}: not found (HTTP 404)"
    if "http error 403" in low or "http error 401" in low:
        return f"{url}: access denied (private, or needs a password: --video-password)"
    if "connection refused" in low:
        return f"{url}: could not connect (connection refused)"
    if (
        "name or service not known" in low
        or "getaddrinfo failed" in low
        or "nodename nor servname" in low
    ):
        return f"{url}: could not connect (unknown host)"
    if "timed out" in low:
        return f"{url}: the connection timed out"
    if "unsupported url" in low:
        return f"{url}: no recording found at this address (yt-dlp does not support it)"
    if "private video" in low or "video unavailable" in low or "has been removed" in low:
        return f"{url}: the video is private or has been removed ({text})"
    return f"{url}: {text}"


def _ydl_options(
    folder: Path, logger: Any, on_progress: Callable[[int, int], None] | None
) -> dict[str, Any]:
    """yt-dlp's settings: names that travel, its archive of what was fetched, quiet (progress
    and errors come back through the hook and the logger), clipkit's ffmpeg for merging."""

    def hook(d: dict[str, Any]) -> None:
        if on_progress and d.get("status") in ("downloading", "finished"):
            total = d.get("total_bytes") or d.get("total_bytes_estimate") or 0
            on_progress(int(d.get("downloaded_bytes") or 0), int(total))

    return {
        "outtmpl": {"default": str(folder / "%(title).80B [%(id)s].%(ext)s")},
        "windowsfilenames": True,  # names that travel to every file system
        "download_archive": str(folder / ARCHIVE_NAME),
        "progress_hooks": [hook],
        "noprogress": True,
        "quiet": True,
        "no_warnings": True,
        "logger": logger,
        "retries": 3,
        "socket_timeout": 30,
        "noplaylist": True,
        "ffmpeg_location": find_ffmpeg().path,
        "merge_output_format": "mp4",
    }


def fetch_url(
    url: str,
    folder: Path,
    password: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Fetched:
    scheme = urlparse(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise InputError(f"unsupported address {url!r} (give an http(s) URL or a local file)")
    previous = _known(folder, "url", url)
    if previous is not None:
        return Fetched(url, previous, "already")
    try:
        import yt_dlp
    except ImportError as exc:
        raise FetchError("fetching URLs needs yt-dlp: pip install 'clipkit[fetch]'") from exc

    logger = _Logger()
    options = _ydl_options(folder, logger, on_progress)
    if password:
        options["videopassword"] = password
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=True)
    except yt_dlp.utils.DownloadError as exc:
        raise FetchError(_explain(url, logger.errors[-1] if logger.errors else str(exc))) from exc
    except yt_dlp.utils.YoutubeDLError as exc:
        raise FetchError(_explain(url, str(exc))) from exc
    if info is None:
        raise FetchError(f"{url}: nothing to download")
    downloads = info.get("requested_downloads") or []
    path = Path(downloads[0]["filepath"]) if downloads and downloads[0].get("filepath") else None
    if path is None:  # the archive already had it (fetched before under another URL)
        path = _known(folder, "id", f"{info.get('extractor_key')} {info.get('id')}")
        if path is None:
            raise FetchError(
                f"{url}: yt-dlp's archive lists it as fetched, but the file is gone; remove it from {ARCHIVE_NAME}"
            )
        return Fetched(url, path, "already")
    keys = ("title", "uploader", "upload_date", "duration", "webpage_url", "extractor")
    about = {"url": url, "kind": "url", "id": f"{info.get('extractor_key')} {info.get('id')}"}
    _write_sidecar(path, {**about, **{key: info.get(key) for key in keys}})
    return Fetched(url, path, "fetched")


def fetch_all(
    sources: list[str],
    folder: Path,
    link: bool = False,
    password: str | None = None,
    on_event: ProgressCallback | None = None,
) -> list[Fetched]:
    folder.mkdir(parents=True, exist_ok=True)
    total = len(sources)
    items = [(BatchItem(s, k, total, unit="bytes"), s) for k, s in enumerate(sources, start=1)]

    def fetch_one(source: str, progress: Callable[[int, int], None]) -> ItemResult:
        try:
            got = (
                fetch_url(source, folder, password, progress)
                if is_url(source)
                else fetch_local(Path(source), folder, link)
            )
        except ClipkitError as exc:
            got = Fetched(source, None, "failed", str(exc))
        status = {"fetched": "done", "already": "skipped", "failed": "failed"}[got.status]
        outputs = (str(got.path),) if got.path else ()
        return ItemResult(status, outputs, got.error, value=got)  # type: ignore[arg-type]

    return [r.value for _, r in run_each(items, fetch_one, on_event or ignore)]
