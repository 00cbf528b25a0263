"""A recording as windows of audio cut in pauses, so memory does not grow with its length."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..media import iter_audio
from ..transcript import Segment, Transcript

# Long recordings are transcribed in windows of about two minutes, each ending at the quietest
# moment near its boundary, so memory does not grow with length (faster-whisper builds features
# for all the audio it is given: 2.15 GB for 30 minutes in one piece). Whisper already decodes
# in 30 s windows without conditioning on earlier text (clipkit's setting), so a seam in a pause
# changes nothing but where one of those windows starts.
WINDOW_S = 120


SEAM_SEARCH_S = 20


SAMPLE_RATE = 16000


def quietest_point(audio: Any, lo: int, hi: int, sample_rate: int = SAMPLE_RATE) -> int:
    """The sample in [lo, hi) at the centre of the quietest 300 ms (a pause between words)."""
    import numpy as np

    hop = sample_rate // 100
    span = audio[lo:hi]
    count = len(span) // hop
    if count < 3:
        return hi
    frames = span[: count * hop].reshape(count, hop)
    energy = np.einsum("ij,ij->i", frames, frames)
    smoothed = np.convolve(energy, np.ones(30), mode="same")
    return lo + int(np.argmin(smoothed)) * hop + hop // 2


def audio_windows(path: Path, track: int) -> Iterator[tuple[int, Any]]:
    """(offset in samples, samples) windows of a recording, cut in pauses."""
    import numpy as np

    # CLIPKIT_WINDOW_SECONDS: for the benchmark's whole-file comparison, and for machines with
    # memory to spare
    seconds = int(os.environ.get("CLIPKIT_WINDOW_SECONDS") or WINDOW_S)
    window, search = seconds * SAMPLE_RATE, min(SEAM_SEARCH_S, seconds // 4) * SAMPLE_RATE
    pending = np.zeros(0, dtype=np.float32)
    offset = 0
    for block in iter_audio(path, SAMPLE_RATE, track, block_seconds=30.0):
        pending = np.concatenate([pending, block])
        # keep one search span in hand so the last window is never a sliver
        while len(pending) >= window + search:
            cut = quietest_point(pending, window - search, window)
            yield offset, pending[:cut]
            offset += cut
            pending = pending[cut:].copy()
    if len(pending):
        yield offset, pending


def shift_transcript(t: Transcript, offset_ms: int) -> tuple[Segment, ...]:
    return tuple(
        replace(
            seg,
            start=seg.start + offset_ms,
            end=seg.end + offset_ms,
            words=tuple(
                replace(w, start=w.start + offset_ms, end=w.end + offset_ms) for w in seg.words
            ),
        )
        for seg in t.segments
    )
