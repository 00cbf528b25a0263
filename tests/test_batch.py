"""One batch shape: BatchItem handles, Progress events counted in one unit, the sequential
runner, the pool runner, and the printer that renders them (as a log, where stderr is not a terminal)."""

from __future__ import annotations

import pytest

from clipkit.batch import BatchItem, ItemResult, Progress, batch_of, run_each, run_pool
from clipkit.cli.base import ProgressPrinter
from clipkit.errors import InputError


def test_an_item_reports_its_work_in_its_unit() -> None:
    item = BatchItem("talk.mp4", 2, 3, size=5_000_000, unit="bytes")
    assert item.start(done=1_000_000) == Progress(
        "start", "talk.mp4", 2, 3, done=1_000_000, size=5_000_000, unit="bytes"
    )
    assert item.progress(9_000_000).done == 5_000_000  # never more than the whole
    assert item.finished("done", ["out.mp4"]).outputs == ("out.mp4",)
    assert item.finished("done").done == 5_000_000
    assert item.finished("skipped", counted=False).done == 0
    assert item.finished("failed", message="gone").done == 0
    assert batch_of(7, 3, "bytes") == Progress("batch", "", 0, 3, size=7, unit="bytes")


def test_the_sequential_runner_fails_one_item_and_goes_on() -> None:
    seen: list[Progress] = []

    def work(name: str, progress) -> ItemResult:  # type: ignore[no-untyped-def]
        if name == "b":
            raise InputError("b: not found")
        progress(50, 100)
        return ItemResult("done", (f"{name}.out",), value=name.upper())

    items = [(BatchItem(n, k, 3, unit="bytes"), n) for k, n in enumerate("abc", start=1)]
    results = list(run_each(items, work, seen.append))
    assert [(name, r.status, r.value) for name, r in results] == [
        ("a", "done", "A"), ("b", "failed", None), ("c", "done", "C"),
    ]  # fmt: skip
    assert [(e.kind, e.path) for e in seen] == [
        ("start", "a"), ("progress", "a"), ("done", "a"),
        ("start", "b"), ("failed", "b"),
        ("start", "c"), ("progress", "c"), ("done", "c"),
    ]  # fmt: skip
    assert seen[4].message == "b: not found"
    assert {e.unit for e in seen} == {"bytes"}


def _finish(name: str, value: str | None, error: str) -> str:
    return value if value is not None else f"failed: {error}"


def test_the_pool_runner_keeps_the_items_order_and_fails_only_one_item() -> None:
    """Items finish in any order on the pool; results come back in the items' order; a
    ClipkitError, or a crash named in item_crashes, fails only its own item."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    def work(name: str) -> str:
        time.sleep({"a": 0.3, "b": 0.0, "c": 0.1, "d": 0.0}[name])
        if name == "b":
            raise InputError("b: not found")
        if name == "d":
            raise RuntimeError("worker died")
        return name.upper()

    finished: list[str] = []

    def finish(name: str, value: str | None, error: str) -> str:
        finished.append(name)
        return _finish(name, value, error)

    with ThreadPoolExecutor(max_workers=4) as pool:
        out = run_pool(pool, list("abcd"), work, finish, item_crashes=(RuntimeError,))
    assert out == ["A", "failed: b: not found", "C", "failed: RuntimeError: worker died"]
    assert finished[-1] == "a" and sorted(finished) == list("abcd")  # closing events as done


def test_the_pool_runner_stops_the_rest_on_an_interrupt() -> None:
    """A crash not named as an item's (a bug, ^C) goes up, after the items not started are
    cancelled and on_interrupt has run (cut stops its ffmpegs there)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    started: list[str] = []
    stopped = threading.Event()

    def work(name: str) -> str:
        started.append(name)
        if name == "a":
            raise KeyboardInterrupt
        stopped.wait(5)
        return name

    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(KeyboardInterrupt):
        run_pool(pool, list("abc"), work, _finish, on_interrupt=stopped.set)
    # b may have begun (it waits until on_interrupt); c, queued behind it, was cancelled
    assert stopped.is_set() and started[0] == "a" and "c" not in started


@pytest.mark.parametrize(
    ("unit", "size", "lines"),
    [
        ("bytes", 8_000_000, ["[1/1] talk.mp4: uploading 8.0 MB",
                              "[1/1] talk.mp4: 50% (4.0 MB of 8.0 MB)",
                              "[1/1] talk.mp4: done -> https://youtu.be/x"]),
        ("ms", 60_000, ["[1/1] talk.mp4: uploading 60.0 s",
                        "[1/1] talk.mp4: 50% (30.0 s of 60.0 s)",
                        "[1/1] talk.mp4: done -> https://youtu.be/x"]),
    ],
)  # fmt: skip
def test_the_printer_counts_in_the_events_unit(
    capsys: pytest.CaptureFixture[str], unit: str, size: int, lines: list[str]
) -> None:
    printer = ProgressPrinter(quiet=False, verb="uploading")
    printer.tty = False
    item = BatchItem("talk.mp4", 1, 1, size=size, unit=unit)  # type: ignore[arg-type]
    for event in (
        item.start(),
        item.progress(size // 2),
        item.finished("done", ["https://youtu.be/x"]),
    ):
        printer(event)
    assert capsys.readouterr().err.splitlines() == lines
