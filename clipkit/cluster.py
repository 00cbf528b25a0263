"""The same work on a Dask cluster (`CLIPKIT_SCHEDULER=tcp://host:8786`, or `scheduler` in
clipkit.toml): `transcribe` and `cut` hand each recording or extract to a worker as a task and
wait; make stays the planner of what is done or stale, and outputs are written exactly as
locally (temp name, then rename) on a filesystem every node sees at the same path.

- Tasks are keyed by the content hash of their inputs and settings: two clients asking for the
  same work get the one task.
- Tasks carry a resource (`transcribe` or `encode`), so GPU workers can take transcription and
  CPU workers the encodes; a resource no worker offers is an error before anything is submitted
  (Dask would wait forever: dask/dask#9587).
- A worker plugin loads each engine's model once per worker (`clipkit worker` starts workers
  with it; a client registers it too, idempotently).
- Engines run in the worker's task thread and release the GIL while they compute (CTranslate2,
  PyTorch, ffmpeg in a subprocess), so the worker's event loop stays responsive.
- A worker killed mid-task: the scheduler runs the task again elsewhere (or on the worker its
  nanny restarts); the killed attempt left only a temp file, removed by the next run there.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ClusterError

ENV = "CLIPKIT_SCHEDULER"
TRANSCRIBE = "transcribe"
ENCODE = "encode"
CONNECT_TIMEOUT_S = 10
TASK_TIMEOUT_S = float(os.environ.get("CLIPKIT_TASK_TIMEOUT", 6 * 3600))


def scheduler_address(configured: str | None = None) -> str | None:
    """The scheduler to use: $CLIPKIT_SCHEDULER, else clipkit.toml's `scheduler`; None runs
    everything here, as before."""
    address = os.environ.get(ENV) or configured
    return address.strip() if address and address.strip() else None


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ClusterError(
            f"{ENV} is set but Dask is not installed: pip install 'clipkit[cluster]'"
        ) from exc
    return distributed


# --- worker side ------------------------------------------------------------------------------

# per worker process: engines by (engine, model, threads, options), and how often one was loaded
_engines: dict[Any, Any] = {}
_engines_lock = threading.Lock()
model_loads = 0


def worker_engine(engine: str, model: str, threads: int | None, options: Any) -> Any:
    """The worker's engine for these settings, loaded on first use and kept (a model per
    worker, not per file: the most common complaint of Whisper batch users). The model name is
    resolved here, on the worker, and threads default to the worker's cores."""
    global model_loads
    from .engines import check_engine, load_engine

    spec = check_engine(engine)
    threads = threads or spec.threads(os.cpu_count() or 1, 1)
    key = (engine, model, threads, options)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = load_engine(engine, spec.resolve_model(model), threads, options)
            model_loads += 1
        return _engines[key]


def _plugin_class() -> type:
    distributed = _distributed()

    class ClipkitModels(distributed.WorkerPlugin):  # type: ignore[misc, name-defined]
        """Loads a transcription model once when a worker starts (or joins later), on
        workers that take transcription (those offering the `transcribe` resource, or any
        worker when none declares resources)."""

        idempotent = True

        def __init__(self, engine: str, model: str, threads: int | None, options: Any) -> None:
            self.settings = (engine, model, threads, options)
            self.name = "clipkit-models-" + digest([engine, str(model), threads, repr(options)])

        def setup(self, worker: Any) -> None:
            state = getattr(worker, "state", worker)
            resources = getattr(state, "total_resources", None) or {}
            if not resources or TRANSCRIBE in resources:
                worker_engine(*self.settings)

    return ClipkitModels


def model_plugin(engine: str, model: str, threads: int | None, options: Any) -> Any:
    return _plugin_class()(engine, model, threads, options)


tasks_done: dict[str, int] = {}


def count_task(kind: str) -> None:
    tasks_done[kind] = tasks_done.get(kind, 0) + 1


def loads_on_worker() -> dict[str, Any]:
    """How many models this worker process has loaded and tasks it ran (tests and the bench
    count them)."""
    return {"model_loads": model_loads, "tasks": dict(tasks_done), "pid": os.getpid()}


def missing_on_worker(paths: Sequence[str]) -> list[str]:
    """Which of these paths this worker cannot read."""
    return [p for p in paths if not os.access(p, os.R_OK)]


def versions_on_worker() -> dict[str, str]:
    import distributed

    from . import __version__

    return {"clipkit": __version__, "distributed": distributed.__version__}


# --- client side ------------------------------------------------------------------------------


def digest(parts: Iterable[Any]) -> str:
    return hashlib.sha256(json.dumps(list(parts), default=str).encode()).hexdigest()[:32]


@dataclass
class Cluster:
    """A connection to a Dask scheduler, checked before anything is submitted."""

    address: str
    client: Any

    @classmethod
    def connect(cls, address: str) -> Cluster:
        distributed = _distributed()
        try:
            client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        cluster = cls(address, client)
        try:
            cluster.check_versions()
        except BaseException:
            client.close()
            raise
        return cluster

    def close(self) -> None:
        self.client.close()

    def workers(self) -> dict[str, dict[str, Any]]:
        return dict(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def check_versions(self) -> None:
        """Client, scheduler and workers must run the same distributed and clipkit."""
        from . import __version__

        try:
            self.client.get_versions(check=True)
        except ValueError as exc:
            raise ClusterError(
                "the client, scheduler and workers run different versions: "
                + str(exc).strip().splitlines()[0]
            ) from exc
        import distributed

        mine = {"clipkit": __version__, "distributed": distributed.__version__}
        for worker, theirs in self.client.run(versions_on_worker).items():
            if theirs != mine:
                raise ClusterError(
                    f"worker {worker} runs {theirs}, this machine {mine}: install the same "
                    "clipkit and distributed everywhere"
                )

    def check_resource(self, resource: str) -> None:
        """A task needing a resource no worker offers would wait forever: say so now."""
        workers = self.workers()
        if not workers:
            raise ClusterError(f"the Dask scheduler at {self.address} has no workers")
        if not any(resource in (w.get("resources") or {}) for w in workers.values()):
            raise ClusterError(
                f"no worker at {self.address} offers the {resource!r} resource "
                f"(start one with `clipkit worker {self.address} --resources {resource}=1`)"
            )

    def check_paths(self, paths: Sequence[Path | str], resource: str) -> None:
        """Every worker that may run the tasks must see the inputs at the same path (a shared
        filesystem); name the first that does not."""
        wanted = [str(Path(p).resolve()) for p in paths]
        takers = [
            address
            for address, w in self.workers().items()
            if resource in (w.get("resources") or {})
        ]
        seen = self.client.run(missing_on_worker, wanted, workers=takers)
        for worker, missing in sorted(seen.items()):
            if missing:
                raise ClusterError(
                    f"worker {worker} cannot read {missing[0]}: every worker needs the media "
                    "at the same path (a shared filesystem)"
                )

    def register_models(self, engine: str, model: str, threads: int | None, options: Any) -> None:
        self.client.register_plugin(model_plugin(engine, model, threads, options))

    def run_all(
        self,
        tasks: Sequence[tuple[str, Callable[..., Any], tuple[Any, ...]]],
        resource: str,
    ) -> list[Any]:
        """Run (key, function, args) tasks on workers offering `resource`; results in order.
        A task that raised re-raises here (a ClipkitError keeps its message)."""
        distributed = _distributed()
        futures = [
            self.client.submit(fn, *args, key=key, resources={resource: 1}, pure=False)
            for key, fn, args in tasks
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        deadline = time.monotonic() + TASK_TIMEOUT_S
        try:
            for future in distributed.as_completed(
                futures, loop=self.client.loop, timeout=TASK_TIMEOUT_S
            ):
                i = index[future.key]
                results[i] = future.result(timeout=max(1.0, deadline - time.monotonic()))
        except TimeoutError as exc:
            raise ClusterError(
                f"cluster tasks not done after {TASK_TIMEOUT_S:.0f} s (CLIPKIT_TASK_TIMEOUT)"
            ) from exc
        finally:
            for f in futures:
                f.release()
        return results


# the dask nanny sets these in each worker process it starts; with them faster-whisper decoded
# a few words differently (3 of 80 cues of the sample: numpy's and the engine's sums run in
# another order) and ran 45 % slower (MALLOC_TRIM_THRESHOLD_ fixes glibc's mmap threshold, so
# every large array is mapped afresh) than the same run on one machine
NANNY_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                   "MALLOC_TRIM_THRESHOLD_")  # fmt: skip


def worker_environment(environ: dict[str, str]) -> dict[str, str]:
    """The environment for `dask worker`: the nanny leaves those variables as the user has
    them (its config unsets a variable given as None), so a task runs as it would here."""
    env = dict(environ)
    env["DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON"] = repr(dict.fromkeys(NANNY_VARIABLES))
    return env


def dask_setup(worker: Any) -> None:
    """`--preload clipkit.cluster`: import the engine registry now, not in the first task."""
    from . import engines  # noqa: F401


def worker_command(
    address: str, resources: Sequence[str], nthreads: int, name: str | None
) -> list[str]:
    """`dask worker` with clipkit's plugin preloaded and its resources (argv)."""
    import sys

    argv = [sys.executable, "-m", "distributed.cli.dask_worker", address,
            "--nthreads", str(nthreads), "--nworkers", "1", "--preload", "clipkit.cluster"]  # fmt: skip
    if resources:
        argv += ["--resources", " ".join(resources)]
    if name:
        argv += ["--name", name]
    return argv
