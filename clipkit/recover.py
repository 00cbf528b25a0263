"""Speech the model skipped, decoded again.

Whisper predicts its own timestamps, and now and then one jumps over a whole sentence: on a
5-minute real-speech recording, tiny.en dropped a clearly spoken 2.7 s sentence in the middle of
a window (decoding the same sentence alone gives it back word for word). Voice activity shows
where people spoke; a stretch of speech with no word on it is decoded again on its own, and what
the model is confident of goes into the transcript at its place. Nothing here is tuned to one
recording: the thresholds are Whisper's own (log-probability and no-speech) and the lengths are
those of a short phrase.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .subtitles import Word
from .transcript import Segment, Transcript

log = logging.getLogger(__name__)

MIN_SKIPPED_MS = 800  # uncovered speech shorter than this is a breath, a cough or a word's tail
WORD_REACH_MS = 250  # speech this close to a word is that word's onset or release
JOIN_MS = 700  # uncovered speech this close together is one phrase, decoded as one
PAD_MS = 200  # context either side of a skipped stretch, so its first and last sounds are whole
# Whisper's own fallback thresholds: below this log-probability or above this no-speech
# probability its text is a guess
MIN_LOGPROB = -1.0
MAX_NO_SPEECH = 0.6


def _uncovered(region: tuple[int, int], covered: Sequence[tuple[int, int]]) -> list[list[int]]:
    """The parts of one speech region that no word (widened by WORD_REACH_MS) lies on."""
    pieces = [[region[0], region[1]]]
    for a, b in covered:
        if b <= region[0] or a >= region[1]:
            continue
        nxt = []
        for s, e in pieces:
            if b <= s or a >= e:
                nxt.append([s, e])
                continue
            if s < a:
                nxt.append([s, a])
            if b < e:
                nxt.append([b, e])
        pieces = nxt
    return pieces


def skipped_speech(
    words: Sequence[Word], regions: Sequence[tuple[int, int]], min_ms: int = MIN_SKIPPED_MS
) -> list[tuple[int, int]]:
    """(start, end) ms of each stretch of voice activity with no word on it and at least
    `min_ms` of speech; stretches closer than JOIN_MS with no word between them are one."""
    covered = sorted((w.start - WORD_REACH_MS, w.end + WORD_REACH_MS) for w in words)
    groups: list[list[int]] = []  # [start, end, speech ms]
    for region in regions:
        for s, e in _uncovered(region, covered):
            word_between = groups and any(
                groups[-1][1] <= a and b <= s for a, b in covered
            )  # fmt: skip
            if groups and s - groups[-1][1] < JOIN_MS and not word_between:
                groups[-1][1] = e
                groups[-1][2] += e - s
            else:
                groups.append([s, e, e - s])
    return [(s, e) for s, e, speech in groups if speech >= min_ms]


def _confident(seg: Segment) -> bool:
    return seg.avg_logprob > MIN_LOGPROB and seg.no_speech_prob < MAX_NO_SPEECH


def _shifted(w: Word, offset_ms: int) -> Word:
    return replace(w, start=w.start + offset_ms, end=w.end + offset_ms)


def _within(w: Word, start: int, end: int) -> bool:
    middle = (w.start + w.end) // 2
    return start - WORD_REACH_MS <= middle <= end + WORD_REACH_MS


def merge_segments(segments: Sequence[Segment], found: Sequence[Segment]) -> tuple[Segment, ...]:
    """`found` segments put in their place: inside a segment whose words span them, their words
    join it; elsewhere they stand as segments of their own, in time order."""
    out = list(segments)
    for extra in found:
        home = next(
            (i for i, seg in enumerate(out)
             if seg.words and seg.words[0].start < extra.start < seg.words[-1].end),
            None,
        )  # fmt: skip
        if home is None:
            out.append(extra)
            continue
        seg = out[home]
        words = tuple(sorted(seg.words + extra.words, key=lambda w: w.start))
        out[home] = replace(seg, words=words, text=" ".join(w.text.strip() for w in words))
    return tuple(sorted(out, key=lambda seg: seg.start))


def recover_skipped(
    engine: Any,
    transcript: Transcript,
    audio: Any,
    regions: Sequence[tuple[int, int]],
    source: str,
    sample_rate: int = 16000,
) -> Transcript:
    """The transcript with each skipped stretch of speech decoded again on its own; only words
    the model is confident of, lying in the stretch, are kept."""
    from .align import refine_transcript, snap_words

    found: list[Segment] = []
    for start, end in skipped_speech(transcript.words, regions):
        lo = max(0, start - PAD_MS)
        hi = min(len(audio) * 1000 // sample_rate, end + PAD_MS)
        clip = audio[lo * sample_rate // 1000 : hi * sample_rate // 1000]
        log.debug("no words on speech at %d-%d ms of %s: decoding it again", start, end, source)
        part = refine_transcript(engine.transcribe(clip, source, hi - lo, None), clip, sample_rate)
        for seg in part.segments:
            if not _confident(seg):
                continue
            words = [_shifted(w, lo) for w in seg.words]
            kept = snap_words([w for w in words if _within(w, start, end)], list(regions))
            if not kept:
                continue
            text = seg.text if len(kept) == len(words) else " ".join(w.text for w in kept)
            log.debug("recovered at %d ms: %s", kept[0].start, text.strip())
            found.append(replace(seg, start=kept[0].start, end=kept[-1].end, text=text.strip(),
                                 words=tuple(kept)))  # fmt: skip
    if not found:
        return transcript
    return replace(transcript, segments=merge_segments(transcript.segments, found))
