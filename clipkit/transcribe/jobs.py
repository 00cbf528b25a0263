"""Transcription jobs and where they run: in this process, on worker processes, or as cluster
tasks; one lock per recording so two runs never transcribe it twice."""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..batch import BatchItem, ItemResult, Progress, ProgressCallback, run_each, run_pool
from ..engines import Engine, EngineOptions, load_engine
from ..errors import ClipkitError
from ..fsutil import item_lock
from ..models import LocalModel
from ..speakers import SpeakerSource
from ..subtitles import Profile
from .one import transcribe_one
from .options import (
    FileResult,
    TranscribeOptions,
)

if TYPE_CHECKING:
    from ..cluster import Cluster


@dataclass(frozen=True)
class TranscribeJob:
    """One recording to transcribe, as it travels to a worker process or a cluster task."""

    path: str
    duration_ms: int
    outputs: tuple[str, ...]
    profile: Profile
    index: int  # 1-based place in the batch, for progress
    total: int
    track: int  # the audio stream holding the speech
    fresh: Callable[[], bool]  # up to date? asked again under the recording's lock
    speakers: SpeakerSource
    translated: tuple[str, ...] = ()  # NAME.xx.srt/.vtt to write, when translating
    target: str | None = None  # the translation's language

    @property
    def item(self) -> BatchItem:
        """Its place in the batch; its work is its length in ms."""
        return BatchItem(self.path, self.index, self.total, self.duration_ms)

    def failed(self, error: str) -> FileResult:
        return FileResult(self.path, "failed", (), self.duration_ms, error=error)


def parallel_files(durations_ms: Sequence[int]) -> int:
    """How many recordings are worth transcribing at once: one a worker while the work is
    spread over them, but a recording longer than all the others together runs alone on every
    core (a thread per core is faster for one file than a worker per file that idles)."""
    if not durations_ms:
        return 0
    longest = max(max(durations_ms), 1)
    return max(1, min(len(durations_ms), round(sum(durations_ms) / longest)))


_worker_engine = None


_worker_events: queue.Queue | None = None  # type: ignore[type-arg]


def _init_worker(
    engine: str, model: LocalModel | str, threads: int, options: EngineOptions, events
) -> None:  # type: ignore[no-untyped-def]
    global _worker_engine, _worker_events
    _worker_engine = load_engine(engine, model, threads, options)  # type: ignore[arg-type]
    _worker_events = events


def _work(job: TranscribeJob) -> FileResult:
    assert _worker_engine is not None and _worker_events is not None
    events = _worker_events

    def progress(ms: int) -> None:
        events.put(job.item.progress(ms))

    return _transcribe_locked(_worker_engine, job, progress, lambda: events.put(_waiting(job)))


def _waiting(job: TranscribeJob) -> Progress:
    message = f"{Path(job.path).name}: waiting for another clipkit run transcribing it"
    return job.item.warning(message)


def _transcribe_locked(
    engine: Engine,
    job: TranscribeJob,
    progress: Callable[[int], None] | None,
    waiting: Callable[[], None],
) -> FileResult:
    """One recording under its lock: a second clipkit run on the same outputs waits, then finds
    them made and skips."""
    outputs = [Path(o) for o in job.outputs]
    with item_lock(outputs[0], waiting):
        if job.fresh():
            return FileResult(job.path, "skipped", job.outputs, job.duration_ms)
        transcript, warnings = transcribe_one(
            engine, Path(job.path), job.duration_ms, outputs, job.profile, progress, job.track,
            job.speakers, [Path(t) for t in job.translated], job.target,
        )  # fmt: skip
    return FileResult(
        job.path,
        "done",
        (*job.outputs, *(t for t in job.translated if Path(t).is_file())),
        job.duration_ms,
        language=transcript.language,
        words=len(transcript.words),
        warnings=tuple(warnings),
    )


def _report(job: TranscribeJob, result: FileResult, emit: ProgressCallback) -> FileResult:
    for warning in result.warnings:
        emit(job.item.warning(warning))
    emit(job.item.finished(result.status, result.outputs, result.error))  # type: ignore[arg-type]
    return result


@dataclass(frozen=True)
class BatchRun:
    """How the jobs of one batch run: the model resolved once, workers and threads decided
    from the work, and where progress events go."""

    options: TranscribeOptions
    model: LocalModel | str
    workers: int
    threads: int
    emit: ProgressCallback

    @property
    def model_name(self) -> str:
        return self.model.name if isinstance(self.model, LocalModel) else str(self.model)


def run_jobs(
    jobs: Sequence[TranscribeJob], run: BatchRun, cluster: Cluster | None = None
) -> list[FileResult]:
    """Each job's result, in order: on the cluster when given, else in this process (one
    worker) or on worker processes."""
    if cluster is not None:
        return _run_cluster(cluster, jobs, run)
    return list(_run_here(jobs, run) if run.workers == 1 else _run_pool(jobs, run))


def _run_here(jobs: Sequence[TranscribeJob], run: BatchRun) -> Iterator[FileResult]:
    """One worker: no process start-up cost, the model loaded in this process; the jobs run
    one after another as every sequential batch does (batch.run_each)."""
    options, emit = run.options, run.emit
    engine = load_engine(options.engine, run.model, run.threads, options.engine_options())

    def work(job: TranscribeJob, progress: Callable[[int, int], None]) -> ItemResult:
        result = _transcribe_locked(
            engine, job, lambda ms: progress(ms, job.duration_ms), lambda: emit(_waiting(job))
        )
        for warning in result.warnings:
            emit(job.item.warning(warning))
        return ItemResult(result.status, result.outputs, result.error or "", value=result)  # type: ignore[arg-type]

    for job, outcome in run_each(((job.item, job) for job in jobs), work, emit):
        yield outcome.value if outcome.value is not None else job.failed(outcome.message)


def _run_cluster(
    cluster: Cluster, jobs: Sequence[TranscribeJob], run: BatchRun
) -> list[FileResult]:
    """Each recording a task on the cluster, keyed by its content and settings; the model is
    loaded once per worker (cluster.py)."""
    from ..cluster import TRANSCRIBE, digest
    from ..sourcekey import source_key

    cluster.check_resource(TRANSCRIBE)
    cluster.check_paths([job.path for job in jobs], TRANSCRIBE)
    options, emit, model_name = run.options, run.emit, run.model_name
    engine_options = options.engine_options()
    cluster.register_models(options.engine, model_name, options.threads, engine_options)
    tasks = []
    for job in jobs:
        emit(job.item.start())
        key = digest(["transcribe", source_key(Path(job.path)), list(job.outputs), options.engine,
                      model_name, repr(engine_options), repr(job.profile), job.track,
                      repr(job.speakers)])  # fmt: skip
        args = (job, options.engine, model_name, options.threads, engine_options)
        tasks.append((f"clipkit-transcribe-{key}", transcribe_task, args))
    results = cluster.run_all(tasks, TRANSCRIBE)
    return [_report(job, result, emit) for job, result in zip(jobs, results, strict=True)]


def transcribe_task(
    job: TranscribeJob, engine: str, model: str, threads: int | None, options: EngineOptions
) -> FileResult:
    """On a cluster worker: one recording with the worker's loaded engine."""
    from ..cluster import count_task, worker_engine

    count_task("transcribe")
    try:
        loaded = worker_engine(engine, model, threads, options)
        return _transcribe_locked(loaded, job, None, lambda: None)
    except ClipkitError as exc:
        return job.failed(str(exc))


def _run_pool(jobs: Sequence[TranscribeJob], run: BatchRun) -> list[FileResult]:
    """Jobs on worker processes, each with the engine loaded once (batch.run_pool); their
    progress comes back through a queue."""
    # spawn, not fork: engines start native thread pools that do not survive a fork
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    options, emit = run.options, run.emit

    def finish(job: TranscribeJob, result: FileResult | None, error: str) -> FileResult:
        return _report(job, result if result is not None else job.failed(error), emit)

    with ProcessPoolExecutor(
        max_workers=run.workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(options.engine, run.model, run.threads, options.engine_options(), events),
    ) as pool:
        for job in jobs:
            emit(job.item.start())
        return run_pool(pool, jobs, _work, finish, poll=lambda: _drain(events, emit),
                        item_crashes=(Exception,))  # fmt: skip


def _drain(events, emit: ProgressCallback) -> None:  # type: ignore[no-untyped-def]
    while True:
        try:
            emit(events.get_nowait())
        except queue.Empty:
            return
