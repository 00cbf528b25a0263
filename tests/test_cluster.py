"""The same `make all` on a real Dask cluster: a `dask scheduler` on 127.0.0.1 and two workers
started with `clipkit worker` (one takes transcription, one takes encodes)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from distributed import Client

from clipkit.cluster import loads_on_worker
from clipkit.media import probe

from .conftest import frame, invoke

pytestmark = pytest.mark.engine
ROOT = Path(__file__).resolve().parent.parent
LOGS = Path()  # the module cluster's log folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def dask_cluster(
    tmp: Path, workers: list[tuple[list[str], list[str]]]
) -> Iterator[tuple[str, Client]]:
    """A scheduler and workers ((prefix argv, clipkit worker args) each), torn down after."""
    address = f"tcp://127.0.0.1:{free_port()}"
    procs = []

    def start(argv: list[str], log: str) -> None:
        out = open(tmp / log, "wb")  # noqa: SIM115 (closed with the process)
        procs.append((subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, cwd="/tmp"), out))  # fmt: skip

    start([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
           "--port", address.rsplit(":", 1)[1], "--no-dashboard"], "scheduler.log")  # fmt: skip
    for k, (prefix, args) in enumerate(workers):
        start([*prefix, sys.executable, "-m", "clipkit", "worker", address, *args],
              f"worker{k}.log")  # fmt: skip
    client = None
    try:
        client = Client(address, timeout=30, set_as_default=False)
        client.wait_for_workers(len(workers), timeout=90)
        yield address, client
    finally:
        if client is not None:
            client.close()
        for proc, out in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            out.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Client]]:
    logs = tmp_path_factory.mktemp("dask")
    global LOGS
    LOGS = logs
    workers = [([], ["-r", "transcribe=1", "--name", "transcriber"]),
               ([], ["-r", "encode=1", "--name", "encoder"])]  # fmt: skip
    with dask_cluster(logs, workers) as running:
        yield running


def by_name(client: Client) -> dict[str, str]:
    """Worker name → address."""
    return {w["name"]: a for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}


def counts(client: Client) -> dict[str, dict]:
    names = {a: n for n, a in by_name(client).items()}
    return {names[a]: v for a, v in client.run(loads_on_worker).items()}


def project_copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / "samples" / "project", target,
                    ignore=shutil.ignore_patterns(".clipkit", "transcripts", "extracts"))  # fmt: skip
    return target


def make(project: Path, scheduler: str | None, wait: bool = True):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "CLIPKIT_SCHEDULER")}  # fmt: skip
    argv = ["make", "--no-print-directory", "-C", str(ROOT), "all", f"PROJECT={project}"]
    if scheduler:
        env["CLIPKIT_SCHEDULER"] = scheduler
    if not wait:
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)


def test_make_all_on_the_cluster_gives_the_local_outputs(
    cluster: tuple[str, Client], tmp_path: Path
) -> None:
    address, client = cluster
    local, remote = project_copy(tmp_path, "local"), project_copy(tmp_path, "remote")
    assert make(local, None).returncode == 0
    before = counts(client)
    run = make(remote, address)
    assert run.returncode == 0, run.stderr
    after = counts(client)
    # the work ran on the workers: one transcription (one model load, on the transcriber;
    # none on the encoder) and both encodes on the encoder
    assert after["transcriber"]["model_loads"] == 1
    assert after["encoder"]["model_loads"] == 0
    ran = {
        name: {k: v - before[name]["tasks"].get(k, 0) for k, v in after[name]["tasks"].items()}
        for name in after
    }
    assert ran == {"transcriber": {"transcribe": 1}, "encoder": {"cut": 2}}

    def srt_text(p: Path) -> str:
        return (p / "transcripts" / "conversation.srt").read_text(encoding="utf-8")

    assert srt_text(remote) == srt_text(local)
    videos = sorted(p.name for p in (local / "extracts").glob("*.mp4"))
    assert videos == sorted(p.name for p in (remote / "extracts").glob("*.mp4")) and videos
    for name in videos:
        a, b = local / "extracts" / name, remote / "extracts" / name
        assert abs(probe(a).duration_ms - probe(b).duration_ms) <= 1
        assert np.abs(frame(a, 1.0) - frame(b, 1.0)).mean() < 1.0
        srt_a = a.with_suffix(".srt").read_text(encoding="utf-8")
        assert srt_a == b.with_suffix(".srt").read_text(encoding="utf-8")
    again = make(remote, address)
    assert again.stdout.strip() == "make: Nothing to be done for 'all'."
    # the engines compute outside the GIL: the workers kept answering (distributed warns
    # "Event loop was unresponsive" when a task holds the loop for seconds)
    logs = "".join(p.read_text(errors="replace") for p in LOGS.glob("worker*.log"))
    assert "unresponsive" not in logs
    # another project's transcription reuses the transcriber's model
    other = project_copy(tmp_path, "other")
    assert make(other, address).returncode == 0
    assert counts(client)["transcriber"]["model_loads"] == 1


def test_a_worker_killed_mid_encode_leaves_whole_outputs(
    cluster: tuple[str, Client], tmp_path: Path
) -> None:
    address, client = cluster
    project = project_copy(tmp_path, "killed")
    run = make(project, address, wait=False)
    extracts = project / "extracts"
    killed = None
    deadline = time.monotonic() + 300
    while killed is None and time.monotonic() < deadline and run.poll() is None:
        busy = {k for keys in client.processing().values() for k in keys}
        if any(str(k).startswith("clipkit-cut-") for k in busy) and list(extracts.glob(".*.part*")):
            pid = counts(client)["encoder"]["pid"]
            os.kill(pid, signal.SIGKILL)  # the worker process; its nanny starts a new one
            killed = pid
        time.sleep(0.05)
    out, err = run.communicate(timeout=600)
    assert killed is not None, f"no encode was seen running\n{err}"
    assert run.returncode == 0, err
    assert counts(client)["encoder"]["pid"] != killed
    plan_rows = len((project / "plan.csv").read_text().strip().splitlines()) - 1
    videos = sorted(extracts.glob("*.mp4"))
    assert len(videos) == plan_rows
    assert not list(extracts.glob(".*part*"))  # the killed attempt's file is gone
    for video in videos:
        side = json.loads(video.with_suffix(".json").read_text())
        assert abs(probe(video).duration_ms - (side["end"] - side["start"]) * 1000) <= 80
    assert make(project, address).stdout.strip() == "make: Nothing to be done for 'all'."


def hidden_folder_prefix(folder: Path) -> list[str] | None:
    """A command prefix that runs a process in its own mount namespace with an empty tmpfs over
    `folder` (a machine that does not share it), or None where that is not allowed."""
    prefix = ["unshare", "-m", "--propagation", "private", "sh", "-c",
              f'mount -t tmpfs none "{folder}" && exec "$@"', "sh"]  # fmt: skip
    if shutil.which("unshare") is None:
        return None
    probe_run = subprocess.run([*prefix, "ls", str(folder)], capture_output=True, text=True)
    return prefix if probe_run.returncode == 0 and not probe_run.stdout.strip() else None


def test_clear_errors_within_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resource no worker offers, an input a worker cannot see, no scheduler at all."""
    recording = ROOT / "samples" / "project" / "recordings" / "conversation.mp4"
    private = tmp_path / "private"
    private.mkdir()
    shutil.copy(recording, private / "talk.mp4")
    prefix = hidden_folder_prefix(private)
    workers = [(prefix or [], ["-r", "encode=1", "--name", "outsider"])]
    with dask_cluster(tmp_path, workers) as (address, _client):
        monkeypatch.setenv("CLIPKIT_SCHEDULER", address)
        started = time.monotonic()
        result = invoke("transcribe", str(recording), "-o", str(tmp_path / "t"), "-q")
        assert time.monotonic() - started < 20
        assert (result.exit_code, result.stderr) == (1, (
            f"Error: no worker at {address} offers the 'transcribe' resource (start one "
            f"with `clipkit worker {address} --resources transcribe=1`)\n"))  # fmt: skip
        if prefix is not None:
            started = time.monotonic()
            cut = invoke("cut", str(private / "talk.mp4"), "--start", "1", "--end", "3",
                         "--title", "x", "--no-burn", "-o", str(tmp_path / "x"))  # fmt: skip
            assert time.monotonic() - started < 20
            assert cut.exit_code == 1
            line = cut.stderr.strip().splitlines()[-1]
            assert line.startswith("Error: worker tcp://127.0.0.1:")
            assert line.endswith(
                f"cannot read {private / 'talk.mp4'}: every worker needs the media at the "
                "same path (a shared filesystem)"
            )
    if prefix is None:
        print("unshare -m is not allowed here: the unseen-input case was not run")
    monkeypatch.setenv("CLIPKIT_SCHEDULER", f"tcp://127.0.0.1:{free_port()}")
    gone = invoke("transcribe", str(recording), "-o", str(tmp_path / "t"), "-q")
    assert gone.exit_code == 1
    assert gone.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:")


def test_a_worker_with_another_clipkit_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker running another clipkit version (here: a copy of the package with its version
    changed, first on its PYTHONPATH) is refused before any work is submitted."""
    other = tmp_path / "other"
    shutil.copytree(ROOT / "clipkit", other / "clipkit")
    init = other / "clipkit" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9.9.9+'))
    workers = [(["env", f"PYTHONPATH={other}"], ["-r", "transcribe=1", "--name", "old"])]
    recording = ROOT / "samples" / "project" / "recordings" / "conversation.mp4"
    with dask_cluster(tmp_path, workers) as (address, _client):
        monkeypatch.setenv("CLIPKIT_SCHEDULER", address)
        result = invoke("transcribe", str(recording), "-o", str(tmp_path / "t"), "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: worker tcp://127.0.0.1:")
    assert "'clipkit': '9.9.9+" in result.stderr
    assert result.stderr.rstrip().endswith("install the same clipkit and distributed everywhere")
    assert not (tmp_path / "t").exists()


def test_scheduler_from_clipkit_toml(tmp_path: Path) -> None:
    """`[cluster] scheduler` in the project's clipkit.toml names the cluster (here one that is
    not running: the error names it); CLIPKIT_SCHEDULER would win over it."""
    root = tmp_path / "p"
    assert invoke("init", str(root)).exit_code == 0
    address = f"tcp://127.0.0.1:{free_port()}"
    config = root / "clipkit.toml"
    text = config.read_text()
    example = next(line for line in text.splitlines() if line.startswith("# scheduler = "))
    config.write_text(text.replace(example, f'scheduler = "{address}"'))
    shutil.copy(ROOT / "samples" / "project" / "recordings" / "conversation.mp4",
                root / "recordings")  # fmt: skip
    result = invoke("--project", str(root), "transcribe", "-q")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot reach the Dask scheduler at {address}:")
