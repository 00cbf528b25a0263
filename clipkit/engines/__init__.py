"""Speech-to-text engines behind one small interface, known through one registry.

Each engine module declares an `EngineSpec` (its name, the package it needs, how its models are
found, its default CPU threads, and how to load it); `register()` adds one, so a new engine (or
a test's fake) is one module and one call. Engine packages are imported only when a model is
loaded, which keeps `clipkit --help` fast.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from typing import Any

from ..errors import EngineError
from .base import Engine, EngineOptions, EngineSpec, ProgressCallback

_REGISTRY: dict[str, EngineSpec] = {}
DEFAULT_ENGINE = "faster-whisper"


def register(spec: EngineSpec) -> EngineSpec:
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def engine_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def engine_spec(name: str) -> EngineSpec:
    spec = _REGISTRY.get(name)
    if spec is None:
        raise EngineError(f"unknown engine {name!r} (choose {' or '.join(_REGISTRY)})")
    return spec


def engine_available(name: str) -> bool:
    spec = _REGISTRY.get(name)
    return spec is not None and importlib.util.find_spec(spec.module) is not None


def engine_version(name: str) -> str:
    if not engine_available(name):
        return "not installed"
    try:
        return importlib.metadata.version(engine_spec(name).package)
    except importlib.metadata.PackageNotFoundError:
        return "installed"


def check_engine(name: str) -> EngineSpec:
    """The spec of a known engine whose package is installed; EngineError otherwise."""
    spec = engine_spec(name)
    if importlib.util.find_spec(spec.module) is None:
        raise EngineError(f"engine {name} is not installed: {spec.install}")
    return spec


def load_engine(name: str, model: Any, threads: int, options: EngineOptions) -> Engine:
    return check_engine(name).load(model, threads, options)


def _register_builtin() -> None:
    from . import faster, openai

    register(faster.SPEC)
    register(openai.SPEC)


_register_builtin()

__all__ = [
    "DEFAULT_ENGINE",
    "Engine",
    "EngineOptions",
    "EngineSpec",
    "ProgressCallback",
    "check_engine",
    "engine_available",
    "engine_names",
    "engine_spec",
    "engine_version",
    "load_engine",
    "register",
    "unregister",
]
