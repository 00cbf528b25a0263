"""openai-whisper (PyTorch): the reference implementation, slower on CPU."""

from __future__ import annotations

import contextlib
import functools
import io
import sys
from types import SimpleNamespace
from typing import Any

from ..errors import EngineError
from ..models import LocalModel, resolve_model
from ..transcript import Transcript
from .base import (
    EngineOptions,
    EngineSpec,
    ProgressCallback,
    drop_hallucinated,
    load_failed,
    to_transcript,
)
from .convert import convert_ct2_to_openai


def load_checkpoint(path: str, name: str) -> Any:
    """Load an openai-whisper checkpoint, with alignment heads for good word timings.

    `whisper.load_model(path)` leaves alignment heads unset for custom checkpoints; converted
    ones carry theirs, and official ones get openai-whisper's table by model name.
    """
    import torch
    import whisper
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads")
    if heads:
        dims = model.dims
        mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    elif name in whisper._ALIGNMENT_HEADS:
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[name])
    return model.eval()


class _Progress:
    """Stands in for the tqdm bar inside whisper.transcribe; its units are mel frames (10 ms)."""

    callback: ProgressCallback | None = None

    def __init__(self, total: int = 0, **_: Any) -> None:
        self.done = 0

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, frames: int) -> None:
        self.done += frames
        if _Progress.callback:
            _Progress.callback(self.done * 10)


def _decoding(o: EngineOptions) -> dict[str, Any]:
    """What transcribing and translating decode with: CPU float32, beam search, each 30 s
    window on its own."""
    return {
        "condition_on_previous_text": False,
        "fp16": False,
        "beam_size": o.beam_size,
        "best_of": o.beam_size,
    }


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(self, model: LocalModel | str, threads: int, options: EngineOptions) -> None:
        import torch
        import whisper

        torch.set_num_threads(threads)
        self.options = options
        self.model_name = model.name if isinstance(model, LocalModel) else model
        try:
            if isinstance(model, LocalModel):
                self.model = load_checkpoint(model.path, model.name)
            else:
                self.model = whisper.load_model(model, device="cpu")
        except Exception as exc:
            raise load_failed(model, model.path, exc) from exc

    def transcribe(
        self, audio: Any, source: str, duration_ms: int, on_progress: ProgressCallback | None = None
    ) -> Transcript:
        import whisper

        o = self.options
        module = sys.modules["whisper.transcribe"]
        original = module.tqdm
        module.tqdm = SimpleNamespace(tqdm=_Progress)
        _Progress.callback = (lambda ms: on_progress(min(ms, duration_ms))) if on_progress else None
        try:
            # verbose=False drives the (replaced) progress bar; whisper still prints the detected
            # language, which must not reach clipkit's stdout
            with contextlib.redirect_stdout(io.StringIO()):
                result = whisper.transcribe(
                    self.model,
                    audio,
                    language=o.language,
                    word_timestamps=True,
                    verbose=False,
                    **_decoding(o),
                    no_speech_threshold=o.no_speech_threshold,
                    logprob_threshold=o.log_prob_threshold,
                    compression_ratio_threshold=o.compression_ratio_threshold,
                    # no hallucination_silence_threshold: it triggers openai-whisper's skip of
                    # the end of a 30 s window and lost words there ("of movable" at 59.2-60 s;
                    # openai/whisper PR #2043); clipkit's own pass drops invented segments
                    initial_prompt=o.prompt(),
                    carry_initial_prompt=bool(o.prompt()),  # every window, not only the first
                )
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"{source}: openai-whisper failed: {exc}") from exc
        finally:
            module.tqdm = original
            _Progress.callback = None
        segments = [
            SimpleNamespace(
                **{
                    **s,
                    "words": [
                        SimpleNamespace(**{"probability": 1.0, **w}) for w in s.get("words", [])
                    ],
                }
            )
            for s in result["segments"]
        ]
        kept = drop_hallucinated(segments, o)
        language = result.get("language") or (o.language or "")
        return to_transcript(kept, language, duration_ms, self.name, self.model_name, source)

    def translate(self, audio: Any, language: str) -> str:
        import whisper

        o = self.options
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                result = whisper.transcribe(
                    self.model,
                    audio,
                    language=language,
                    task="translate",
                    without_timestamps=True,
                    verbose=None,
                    **_decoding(o),
                )
        except (RuntimeError, ValueError) as exc:
            raise EngineError(f"openai-whisper could not translate: {exc}") from exc
        return str(result.get("text") or "").strip()


SPEC = EngineSpec(
    name="openai-whisper",
    module="whisper",
    package="openai-whisper",
    install="pip install torch==2.13.0 'clipkit[openai-whisper]'",
    resolve_model=functools.partial(
        resolve_model, engine="openai-whisper", convert=convert_ct2_to_openai
    ),
    threads=lambda cores, workers: max(1, cores // workers),  # PyTorch uses its threads
    load=OpenAIWhisperEngine,
    # one process with every core: PyTorch already spreads one file over them, and two
    # processes (each a 900 MB model) were about 2x slower on a 4-file batch
    workers=lambda cores, files: 1,
    summary="PyTorch; the reference implementation",
)
