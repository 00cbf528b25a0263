"""Faults a real user meets: clipkit killed mid-cut (SIGTERM from a desktop session ending,
`kill -9`, an out-of-memory kill), and two `make all` runs on one project at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .conftest import SAMPLE, invoke
from .test_project import make, project_copy  # noqa: F401 - the fixture


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_long_cut(out: Path) -> tuple[subprocess.Popen[bytes], list[int]]:
    """A slow cut (70 s, 9:16 with a blurred background); returns once ffmpeg is encoding."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "clipkit", "cut", str(SAMPLE), "--start", "0", "--end", "70",
         "-o", str(out), "--no-burn", "-q", "--aspect", "9:16", "--fill", "blur", "--title", "long"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob(".*part*")):
        time.sleep(0.05)
    assert list(out.glob(".*part*")), "the encode never started"
    time.sleep(0.3)
    ffmpegs = [p for p in children(proc.pid) if "ffmpeg" in Path(f"/proc/{p}/cmdline").read_text()]
    assert ffmpegs, "no ffmpeg child found"
    return proc, ffmpegs


def wait_gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def test_sigterm_stops_ffmpeg_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc, ffmpegs = start_long_cut(out)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert (
        stderr.decode()
        .strip()
        .endswith("Error: stopped by SIGTERM; finished outputs are kept, partial ones removed")
    )
    assert wait_gone(ffmpegs) == []
    assert list(out.iterdir()) == []


def test_kill_9_leaves_no_ffmpeg_and_a_rerun_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc, ffmpegs = start_long_cut(out)
    temp_dirs = list(Path(tempfile.gettempdir()).glob(f"clipkit-{proc.pid}-*"))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert wait_gone(ffmpegs) == [], "ffmpeg outlived a killed clipkit"
    assert list(out.glob(".*.part.mp4")), "the killed run's partial file is gone already?"
    # the next run removes what the killed one left, and makes its own extract
    result = invoke("cut", str(SAMPLE), "--start", "1", "--end", "3", "-o", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert not list(out.glob(".*part*"))
    assert not any(d.exists() for d in temp_dirs)
    assert not list(Path(tempfile.gettempdir()).glob(f"clipkit-{proc.pid}-*"))


@pytest.mark.engine
def test_two_make_all_at_once_make_each_output_once(project_copy: Path) -> None:  # noqa: F811
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
    }
    root = Path(__file__).resolve().parent.parent
    runs = [
        subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-C",
                str(root),
                "-j2",
                "all",
                f"PROJECT={project_copy}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        for _ in range(2)
    ]
    results = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    said = "".join(out + err for out, err in results)
    made = sorted(
        ln.split(": done -> ")[0].split("] ")[1] for ln in said.splitlines() if ": done -> " in ln
    )
    extracts = sorted(p.stem for p in (project_copy / "extracts").glob("*.mp4"))
    assert made == sorted(["conversation.mp4", *extracts])  # each made once, by one run
    assert len(extracts) == 2 and (project_copy / "transcripts" / "conversation.srt").is_file()
    again = make("all", f"PROJECT={project_copy}")
    assert again.stdout.strip() == "make: Nothing to be done for 'all'."
