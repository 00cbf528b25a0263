"""An openai-whisper checkpoint (.pt, as `clipkit models convert` writes it) as a whisper.cpp
model file (the legacy "ggml" layout whisper.cpp loads), in float16, for the benchmark only.

The layout: the magic 0x67676d6c; eleven int32 hyper-parameters (n_vocab, n_audio_ctx,
n_audio_state, n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head,
n_text_layer, n_mels, ftype); the mel filter bank (rows, columns, float32 values); the
tokenizer's byte strings (a count, then length and bytes each); then every tensor: its number
of dimensions, name length and type (0 float32, 1 float16), its dimensions innermost first,
its name and its data. Vectors, the convolution biases (stored as [n, 1]) and the positional
embeddings stay float32, as whisper.cpp expects.

Usage: python bench/ggml.py MODEL.pt OUT.bin
"""

from __future__ import annotations

import base64
import struct
import sys
from pathlib import Path

import numpy as np

MAGIC = 0x67676D6C
HPARAMS = ("n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
           "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels")  # fmt: skip
KEEP_FLOAT32 = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding",
                "decoder.positional_embedding"}  # fmt: skip


def whisper_assets() -> Path:
    import whisper  # openai-whisper: its mel filters and tokenizer files

    return Path(whisper.__file__).parent / "assets"


def convert(checkpoint: Path, out: Path) -> Path:
    import torch

    data = torch.load(checkpoint, map_location="cpu")
    dims, state = data["dims"], data["model_state_dict"]
    assets = whisper_assets()
    with np.load(assets / "mel_filters.npz") as f:
        filters = np.asarray(f[f"mel_{dims['n_mels']}"], dtype=np.float32)
    vocab = "multilingual" if dims["n_vocab"] >= 51865 else "gpt2"
    lines = (assets / f"{vocab}.tiktoken").read_bytes().splitlines()
    tokens = [base64.b64decode(line.split()[0]) for line in lines if line]
    with out.open("wb") as fh:
        fh.write(struct.pack("i", MAGIC))
        fh.write(struct.pack("11i", *(dims[k] for k in HPARAMS), 1))
        fh.write(struct.pack("ii", *filters.shape))
        fh.write(filters.tobytes())
        fh.write(struct.pack("i", len(tokens)))
        for token in tokens:
            fh.write(struct.pack("i", len(token)) + token)
        for name, tensor in state.items():
            array = tensor.squeeze().float().numpy()
            if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                array = array.reshape(array.shape[0], 1)
            f32 = array.ndim < 2 or name in KEEP_FLOAT32
            array = array.astype(np.float32 if f32 else np.float16)
            encoded = name.encode()
            fh.write(struct.pack("iii", array.ndim, len(encoded), 0 if f32 else 1))
            fh.write(struct.pack(f"{array.ndim}i", *reversed(array.shape)))
            fh.write(encoded)
            fh.write(np.ascontiguousarray(array).tobytes())
    return out


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
