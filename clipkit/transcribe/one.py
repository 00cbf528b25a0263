"""One recording: decode in windows, transcribe each, tighten timings, recover skipped speech,
label speakers, write every output (and the translation track)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..align import refine_transcript, snap_to_speech, speech_regions
from ..engines import Engine
from ..errors import InputError
from ..formats import write
from ..media import iter_audio
from ..recover import recover_skipped
from ..sourcekey import source_key
from ..speakers import SpeakerSource, with_speakers
from ..subtitles import Cue, Profile, shape_words
from ..transcript import Segment, Transcript
from .options import (
    steering,
)
from .windows import (
    SAMPLE_RATE,
    audio_windows,
    shift_transcript,
)


def write_outputs(
    transcript: Transcript, outputs: Sequence[Path], profile: Profile, speaker_labels: str = "none"
) -> list[Cue]:
    from ..profiles import profile_for_language

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
    from ..profiles import profile_for_language
    from ..translate import translate_cues, unit_clips

    blocks = iter_audio(path, SAMPLE_RATE, track, block_seconds=30.0)
    english = translate_cues(
        cues,
        lambda units: unit_clips(blocks, units, SAMPLE_RATE),
        lambda audio: engine.translate(audio, transcript.language),
        profile_for_language(profile, "en"),
        transcript.duration_ms or None,
    )
    for out in targets:
        write(out, english)
    return len(english)


def label_speakers(
    transcript: Transcript, path: Path, track: int, source: SpeakerSource,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Transcript, list[str]]:  # fmt: skip
    """Speakers from per-participant files, per-person channels or, with `auto` and neither,
    from the voices in the mix (speakers.py, diarize.py)."""
    from ..speakers import (
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
    from ..diarize import MAX_SPEAKERS, diarize

    blocks = iter_audio(path, track=track, block_seconds=60.0)
    turns = diarize(blocks, source.count, on_progress=on_progress,
                    bounds=(source.min_count or 1, source.max_count or MAX_SPEAKERS))  # fmt: skip
    return with_turns(transcript, turns), []


SPEAKER_PASS_SHARE = 0.3  # of the line: the speaker pass ran at 25x real time, Whisper 12-30x


def truncated(path: Path, decoded_ms: int, duration_ms: int) -> list[str]:
    """A warning when the audio ends well before the container says (truncated, damaged)."""
    if duration_ms - decoded_ms <= max(1000, duration_ms // 50):
        return []
    return [
        f"{path.name}: audio ends at {decoded_ms / 1000:.1f} s but the file says "
        f"{duration_ms / 1000:.1f} s: truncated or damaged?"
    ]


def _transcribe_windows(
    engine: Engine, path: Path, track: int, report: Callable[[int], None]
) -> tuple[list[Segment], str, int]:
    """Every window of the recording transcribed, word timings tightened to the speech and
    skipped speech decoded again: the segments, the language, the samples decoded."""
    chosen = engine.options
    segments: list[Segment] = []
    language = ""
    decoded = 0
    try:
        for offset, samples in audio_windows(path, track):
            offset_ms = offset * 1000 // SAMPLE_RATE
            length_ms = len(samples) * 1000 // SAMPLE_RATE

            def progress(ms: int, offset_ms: int = offset_ms) -> None:
                report(offset_ms + ms)

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
    return segments, language, decoded


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
    speakers = speakers or SpeakerSource()
    # with voices to tell apart, the last part of the line is the speaker pass (it reads the
    # audio again), so the line does not stand at 100 % while it runs
    split = int(duration_ms * (1 - SPEAKER_PASS_SHARE)) if speakers.mode == "auto" else duration_ms

    def report(ms: int, start: int = 0, end: int = split) -> None:  # [0, duration] -> [start, end]
        if on_progress:
            on_progress(start + min(ms, duration_ms) * (end - start) // max(duration_ms, 1))

    chosen = engine.options
    key = source_key(path)  # before decoding: a file changed meanwhile is made again next run
    segments, language, decoded = _transcribe_windows(engine, path, track, report)
    transcript = Transcript(
        tuple(segments), language or (chosen.language or ""), duration_ms, engine.name,
        engine.model_name, str(path),
        meta=steering(chosen, speakers.mode, speakers.count, target,
                      (speakers.min_count, speakers.max_count)),
        source_key=key,
    )  # fmt: skip
    warnings = truncated(path, decoded * 1000 // SAMPLE_RATE, duration_ms)
    if speakers.mode != "off":
        transcript, said = label_speakers(
            transcript, path, track, speakers, lambda ms: report(ms, split, duration_ms)
        )
        warnings += said
    cues = write_outputs(transcript, outputs, profile, speakers.labels)
    if target and transcript.language != target:
        write_translation(engine, path, track, transcript, cues, translated, profile)
    elif target:
        for stale in translated:  # the story is in the target language already
            stale.unlink(missing_ok=True)
    return transcript, warnings
