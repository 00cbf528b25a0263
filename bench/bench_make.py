#!/usr/bin/env python3
"""Batch benchmark: `make -j2 extracts` vs `make -j1 extracts` on a copy of the sample project
(transcripts made first, once), and the time of a no-op re-run. One run, one machine.
Run with `make bench`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make(*args: str) -> float:
    started = time.perf_counter()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    }
    subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *args],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - started


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        shutil.copytree(
            ROOT / "samples" / "project",
            project,
            ignore=shutil.ignore_patterns(".clipkit", "transcripts", "extracts"),
        )
        make("transcribe", f"PROJECT={project}")
        times = {}
        for jobs in (1, 2, 1, 2):  # twice each, interleaved; the best counts
            shutil.rmtree(project / "extracts", ignore_errors=True)
            for stamp in (project / ".clipkit" / "done").glob("*.extract"):
                stamp.unlink()
            wall = make(f"-j{jobs}", "extracts", f"PROJECT={project}")
            times[jobs] = min(wall, times.get(jobs, wall))
        noop = min(make("all", f"PROJECT={project}") for _ in range(3))
        rows = len((project / "plan.csv").read_text().splitlines()) - 1
    print(f"\nmake over the sample project ({rows} plan rows), {os.cpu_count()} cores, best of 2")
    print(f"{'case':<36} {'wall s':>8}")
    print(f"{'make -j1 extracts':<36} {times[1]:>8.2f}")
    print(f"{'make -j2 extracts':<36} {times[2]:>8.2f}   ({times[1] / times[2]:.2f}x faster)")
    print(f"{'make all, nothing to do':<36} {noop:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
