"""faster-whisper (CTranslate2): the default engine, the fastest on CPU."""

from __future__ import annotations

import functools
import os
from typing import Any

from ..errors import EngineError
from ..models import LocalModel, resolve_model
from ..timecode import seconds_to_ms
from ..transcript import Transcript
from .base import (
    EngineOptions,
    EngineSpec,
    ProgressCallback,
    drop_hallucinated,
    load_failed,
    to_transcript,
)


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self, model: LocalModel | str, threads: int, options: EngineOptions) -> None:
        import ctranslate2
        from faster_whisper import WhisperModel

        self.options = options
        # a GPU when CTranslate2 sees one (a cluster's transcription box), unless told otherwise
        device = os.environ.get("CLIPKIT_DEVICE") or (
            "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        )
        self.model_name = model.name if isinstance(model, LocalModel) else model
        source = model.path if isinstance(model, LocalModel) else model
        try:
            self.model = WhisperModel(
                source,
                device=device,
                compute_type=options.compute_type,
                cpu_threads=threads,
                local_files_only=isinstance(model, LocalModel),
            )
        except Exception as exc:  # the hub client raises many types when offline
            raise load_failed(model, source, exc) from exc

    def transcribe(
        self, audio: Any, source: str, duration_ms: int, on_progress: ProgressCallback | None = None
    ) -> Transcript:
        o = self.options
        try:
            raw_segments, info = self.model.transcribe(
                audio,
                language=o.language,
                beam_size=o.beam_size,
                word_timestamps=True,
                vad_filter=o.vad,
                vad_parameters={"min_silence_duration_ms": 500},
                condition_on_previous_text=False,
                no_speech_threshold=o.no_speech_threshold,
                log_prob_threshold=o.log_prob_threshold,
                compression_ratio_threshold=o.compression_ratio_threshold,
                hallucination_silence_threshold=o.hallucination_silence_threshold,
                hotwords=", ".join(o.vocabulary) or None,  # biases every window, not only the first
                initial_prompt=o.initial_prompt,
            )
            segments = []
            for seg in raw_segments:  # a generator: decoding happens as we iterate
                segments.append(seg)
                if on_progress:
                    on_progress(min(seconds_to_ms(seg.end), duration_ms))
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineError(f"{source}: faster-whisper failed: {exc}") from exc
        kept = drop_hallucinated(segments, o)
        return to_transcript(kept, info.language, duration_ms, self.name, self.model_name, source)

    def translate(self, audio: Any, language: str) -> str:
        o = self.options
        try:
            raw, _ = self.model.transcribe(
                audio,
                language=language,
                task="translate",
                beam_size=o.beam_size,
                without_timestamps=True,
                vad_filter=False,  # the clip is already one stretch of speech
                condition_on_previous_text=False,
            )
            return " ".join(seg.text.strip() for seg in raw).strip()
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineError(f"faster-whisper could not translate: {exc}") from exc


SPEC = EngineSpec(
    name="faster-whisper",
    module="faster_whisper",
    package="faster-whisper",
    install="pip install 'clipkit[faster-whisper]'",
    resolve_model=functools.partial(resolve_model, engine="faster-whisper"),
    # the cores are shared out between the workers: one recording alone gets them all (real
    # speech, tiny.en int8, 308 s on 2 cores: 5.5 s on two threads, 6.9 s on one), many
    # recordings a worker each on one thread (two files on two workers beat one on two threads)
    threads=lambda cores, workers: max(1, cores // workers),
    load=FasterWhisperEngine,
    summary="CTranslate2 int8; the fastest on CPU",
)
