"""A recording's identity by its content, shared by every stage's freshness check."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


def source_key(path: Path) -> str:
    """A recording's identity by content, cheap for hours of video: its size and the SHA-256 of
    its first and last 4 MiB. A copied or moved project (`cp -a`, another disk) keeps it."""
    st = path.stat()
    return _source_key(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=256)
def _source_key(path: str, size: int, mtime_ns: int) -> str:
    span = 4 << 20
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(span))
        if size > 2 * span:
            fh.seek(size - span)
            digest.update(fh.read(span))
    return digest.hexdigest()
