"""Word error rate, for tests and benchmarks against a known script."""

from __future__ import annotations

import re
import unicodedata


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation (apostrophes inside words kept)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"[^\w'\s]|(?<!\w)'|'(?!\w)", " ", text)
    return text.split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / len(ref)


def speech_onsets(intervals: list[tuple[float, float]], gap: float = 0.3) -> list[float]:
    """Where speech starts after at least `gap` seconds with nobody speaking (reference word or
    turn times, in seconds); the first start counts too."""
    onsets: list[float] = []
    end = float("-inf")
    for start, stop in sorted(intervals):
        if start - end >= gap:
            onsets.append(start)
        end = max(end, stop)
    return onsets


def onset_errors(onsets: list[float], cue_starts: list[float]) -> list[float]:
    """For each speech onset, the distance (s) to the nearest cue start."""
    if not cue_starts:
        return [float("inf")] * len(onsets)
    return [min(abs(o - s) for s in cue_starts) for o in onsets]
