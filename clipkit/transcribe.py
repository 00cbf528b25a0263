"""The transcribe pipeline: validate inputs, resolve the model once, transcribe files on parallel
workers (one model per worker), and write SRT/VTT/TXT/JSON atomically beside each other."""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .align import refine_transcript, snap_to_speech, speech_regions
from .engines import DEFAULT_ENGINE, Engine, EngineOptions, check_engine, load_engine
from .errors import ClipkitError, EngineError, InputError, MediaError, OutputError
from .ffmpeg import SILENT_TRACK_DB, AudioTrack, MediaInfo, iter_audio, probe, speech_track
from .formats import OUTPUT_NAMES, TRANSCRIPT_OUTPUTS, write
from .fsutil import is_up_to_date, item_lock, remove_stale_parts
from .models import LocalModel
from .progress import Event, EventCallback
from .recover import recover_skipped
from .settings import default as setting_default
from .speakers import SpeakerSource, with_speakers
from .subtitles import Cue, Profile, shape_words
from .transcript import Segment, Transcript
from .translate import check_target

if TYPE_CHECKING:
    from .cluster import Cluster


@dataclass(frozen=True)
class TranscribeOptions:
    engine: str = DEFAULT_ENGINE
    model: str = setting_default("transcribe", "model")
    language: str | None = None
    formats: tuple[str, ...] = TRANSCRIPT_OUTPUTS
    vad: bool = setting_default("transcribe", "vad")
    beam_size: int = 5
    compute_type: str = "int8"
    profile: Profile = field(default_factory=Profile)
    force: bool = False
    jobs: int | None = None  # None: one worker per core, up to the number of files
    threads: int | None = None  # CPU threads per worker; None: cores / workers
    audio_track: int | None = None  # 0-based; None: the track with speech
    vocabulary: tuple[str, ...] = ()  # the project's names and jargon
    speakers: str = setting_default(
        "transcribe", "speakers"
    )  # off, auto, files (one audio file per participant), channels
    num_speakers: int | None = None  # how many people speak, when known (auto diarization)
    speaker_audio: Path | None = None  # the folder of participant files (default: beside)
    speaker_labels: str = setting_default(
        "transcribe", "speaker_labels"
    )  # in SRT: none, prefix (NAME:) or dash
    initial_prompt: str | None = None
    translate: str | None = None  # "en": an English track too (Whisper's translate task)

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> TranscribeOptions:
        """Options as clipkit.toml's [transcribe] and the command line spell them. `transcribe`
        and `status` both build theirs here, so they agree on what is up to date."""
        from .profiles import load_profile

        v = {k: val for k, val in values.items() if val is not None and val != ""}
        language = str(v.get("language", "auto")).lower()
        track = v.get("audio_track")
        defaults = cls()
        return cls(
            engine=str(v.get("engine", defaults.engine)),
            model=str(v.get("model", defaults.model)),
            language=None if language == "auto" else language,
            formats=parse_formats(v["formats"]) if "formats" in v else defaults.formats,
            vad=bool(v.get("vad", defaults.vad)),
            beam_size=int(v.get("beam_size", defaults.beam_size)),
            profile=load_profile(v.get("profile")),
            force=bool(v.get("force", False)),
            jobs=v.get("jobs"),
            threads=v.get("threads"),
            audio_track=int(track) - 1 if track else None,
            vocabulary=vocabulary_of(v.get("vocabulary", ())),
            speakers=str(v.get("speakers", defaults.speakers)),
            num_speakers=int(v["num_speakers"]) if v.get("num_speakers") else None,
            speaker_audio=Path(v["speaker_audio"]) if v.get("speaker_audio") else None,
            speaker_labels=str(v.get("speaker_labels", defaults.speaker_labels)),
            initial_prompt=v.get("initial_prompt"),
            translate=check_target(v.get("translate")),
        )

    def engine_options(self) -> EngineOptions:
        return EngineOptions(
            language=self.language,
            vad=self.vad,
            beam_size=self.beam_size,
            compute_type=self.compute_type,
            vocabulary=self.vocabulary,
            initial_prompt=self.initial_prompt,
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
    warnings: tuple[str, ...] = ()


def vocabulary_of(value: Any) -> tuple[str, ...]:
    """Terms from a list (clipkit.toml) or comma-separated texts (`--vocabulary`, repeatable)."""
    items = [value] if isinstance(value, str) else list(value)
    terms = (t.strip() for item in items for t in str(item).split(","))
    return tuple(dict.fromkeys(t for t in terms if t))


def check_language(model_name: str, language: str | None) -> None:
    """An English-only model cannot transcribe another language: it would write English."""
    if model_name.endswith(".en") and language not in (None, "en"):
        raise EngineError(
            f"model {model_name} knows only English; for --language {language} use a "
            f"multilingual model, e.g. --model {model_name.removesuffix('.en')} (or small, medium)"
        )


def parse_formats(spec: str) -> tuple[str, ...]:
    wanted = tuple(
        dict.fromkeys(f.strip().lower().lstrip(".") for f in spec.split(",") if f.strip())
    )
    unknown = [f for f in wanted if f not in OUTPUT_NAMES]
    if not wanted:
        raise InputError(f"no output format given (choose from {', '.join(OUTPUT_NAMES)})")
    if unknown:
        names = ", ".join(repr(f) for f in unknown)
        raise InputError(f"unknown format {names} (choose from {', '.join(OUTPUT_NAMES)})")
    return wanted


def output_paths(recording: Path, out_dir: Path, formats: Sequence[str]) -> list[Path]:
    return [out_dir / f"{recording.stem}.{fmt}" for fmt in formats]


TRANSLATED_FORMATS = ("srt", "vtt")


def translation_paths(
    recording: Path, out_dir: Path, formats: Sequence[str], target: str | None
) -> list[Path]:
    """`NAME.en.srt` and `NAME.en.vtt` beside the original's outputs (the subtitle formats
    asked for, SRT at least)."""
    if not target:
        return []
    wanted = [f for f in TRANSLATED_FORMATS if f in formats] or ["srt"]
    return [out_dir / f"{recording.stem}.{target}.{fmt}" for fmt in wanted]


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


def _settings_match(json_path: Path, options: TranscribeOptions, model_name: str) -> bool:
    """A previous JSON made with another engine, model or vocabulary is stale even when newer."""
    if not json_path.is_file():
        return True
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        data.get("engine") == options.engine
        and data.get("model") == model_name
        and (data.get("meta") or {})
        == steering(
            options.engine_options(), options.speakers, options.num_speakers, options.translate
        )
    )


def steering(
    options: EngineOptions,
    speakers: str = "off",
    count: int | None = None,
    translate: str | None = None,
) -> dict[str, Any]:
    """What shaped the transcript besides the model (vocabulary, prompt, speaker source),
    recorded in its meta: a change makes the transcript stale."""
    out: dict[str, Any] = {"speakers": speakers} if speakers != "off" else {}
    if count and speakers == "auto":
        out["num_speakers"] = count
    if options.vocabulary:
        out["vocabulary"] = list(options.vocabulary)
    if options.initial_prompt:
        out["initial_prompt"] = options.initial_prompt
    if translate:
        out["translate"] = translate
    return out


def write_outputs(
    transcript: Transcript, outputs: Sequence[Path], profile: Profile, speaker_labels: str = "none"
) -> list[Cue]:
    from .profiles import profile_for_language

    profile = profile_for_language(profile, transcript.language)
    cues = shape_words(
        transcript.words, profile, speaker_labels, media_end=transcript.duration_ms or None
    )
    for out in outputs:
        write(out, cues, transcript)
    return cues


def write_translation(
    engine: Engine,
    path: Path,
    track: int,
    transcript: Transcript,
    cues: Sequence[Cue],
    targets: Sequence[Path],
    profile: Profile,
) -> int:
    """The English track on the original's cues (translate.py), each unit of cues translated
    from its own audio; returns how many cues it has."""
    from .profiles import profile_for_language
    from .translate import translate_cues, unit_clips

    blocks = iter_audio(path, SAMPLE_RATE, track, block_seconds=30.0)
    english = translate_cues(
        cues,
        lambda units: unit_clips(blocks, units, SAMPLE_RATE),
        lambda audio: engine.translate(audio, transcript.language),
        profile_for_language(profile, "en"),
    )
    for out in targets:
        write(out, english)
    return len(english)


# Long recordings are transcribed in windows of about two minutes, each ending at the quietest
# moment near its boundary, so memory does not grow with length (faster-whisper builds features
# for all the audio it is given: 2.15 GB for 30 minutes in one piece). Whisper already decodes
# in 30 s windows without conditioning on earlier text (clipkit's setting), so a seam in a pause
# changes nothing but where one of those windows starts.
WINDOW_S = 120
SEAM_SEARCH_S = 20
SAMPLE_RATE = 16000


def quietest_point(audio: Any, lo: int, hi: int, sample_rate: int = SAMPLE_RATE) -> int:
    """The sample in [lo, hi) at the centre of the quietest 300 ms (a pause between words)."""
    import numpy as np

    hop = sample_rate // 100
    span = audio[lo:hi]
    count = len(span) // hop
    if count < 3:
        return hi
    frames = span[: count * hop].reshape(count, hop)
    energy = np.einsum("ij,ij->i", frames, frames)
    smoothed = np.convolve(energy, np.ones(30), mode="same")
    return lo + int(np.argmin(smoothed)) * hop + hop // 2


def audio_windows(path: Path, track: int) -> Iterator[tuple[int, Any]]:
    """(offset in samples, samples) windows of a recording, cut in pauses."""
    import numpy as np

    # CLIPKIT_WINDOW_SECONDS: for the benchmark's whole-file comparison, and for machines with
    # memory to spare
    seconds = int(os.environ.get("CLIPKIT_WINDOW_SECONDS") or WINDOW_S)
    window, search = seconds * SAMPLE_RATE, min(SEAM_SEARCH_S, seconds // 4) * SAMPLE_RATE
    pending = np.zeros(0, dtype=np.float32)
    offset = 0
    for block in iter_audio(path, SAMPLE_RATE, track, block_seconds=30.0):
        pending = np.concatenate([pending, block])
        # keep one search span in hand so the last window is never a sliver
        while len(pending) >= window + search:
            cut = quietest_point(pending, window - search, window)
            yield offset, pending[:cut]
            offset += cut
            pending = pending[cut:].copy()
    if len(pending):
        yield offset, pending


def shift_transcript(t: Transcript, offset_ms: int) -> tuple[Segment, ...]:
    return tuple(
        replace(
            seg,
            start=seg.start + offset_ms,
            end=seg.end + offset_ms,
            words=tuple(
                replace(w, start=w.start + offset_ms, end=w.end + offset_ms) for w in seg.words
            ),
        )
        for seg in t.segments
    )


def label_speakers(
    transcript: Transcript, path: Path, track: int, source: SpeakerSource
) -> tuple[Transcript, list[str]]:
    """Speakers from per-participant files, per-person channels or, with `auto` and neither,
    from the voices in the mix (speakers.py, diarize.py)."""
    from .speakers import (
        channels_differ,
        participant_files,
        voices_from_channels,
        voices_from_files,
        with_turns,
    )

    folder = Path(source.folder) if source.folder else None
    if source.mode in ("files", "auto"):
        try:
            files = participant_files(path, folder)
        except InputError:  # none beside the recording
            if source.mode == "files":
                raise
            files = []
        if files:
            return with_speakers(transcript, voices_from_files(files)), []
    if source.mode in ("channels", "auto"):
        try:
            voices = voices_from_channels(path, track)
        except InputError:  # one channel
            if source.mode == "channels":
                raise
            voices = None
        if voices is not None and channels_differ(voices):
            return with_speakers(transcript, voices), []
        if source.mode == "channels":
            return transcript, [
                f"{path.name}: its channels carry the same sound (no microphone per person); "
                "speakers not told apart (--speakers auto tells voices apart)"
            ]
    from .diarize import diarize

    turns = diarize(iter_audio(path, track=track, block_seconds=60.0), source.count)
    return with_turns(transcript, turns), []


def check_speakers(
    paths: Sequence[Path], infos: Sequence[MediaInfo], options: TranscribeOptions
) -> None:
    """Speaker sources are checked before any model loads: a clear error, not a late one."""
    from .speakers import MODES, participant_files

    if options.speakers not in MODES:
        raise InputError(f"unknown --speakers {options.speakers!r} (choose {', '.join(MODES)})")
    if options.num_speakers is not None and options.speakers != "auto":
        raise InputError("--num-speakers is for --speakers auto (files and channels know)")
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
        from .diarize import campp_weights

        campp_weights()  # the diarization extra, before minutes of transcription


def transcribe_one(
    engine: Engine,
    path: Path,
    duration_ms: int,
    outputs: Sequence[Path],
    profile: Profile,
    on_progress: Callable[[int], None] | None = None,
    track: int = 0,
    speakers: SpeakerSource | None = None,
    translated: Sequence[Path] = (),
    target: str | None = None,
) -> tuple[Transcript, list[str]]:
    """Decode in windows, transcribe each, tighten word timings to the speech, write every
    output. Returns the transcript and warnings (a truncated file)."""
    segments: list[Segment] = []
    language = ""
    decoded = 0
    chosen = engine.options
    try:
        for offset, samples in audio_windows(path, track):
            offset_ms = offset * 1000 // SAMPLE_RATE
            length_ms = len(samples) * 1000 // SAMPLE_RATE

            def progress(ms: int, offset_ms: int = offset_ms) -> None:
                if on_progress:
                    on_progress(min(offset_ms + ms, duration_ms))

            part = engine.transcribe(samples, str(path), length_ms, progress)
            if not language:  # the first window's language holds for the rest
                language = part.language
                engine.options = replace(engine.options, language=language)
            regions = speech_regions(samples)
            part = snap_to_speech(refine_transcript(part, samples), samples, regions=regions)
            if regions:  # speech the model jumped over, decoded again
                part = recover_skipped(engine, part, samples, regions, str(path))
            segments.extend(shift_transcript(part, offset_ms))
            decoded = offset + len(samples)
    finally:
        engine.options = chosen
    transcript = Transcript(
        tuple(segments), language or (chosen.language or ""), duration_ms, engine.name,
        engine.model_name, str(path),
        meta=steering(chosen, speakers.mode, speakers.count, target),
    )  # fmt: skip
    warnings = []
    decoded_ms = decoded * 1000 // SAMPLE_RATE
    if duration_ms - decoded_ms > max(1000, duration_ms // 50):
        warnings.append(
            f"{path.name}: audio ends at {decoded_ms / 1000:.1f} s but the file says "
            f"{duration_ms / 1000:.1f} s: truncated or damaged?"
        )
    speakers = speakers or SpeakerSource()
    if speakers.mode != "off":
        transcript, said = label_speakers(transcript, path, track, speakers)
        warnings += said
    cues = write_outputs(transcript, outputs, profile, speakers.labels)
    if target and transcript.language != target:
        write_translation(engine, path, track, transcript, cues, translated, profile)
    elif target:
        for stale in translated:  # the story is in the target language already
            stale.unlink(missing_ok=True)
    return transcript, warnings


# --- workers -------------------------------------------------------------------------------


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

    def event(self, kind: str, **fields: Any) -> Event:
        return Event(kind, self.path, self.index, self.total, **fields)

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
        events.put(job.event("progress", done_ms=ms, duration_ms=job.duration_ms))

    return _transcribe_locked(_worker_engine, job, progress, lambda: events.put(_waiting(job)))


def _waiting(job: TranscribeJob) -> Event:
    message = f"{Path(job.path).name}: waiting for another clipkit run transcribing it"
    return job.event("warning", message=message)


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
        if self.options.force:
            return False
        json_out = next((o for o in self.outputs if o.suffix == ".json"), None)
        fresh = is_up_to_date(list(self.outputs), [self.recording]) and (
            json_out is None or _settings_match(json_out, self.options, self.model_name)
        )
        if fresh and self.translated and _language_of(self.outputs) != self.options.translate:
            return is_up_to_date(list(self.translated), [self.recording])
        return fresh


def _language_of(outputs: Sequence[Path]) -> str | None:
    """The language a made transcript JSON records (None without one)."""
    json_out = next((o for o in outputs if o.suffix == ".json"), None)
    try:
        return (
            json.loads(json_out.read_text(encoding="utf-8")).get("language") if json_out else None
        )
    except (OSError, ValueError):
        return None


def transcribe_files(
    recordings: Sequence[str | Path],
    out_dir: str | Path | None,
    options: TranscribeOptions,
    on_event: EventCallback | None = None,
    on_status: Callable[[str], None] | None = None,
    cluster: Cluster | None = None,
) -> list[FileResult]:
    """Transcribe recordings; every input is checked before any model is loaded. With a
    `cluster`, each recording is a task on a worker offering the `transcribe` resource."""
    emit = on_event or (lambda e: None)
    spec = check_engine(options.engine)
    paths = [Path(r) for r in recordings]
    if not paths:
        raise InputError("no recordings given")
    infos, tracks = validate_recordings(paths, options.audio_track)
    check_speakers(paths, infos, options)
    for i, (p, track) in enumerate(zip(paths, tracks, strict=True)):
        if track.reason:
            emit(Event("warning", str(p), i + 1, len(paths), message=f"{p.name}: {track.reason}"))
        if track.level_db < SILENT_TRACK_DB:
            message = (
                f"{p.name}: audio track {track.index + 1} is silent; the transcript will be empty"
            )
            emit(Event("warning", str(p), i + 1, len(paths), message=message))
    targets: list[list[Path]] = []
    for p in paths:
        directory = Path(out_dir) if out_dir is not None else p.parent
        _check_output_dir(directory)
        remove_stale_parts(directory)  # partial outputs and lock files of a killed run
        targets.append(output_paths(p, directory, options.formats))
    seen: dict[Path, Path] = {}
    for p, outs in zip(paths, targets, strict=True):
        if outs[0] in seen and seen[outs[0]] != p:
            raise InputError(
                f"{p} and {seen[outs[0]]} would write the same outputs; use separate -o folders"
            )
        seen[outs[0]] = p

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
            emit(Event("skipped", str(p), i + 1, total, outputs=tuple(map(str, outs))))
        else:
            pending.append(i)

    if pending:
        emit(Event("batch", "", 0, total, duration_ms=sum(infos[i].duration_ms for i in pending)))
        cores = os.cpu_count() or 1
        at_once = parallel_files([infos[i].duration_ms for i in pending])
        workers = min(options.jobs, len(pending)) if options.jobs else spec.workers(cores, at_once)
        threads = options.threads or spec.threads(cores, workers)
        speaker_spec = SpeakerSource(
            options.speakers,
            str(options.speaker_audio) if options.speaker_audio else None,
            options.speaker_labels,
            options.num_speakers,
        )
        jobs = [
            TranscribeJob(
                str(paths[i]), infos[i].duration_ms, tuple(map(str, targets[i])), options.profile,
                i + 1, total, tracks[i].index, fresh[i], speaker_spec,
                tuple(map(str, translated[i])), options.translate if translated[i] else None,
            )
            for i in pending
        ]  # fmt: skip
        run = _run_here if workers == 1 else _run_pool
        if cluster is not None:
            run = partial(_run_cluster, cluster)
        for i, result in zip(
            pending, run(jobs, workers, threads, model, options, emit), strict=True
        ):
            results[i] = result
    return [results[i] for i in range(total)]


def _report(job: TranscribeJob, result: FileResult, emit: EventCallback) -> FileResult:
    for warning in result.warnings:
        emit(job.event("warning", message=warning))
    emit(job.event(result.status, done_ms=job.duration_ms, duration_ms=job.duration_ms,
                   message=result.error, outputs=result.outputs))  # fmt: skip
    return result


def _run_here(
    jobs: Sequence[TranscribeJob],
    workers: int,
    threads: int,
    model: LocalModel | str,
    options: TranscribeOptions,
    emit: EventCallback,
) -> Iterator[FileResult]:
    """One worker: no process start-up cost, the model loaded in this process."""
    engine = load_engine(options.engine, model, threads, options.engine_options())
    for job in jobs:
        emit(job.event("start", duration_ms=job.duration_ms))

        def progress(ms: int, job: TranscribeJob = job) -> None:
            emit(job.event("progress", done_ms=ms, duration_ms=job.duration_ms))

        try:
            result = _transcribe_locked(engine, job, progress, lambda job=job: emit(_waiting(job)))
        except ClipkitError as exc:
            result = job.failed(str(exc))
        yield _report(job, result, emit)


def _run_cluster(
    cluster: Cluster,
    jobs: Sequence[TranscribeJob],
    workers: int,
    threads: int,
    model: LocalModel | str,
    options: TranscribeOptions,
    emit: EventCallback,
) -> list[FileResult]:
    """Each recording a task on the cluster, keyed by its content and settings; the model is
    loaded once per worker (cluster.py)."""
    from .cluster import TRANSCRIBE, digest
    from .sourcekey import source_key

    cluster.check_resource(TRANSCRIBE)
    cluster.check_paths([job.path for job in jobs], TRANSCRIBE)
    model_name = model.name if isinstance(model, LocalModel) else str(model)
    engine_options = options.engine_options()
    cluster.register_models(options.engine, model_name, options.threads, engine_options)
    tasks = []
    for job in jobs:
        emit(job.event("start", duration_ms=job.duration_ms))
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
    from .cluster import count_task, worker_engine

    count_task("transcribe")
    try:
        loaded = worker_engine(engine, model, threads, options)
        return _transcribe_locked(loaded, job, None, lambda: None)
    except ClipkitError as exc:
        return job.failed(str(exc))


def _run_pool(
    jobs: Sequence[TranscribeJob],
    workers: int,
    threads: int,
    model: LocalModel | str,
    options: TranscribeOptions,
    emit: EventCallback,
) -> list[FileResult]:
    # spawn, not fork: engines start native thread pools that do not survive a fork
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    results: dict[int, FileResult] = {}
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(options.engine, model, threads, options.engine_options(), events),
    ) as pool:
        futures: dict[Future[FileResult], int] = {}
        for k, job in enumerate(jobs):
            emit(job.event("start", duration_ms=job.duration_ms))
            futures[pool.submit(_work, job)] = k
        remaining = set(futures)
        try:
            while remaining:
                done, remaining = wait(remaining, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(events, emit)
                for fut in done:
                    k = futures[fut]
                    try:
                        result = fut.result()
                    except ClipkitError as exc:
                        result = jobs[k].failed(str(exc))
                    except Exception as exc:  # a worker crash is reported per file
                        result = jobs[k].failed(f"{type(exc).__name__}: {exc}")
                    results[k] = _report(jobs[k], result, emit)
        except BaseException:
            for fut in remaining:
                fut.cancel()
            raise
        _drain(events, emit)
    return [results[k] for k in range(len(jobs))]


def _drain(events, emit: EventCallback) -> None:  # type: ignore[no-untyped-def]
    while True:
        try:
            emit(events.get_nowait())
        except queue.Empty:
            return
