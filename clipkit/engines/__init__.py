"""Speech-to-text engines behind one small interface, imported lazily (keeps `--help` fast)."""

from __future__ import annotations

import importlib.util

from ..errors import EngineError
from .base import Engine, EngineOptions, ProgressCallback

ENGINES = ("faster-whisper", "openai-whisper")
DEFAULT_ENGINE = "faster-whisper"
_MODULES = {"faster-whisper": "faster_whisper", "openai-whisper": "whisper"}
_EXTRAS = {
    "faster-whisper": "pip install 'clipkit[faster-whisper]'",
    "openai-whisper": "pip install torch==2.13.0 'clipkit[openai-whisper]'",
}


def check_engine(name: str) -> None:
    """Raise EngineError unless `name` is a known engine whose package is installed."""
    if name not in ENGINES:
        raise EngineError(f"unknown engine {name!r} (choose {' or '.join(ENGINES)})")
    if importlib.util.find_spec(_MODULES[name]) is None:
        raise EngineError(f"engine {name} is not installed: {_EXTRAS[name]}")


def engine_available(name: str) -> bool:
    return name in ENGINES and importlib.util.find_spec(_MODULES[name]) is not None


def load_engine(name: str, model: str, threads: int, options: EngineOptions) -> Engine:
    check_engine(name)
    if name == "faster-whisper":
        from .faster import FasterWhisperEngine

        return FasterWhisperEngine(model, threads, options)
    from .openai import OpenAIWhisperEngine

    return OpenAIWhisperEngine(model, threads, options)


__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "Engine",
    "EngineOptions",
    "ProgressCallback",
    "check_engine",
    "engine_available",
    "load_engine",
]
