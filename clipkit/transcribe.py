"""The transcribe pipeline: validate inputs, resolve the model once, transcribe files on parallel
workers (one model per worker), and write SRT/VTT/TXT/JSON atomically beside each other."""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from .align import refine_transcript
from .engines import DEFAULT_ENGINE, Engine, EngineOptions, check_engine, load_engine
from .errors import ClipkitError, InputError, MediaError, OutputError
from .ffmpeg import MediaInfo, decode_audio, probe
from .fsutil import is_up_to_date
from .models import LocalModel, resolve_model
from .progress import Event, EventCallback
from .subsfile import write
from .subtitles import Profile, shape_words
from .transcript import Transcript

FORMATS = ("srt", "vtt", "txt", "json")


@dataclass(frozen=True)
class TranscribeOptions:
    engine: str = DEFAULT_ENGINE
    model: str = "tiny.en"
    language: str | None = None
    formats: tuple[str, ...] = FORMATS
    vad: bool = True
    beam_size: int = 5
    compute_type: str = "int8"
    profile: Profile = field(default_factory=Profile)
    force: bool = False
    jobs: int | None = None  # None: one worker per core, up to the number of files
    threads: int | None = None  # CPU threads per worker; None: cores / workers

    def engine_options(self) -> EngineOptions:
        return EngineOptions(
            language=self.language,
            vad=self.vad,
            beam_size=self.beam_size,
            compute_type=self.compute_type,
        )


@dataclass(frozen=True)
class FileResult:
    path: str
    status: str  # "done", "skipped", "failed"
    outputs: tuple[str, ...] = ()
    duration_ms: int = 0
    error: str = ""
    language: str = ""
    words: int = 0


def parse_formats(spec: str) -> tuple[str, ...]:
    wanted = tuple(
        dict.fromkeys(f.strip().lower().lstrip(".") for f in spec.split(",") if f.strip())
    )
    unknown = [f for f in wanted if f not in FORMATS]
    if not wanted:
        raise InputError(f"no output format given (choose from {', '.join(FORMATS)})")
    if unknown:
        names = ", ".join(repr(f) for f in unknown)
        raise InputError(f"unknown format {names} (choose from {', '.join(FORMATS)})")
    return wanted


def output_paths(recording: Path, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    return [out_dir / f"{recording.stem}.{fmt}" for fmt in formats]


def _check_output_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir}: output path is not a directory")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to output directory {out_dir}")


def default_threads(engine: str, cores: int, workers: int) -> int:
    """CPU threads per worker. faster-whisper (int8) ran faster on one thread than on two here
    (tiny.en, 292 s: 9.95 s vs 12.59 s), so every worker gets one and parallelism comes from
    workers; PyTorch (openai-whisper) does use more threads, so it shares the cores out."""
    return 1 if engine == "faster-whisper" else max(1, cores // workers)


def validate_recordings(paths: Sequence[Path]) -> list[MediaInfo]:
    infos = []
    for p in paths:
        info = probe(p)
        if not info.has_audio:
            raise MediaError(f"{p}: has no audio stream to transcribe")
        infos.append(info)
    return infos


def _settings_match(json_path: Path, options: TranscribeOptions, model_name: str) -> bool:
    """A previous JSON made with another engine or model is stale even when newer."""
    if not json_path.is_file():
        return True
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("engine") == options.engine and data.get("model") == model_name


def write_outputs(transcript: Transcript, outputs: Sequence[Path], profile: Profile) -> None:
    cues = shape_words(transcript.words, profile)
    for out in outputs:
        write(out, cues, transcript)


def transcribe_one(
    engine: Engine,
    path: Path,
    duration_ms: int,
    outputs: Sequence[Path],
    profile: Profile,
    on_progress: Callable[[int], None] | None = None,
) -> Transcript:
    """Decode once, transcribe, tighten word timings to the speech, write every output."""
    audio = decode_audio(path)
    transcript = engine.transcribe(audio, str(path), duration_ms, on_progress)
    transcript = refine_transcript(transcript, audio)
    write_outputs(transcript, outputs, profile)
    return transcript


# --- workers -------------------------------------------------------------------------------

_worker_engine = None
_worker_events: queue.Queue | None = None  # type: ignore[type-arg]


def _init_worker(
    engine: str, model: LocalModel | str, threads: int, options: EngineOptions, events
) -> None:  # type: ignore[no-untyped-def]
    global _worker_engine, _worker_events
    _worker_engine = load_engine(engine, model, threads, options)  # type: ignore[arg-type]
    _worker_events = events


def _work(
    path: str, duration_ms: int, outputs: list[str], profile: Profile, index: int, total: int
) -> FileResult:
    assert _worker_engine is not None and _worker_events is not None
    events = _worker_events

    def progress(ms: int) -> None:
        events.put(Event("progress", path, index, total, done_ms=ms, duration_ms=duration_ms))

    transcript = transcribe_one(
        _worker_engine, Path(path), duration_ms, [Path(o) for o in outputs], profile, progress
    )
    return FileResult(
        path,
        "done",
        tuple(outputs),
        duration_ms,
        language=transcript.language,
        words=len(transcript.words),
    )


def transcribe_files(
    recordings: Sequence[str | Path],
    out_dir: str | Path | None,
    options: TranscribeOptions,
    on_event: EventCallback | None = None,
    on_status: Callable[[str], None] | None = None,
) -> list[FileResult]:
    """Transcribe recordings; every input is checked before any model is loaded."""
    emit = on_event or (lambda e: None)
    check_engine(options.engine)
    paths = [Path(r) for r in recordings]
    if not paths:
        raise InputError("no recordings given")
    infos = validate_recordings(paths)
    targets: list[list[Path]] = []
    for p in paths:
        directory = Path(out_dir) if out_dir is not None else p.parent
        _check_output_dir(directory)
        targets.append(output_paths(p, directory, options.formats))
    seen: dict[Path, Path] = {}
    for p, outs in zip(paths, targets, strict=True):
        if outs[0] in seen and seen[outs[0]] != p:
            raise InputError(
                f"{p} and {seen[outs[0]]} would write the same outputs; use separate -o folders"
            )
        seen[outs[0]] = p

    model = resolve_model(options.model, options.engine)
    model_name = model.name if isinstance(model, LocalModel) else model
    if on_status:
        where = f" ({model.path})" if isinstance(model, LocalModel) else ""
        on_status(f"engine {options.engine}, model {model_name}{where}")

    total = len(paths)
    results: dict[int, FileResult] = {}
    pending: list[int] = []
    for i, (p, outs) in enumerate(zip(paths, targets, strict=True)):
        json_out = next((o for o in outs if o.suffix == ".json"), None)
        fresh = is_up_to_date(outs, [p]) and (
            json_out is None or _settings_match(json_out, options, model_name)
        )
        if fresh and not options.force:
            results[i] = FileResult(str(p), "skipped", tuple(map(str, outs)), infos[i].duration_ms)
            emit(Event("skipped", str(p), i + 1, total, outputs=tuple(map(str, outs))))
        else:
            pending.append(i)

    if pending:
        emit(Event("batch", "", 0, total, duration_ms=sum(infos[i].duration_ms for i in pending)))
        cores = os.cpu_count() or 1
        workers = max(1, min(options.jobs or cores, len(pending)))
        threads = options.threads or default_threads(options.engine, cores, workers)
        if workers == 1:
            _run_here(paths, infos, targets, pending, threads, model, options, emit, results)
            return [results[i] for i in range(total)]
        _run_pool(paths, infos, targets, pending, workers, threads, model, options, emit, results)
    return [results[i] for i in range(total)]


def _run_here(  # type: ignore[no-untyped-def]
    paths, infos, targets, pending, threads, model, options: TranscribeOptions, emit, results
) -> None:
    """One worker: no process start-up cost, the model loaded in this process."""
    total = len(paths)
    engine = load_engine(options.engine, model, threads, options.engine_options())
    for i in pending:
        path, duration = str(paths[i]), infos[i].duration_ms
        emit(Event("start", path, i + 1, total, duration_ms=duration))

        def progress(ms: int, path: str = path, i: int = i, duration: int = duration) -> None:
            emit(Event("progress", path, i + 1, total, done_ms=ms, duration_ms=duration))

        try:
            transcript = transcribe_one(
                engine, paths[i], duration, targets[i], options.profile, progress
            )
        except ClipkitError as exc:
            results[i] = FileResult(path, "failed", (), duration, error=str(exc))
            emit(Event("failed", path, i + 1, total, duration_ms=duration, message=str(exc)))
            continue
        outs = tuple(map(str, targets[i]))
        results[i] = FileResult(
            path, "done", outs, duration, language=transcript.language, words=len(transcript.words)
        )
        emit(
            Event("done", path, i + 1, total, done_ms=duration, duration_ms=duration, outputs=outs)
        )


def _run_pool(  # type: ignore[no-untyped-def]
    paths,
    infos,
    targets,
    pending,
    workers,
    threads,
    model,
    options: TranscribeOptions,
    emit,
    results,
) -> None:
    total = len(paths)
    # spawn, not fork: engines start native thread pools that do not survive a fork
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(options.engine, model, threads, options.engine_options(), events),
    ) as pool:
        futures: dict[Future[FileResult], int] = {}
        for i in pending:
            emit(Event("start", str(paths[i]), i + 1, total, duration_ms=infos[i].duration_ms))
            fut = pool.submit(
                _work, str(paths[i]), infos[i].duration_ms, [str(t) for t in targets[i]],
                options.profile, i + 1, total,
            )  # fmt: skip
            futures[fut] = i
        remaining = set(futures)
        try:
            while remaining:
                done, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(events, emit)
                for fut in done:
                    i = futures[fut]
                    try:
                        result = fut.result()
                    except ClipkitError as exc:
                        result = FileResult(
                            str(paths[i]), "failed", (), infos[i].duration_ms, error=str(exc)
                        )
                    except (
                        Exception
                    ) as exc:  # a worker crash is reported per file, not as a traceback
                        result = FileResult(
                            str(paths[i]),
                            "failed",
                            (),
                            infos[i].duration_ms,
                            error=f"{type(exc).__name__}: {exc}",
                        )
                    results[i] = result
                    kind = "done" if result.status == "done" else "failed"
                    emit(Event(kind, str(paths[i]), i + 1, total, done_ms=infos[i].duration_ms,
                               duration_ms=infos[i].duration_ms, message=result.error, outputs=result.outputs))  # fmt: skip
        except BaseException:
            for fut in remaining:
                fut.cancel()
            raise
        _drain(events, emit)


def _drain(events, emit: EventCallback) -> None:  # type: ignore[no-untyped-def]
    while True:
        try:
            emit(events.get_nowait())
        except queue.Empty:
            return
