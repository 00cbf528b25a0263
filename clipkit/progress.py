"""Progress events that long jobs report through a callback (library code never prints)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    """kind: start, progress, done, skipped, failed or warning; for one item of a batch."""

    kind: str
    path: str
    index: int  # 1-based position in the batch
    total: int
    done_ms: int = 0
    duration_ms: int = 0
    message: str = ""
    outputs: tuple[str, ...] = ()


EventCallback = Callable[[Event], None]
