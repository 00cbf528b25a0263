"""One shape for every batch (transcribe, cut, fetch, publish, the cluster backend): each item
reports through a `BatchItem` handle as a stream of `Progress` events, whose work is counted in
one unit per batch, milliseconds of media or bytes moved. Library code never prints; the CLI
renders the stream (`cli.base.ProgressPrinter`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .errors import ClipkitError

Unit = Literal["ms", "bytes"]
Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True)
class Progress:
    """kind: batch (the whole run's work in `size`), start, progress, done, skipped, failed or
    warning; for one item of a batch (`index` is 1-based)."""

    kind: str
    path: str
    index: int
    total: int
    done: int = 0
    size: int = 0
    unit: Unit = "ms"
    message: str = ""
    outputs: tuple[str, ...] = ()


ProgressCallback = Callable[[Progress], None]


def ignore(_: Progress) -> None:
    """The callback of a caller that does not listen."""


@dataclass(frozen=True)
class BatchItem:
    """One item's place in its batch, and the events it sends."""

    path: str
    index: int
    total: int
    size: int = 0
    unit: Unit = "ms"

    def event(self, kind: str, **fields: Any) -> Progress:
        return Progress(kind, self.path, self.index, self.total, unit=self.unit, **fields)

    def start(self, done: int = 0, size: int | None = None) -> Progress:
        return self.event("start", done=done, size=self.size if size is None else size)

    def progress(self, done: int, size: int | None = None) -> Progress:
        size = self.size if size is None else size
        return self.event("progress", done=min(done, size) if size else done, size=size)

    def finished(
        self, status: Status, outputs: Iterable[str] = (), message: str = "", counted: bool = True
    ) -> Progress:
        """The item's last event; `counted`: its work is done (not only checked or skipped)."""
        done = self.size if counted and status != "failed" else 0
        return self.event(status, done=done, size=self.size, message=message,
                          outputs=tuple(outputs))  # fmt: skip

    def warning(self, message: str) -> Progress:
        return self.event("warning", message=message)


def batch_of(work: int, items: int, unit: Unit = "ms") -> Progress:
    """The run's announcement: all the work still to do, for the overall line and its ETA."""
    return Progress("batch", "", 0, items, size=work, unit=unit)


def warning(message: str) -> Progress:
    """A warning that belongs to the run rather than to one item."""
    return Progress("warning", "", 0, 0, message=message)


T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class ItemResult:
    """What one item of a sequential batch came to."""

    status: Status
    outputs: tuple[str, ...] = ()
    message: str = ""
    value: Any = field(default=None, compare=False)


def run_each(
    items: Iterable[tuple[BatchItem, T]],
    work: Callable[[T, Callable[[int, int], None]], ItemResult],
    emit: ProgressCallback,
) -> Iterator[tuple[T, ItemResult]]:
    """Items one after another in this process: a start event, progress from the work's
    callback (done, size), and one closing event; a ClipkitError fails only its own item."""
    for item, payload in items:
        emit(item.start())

        def progress(done: int, size: int, item: BatchItem = item) -> None:
            emit(item.progress(done, size))

        try:
            result = work(payload, progress)
        except ClipkitError as exc:
            result = ItemResult("failed", message=str(exc))
        emit(item.finished(result.status, result.outputs, result.message))
        yield payload, result


def _nothing() -> None:
    pass


def run_pool(
    pool: Executor,
    items: Sequence[T],
    work: Callable[[T], R],
    finish: Callable[[T, R | None, str], R],
    *,
    poll: Callable[[], None] = _nothing,
    on_interrupt: Callable[[], None] = _nothing,
    item_crashes: tuple[type[Exception], ...] = (),
) -> list[R]:
    """Items at once on `pool` (threads, or worker processes), results in the items' order.
    `finish(item, result, error)` makes the item's result from what came back and sends its
    closing event; `error` is a ClipkitError's message (or, for `item_crashes`, the crash's:
    a dead worker process fails only its own item). `poll` runs while waiting, to pass on
    progress that worker processes queued. On an interrupt, or any other error, the items not
    started are cancelled and `on_interrupt` runs (stop what is running) before it goes up."""
    futures: dict[Future[R], int] = {pool.submit(work, item): k for k, item in enumerate(items)}
    results: dict[int, R] = {}
    remaining = set(futures)
    try:
        while remaining:
            done, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
            poll()
            for future in done:
                k = futures[future]
                value: R | None = None
                try:
                    value, error = future.result(), ""
                except ClipkitError as exc:
                    error = str(exc)
                except item_crashes as exc:
                    error = f"{type(exc).__name__}: {exc}"
                results[k] = finish(items[k], value, error)
    except BaseException:
        for future in remaining:
            future.cancel()
        on_interrupt()
        raise
    poll()
    return [results[k] for k in range(len(items))]
