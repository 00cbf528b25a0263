"""What a transcription is asked for and what it made: the options, the output names, the
file result, and what steered the model (a change makes transcripts stale)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engines import DEFAULT_ENGINE, EngineOptions
from ..errors import EngineError, InputError
from ..formats import OUTPUT_NAMES, TRANSCRIPT_OUTPUTS
from ..settings import default as setting_default
from ..speakers import SpeakerSource
from ..subtitles import Profile
from ..translate import check_target


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
    min_speakers: int | None = None  # at least / at most this many, when only that is known
    max_speakers: int | None = None
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
        from ..profiles import load_profile

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
            min_speakers=int(v["min_speakers"]) if v.get("min_speakers") else None,
            max_speakers=int(v["max_speakers"]) if v.get("max_speakers") else None,
            speaker_audio=Path(v["speaker_audio"]) if v.get("speaker_audio") else None,
            speaker_labels=str(v.get("speaker_labels", defaults.speaker_labels)),
            initial_prompt=v.get("initial_prompt"),
            translate=check_target(v.get("translate")),
        )

    @property
    def speaker_source(self) -> SpeakerSource:
        folder = str(self.speaker_audio) if self.speaker_audio else None
        return SpeakerSource(self.speakers, folder, self.speaker_labels, self.num_speakers,
                             self.min_speakers, self.max_speakers)  # fmt: skip

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


def steering(
    options: EngineOptions,
    speakers: str = "off",
    count: int | None = None,
    translate: str | None = None,
    bounds: tuple[int | None, int | None] = (None, None),
) -> dict[str, Any]:
    """What shaped the transcript besides the model (vocabulary, prompt, speaker source),
    recorded in its meta: a change makes the transcript stale."""
    out: dict[str, Any] = {"speakers": speakers} if speakers != "off" else {}
    if count and speakers == "auto":
        out["num_speakers"] = count
    for key, bound in zip(("min_speakers", "max_speakers"), bounds, strict=True):
        if bound and speakers == "auto":
            out[key] = bound
    if options.vocabulary:
        out["vocabulary"] = list(options.vocabulary)
    if options.initial_prompt:
        out["initial_prompt"] = options.initial_prompt
    if translate:
        out["translate"] = translate
    return out
