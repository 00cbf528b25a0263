"""One batch shape: BatchItem handles, Progress events counted in one unit, the sequential
runner, and the printer that renders them (as a log, where stderr is not a terminal)."""

from __future__ import annotations

import pytest

from clipkit.batch import BatchItem, ItemResult, Progress, batch_of, run_each
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
