"""The engine interface: a loaded model that turns one recording into a Transcript."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import ClipkitError, EngineError
from ..models import engine_download_failed
from ..transcript import Transcript

ProgressCallback = Callable[[int], None]  # milliseconds of the recording transcribed so far


@dataclass(frozen=True)
class EngineOptions:
    language: str | None = None  # None: detect
    vad: bool = True
    beam_size: int = 5
    compute_type: str = "int8"  # faster-whisper only
    # Whisper's own guards against invented text on silence and music
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    hallucination_silence_threshold: float = 2.0
    # the project's own words (names, jargon): faster-whisper's hotwords, openai-whisper's prompt
    vocabulary: tuple[str, ...] = ()
    initial_prompt: str | None = None

    def prompt(self) -> str | None:
        """The initial prompt: the user's, then the vocabulary as a glossary."""
        parts = [self.initial_prompt] if self.initial_prompt else []
        if self.vocabulary:
            parts.append("Glossary: " + ", ".join(self.vocabulary) + ".")
        return " ".join(parts) or None


class Engine(Protocol):
    name: str
    model_name: str

    def transcribe(
        self, audio: Any, source: str, duration_ms: int, on_progress: ProgressCallback | None = None
    ) -> Transcript:
        """Transcribe 16 kHz mono float32 samples decoded from `source`."""
        ...

    def translate(self, audio: Any, language: str) -> str:
        """English text for a short clip (up to 30 s) spoken in `language`: Whisper's translate
        task, which translates into English only."""
        ...


def drop_hallucinated(segments: list, options: EngineOptions) -> list:  # type: ignore[type-arg]
    """Whisper's rule, applied once more after decoding: a segment the model itself thinks is
    probably silence, and decoded with low confidence, is dropped; so is a segment repeating the
    one before it word for word (the classic loop on music or noise)."""
    kept = []
    for seg in segments:
        if (
            seg.no_speech_prob > options.no_speech_threshold
            and seg.avg_logprob < options.log_prob_threshold
        ):
            continue
        if kept and seg.text.strip() and seg.text.strip() == kept[-1].text.strip():
            continue
        kept.append(seg)
    return kept


def without_broken_bytes(text: str) -> str:
    """Text without U+FFFD: Whisper's byte-level tokens can end a word halfway through a
    character (most often in languages other than English), and the decoder then writes the
    replacement mark, which subtitles would show as a box."""
    return text.replace("\ufffd", "")


def joined_words(raw: list) -> tuple:  # type: ignore[type-arg]
    """Words as the engine's tokens join them: a token with no leading space continues the word
    before it ("42" + "-line" is "42-line", "demi" + "-sorry" is "demi-sorry")."""
    from ..subtitles import Word
    from ..timecode import seconds_to_ms

    words: list[Word] = []
    for w in raw:
        text = without_broken_bytes(w.word).strip()
        if not text:
            continue
        word = Word(
            start=seconds_to_ms(w.start),
            end=seconds_to_ms(w.end),
            text=text,
            probability=float(w.probability),
        )
        if words and not w.word[:1].isspace() and text[0] in "-'’":
            prev = words[-1]
            word = Word(prev.start, max(prev.end, word.end), prev.text + text,
                        min(prev.probability, word.probability))  # fmt: skip
            words[-1] = word
        else:
            words.append(word)
    return tuple(words)


def to_transcript(
    segments: list,
    language: str,
    duration_ms: int,
    engine: str,
    model: str,
    source: str,  # type: ignore[type-arg]
) -> Transcript:
    """A Transcript from engine segments with `.start/.end/.text/.words/.no_speech_prob/
    .avg_logprob` (seconds) whose words have `.start/.end/.word/.probability`."""
    from ..timecode import seconds_to_ms
    from ..transcript import Segment

    return Transcript(
        segments=tuple(
            Segment(
                start=seconds_to_ms(s.start),
                end=seconds_to_ms(s.end),
                text=without_broken_bytes(s.text).strip(),
                words=joined_words(s.words or []),
                no_speech_prob=float(s.no_speech_prob),
                avg_logprob=float(s.avg_logprob),
            )
            for s in segments
        ),
        language=language,
        duration_ms=duration_ms,
        engine=engine,
        model=model,
        source=source,
    )


@dataclass(frozen=True)
class EngineSpec:
    name: str
    module: str  # the import that must be available
    package: str  # its distribution (versions in `doctor`)
    install: str  # how to install it
    resolve_model: Callable[[str], Any]  # a name or path -> a LocalModel (or a name to download)
    threads: Callable[[int, int], int]  # (cores, workers) -> CPU threads per worker
    load: Callable[[Any, int, EngineOptions], Engine]  # (model, threads, options) -> engine
    # files transcribed at once by default: (cores, files) -> workers
    workers: Callable[[int, int], int] = lambda cores, files: max(1, min(cores, files))
    summary: str = ""


def load_failed(model: Any, where: str, exc: BaseException) -> ClipkitError:
    """A model that would not load: a bare name is a download that failed (said with the way to
    install it), a local model is named by where it lies."""
    if isinstance(model, str):
        return engine_download_failed(model, exc)
    return EngineError(f"could not load model {where}: {exc}")
