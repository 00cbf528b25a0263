"""The cluster path's overhead: 8 recordings transcribed on this machine with `--jobs 2`, and
the same through a Dask cluster on 127.0.0.1 (a scheduler and two `clipkit worker`s, one task
at a time each), both with one engine thread per file. Prints wall times (best of --repeat),
the overhead of the cluster path relative to the local run, the model loads counted on the
workers, and how long the cluster took to start (not part of the comparison: a cluster is
started once for many jobs).

The recordings are 60 s pieces of the bundled sample from different offsets (so no two are the
same file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clipkit.ffmpeg import bundled_ffmpeg, run_ffmpeg  # noqa: E402

SAMPLE = ROOT / "samples" / "conversation.mp4"


def recordings(folder: Path, count: int) -> list[Path]:
    out = []
    for k in range(count):
        path = folder / f"talk-{k + 1}.mp4"
        run_ffmpeg(["-y", "-loglevel", "error", "-stream_loop", "1", "-ss", str(5 * k), "-i",
                    str(SAMPLE), "-t", "60", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", str(path)], binary=bundled_ffmpeg())  # fmt: skip
        out.append(path)
    return out


def transcribe(files: list[Path], out: Path, env: dict[str, str], *extra: str) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "clipkit", "transcribe", *map(str, files), "-o",
                    str(out), "--threads", "1", "--quiet", *extra], env=env, check=True)  # fmt: skip
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recordings", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "CLIPKIT_SCHEDULER"}
    env.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = recordings(folder, args.recordings)
        local = min(
            transcribe(files, folder / "local", env, "--jobs", "2") for _ in range(args.repeat)
        )

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        address = f"tcp://127.0.0.1:{port}"
        procs = []
        started = time.perf_counter()
        log = open(folder / "dask.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                                       "--host", "127.0.0.1", "--port", str(port),
                                       "--no-dashboard"], stdout=log, stderr=log, env=env,
                                      start_new_session=True))  # fmt: skip
        for k in range(2):
            procs.append(subprocess.Popen([sys.executable, "-m", "clipkit", "worker", address,
                                           "-r", "transcribe=1", "--name", f"w{k}"],
                                          stdout=log, stderr=log, env=env,
                                          start_new_session=True))  # fmt: skip
        try:
            from distributed import Client

            from clipkit.cluster import loads_on_worker

            with Client(address, timeout=30) as client:
                client.wait_for_workers(2, timeout=60)
                ready = time.perf_counter() - started
                remote_env = dict(env, CLIPKIT_SCHEDULER=address)
                remote = min(
                    transcribe(files, folder / "cluster", remote_env) for _ in range(args.repeat)
                )
                loads = sorted(v["model_loads"] for v in client.run(loads_on_worker).values())
                tasks = sum(
                    v["tasks"].get("transcribe", 0) for v in client.run(loads_on_worker).values()
                )
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                p.wait(20)
            log.close()
        differ = [
            f.name
            for f in files
            if (folder / "local" / f"{f.stem}.srt").read_bytes()
            != (folder / "cluster" / f"{f.stem}.srt").read_bytes()
        ]
        if differ and os.environ.get("BENCH_KEEP"):
            shutil.copytree(folder, os.environ["BENCH_KEEP"], dirs_exist_ok=True)
    print(f"| {args.recordings} recordings × 60 s, transcribe (tiny.en int8) | wall |")
    print("|---|---|")
    print(f"| this machine, `--jobs 2` | {local:.1f} s |")
    print(f"| local Dask cluster, 2 workers (`CLIPKIT_SCHEDULER`) | {remote:.1f} s |")
    print(f"| cluster path overhead | {(remote - local) / local:+.1%} |")
    print(f"| model loads on the workers ({tasks} tasks over {args.repeat} runs) | {loads} |")
    print(f"| cluster start (scheduler + 2 workers ready) | {ready:.1f} s |")
    print(
        f"| SRTs identical to the local run | {'yes' if not differ else 'NO: ' + ', '.join(differ)} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
