"""Word-timing refinement against the audio's energy.

Whisper's word timestamps often start a word early after a pause (the word absorbs the silence
before it, or the tail of the previous sentence) and end it late. That makes cues appear before
anyone speaks. Each word is trimmed to the stretch of speech around its loudest frame; words with
no frame loud enough to be speech keep their times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from .subtitles import Word
from .transcript import Transcript

FRAME_MS = 10
LEAD_MS = 40  # keep a little of the attack before the first loud frame
TAIL_MS = 60
PAUSE_FRAMES = 15  # 150 ms of quiet: a pause, not a stop consonant


def frame_levels_db(audio: Any, sample_rate: int = 16000) -> Any:
    """RMS level in dBFS of each 10 ms frame."""
    import numpy as np

    hop = sample_rate * FRAME_MS // 1000
    count = len(audio) // hop
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    frames = np.asarray(audio[: count * hop], dtype=np.float32).reshape(count, hop)
    rms = np.sqrt(
        np.einsum("ij,ij->i", frames, frames) / hop + 1e-12
    )  # no squared copy of the audio
    return 20 * np.log10(rms)


def speech_threshold_db(levels: Any) -> float | None:
    """A level between the noise floor and typical speech; None when the audio is flat."""
    import numpy as np

    if len(levels) < 50:
        return None
    floor, loud = np.percentile(levels, 10), np.percentile(levels, 95)
    if loud - floor < 15:  # no clear speech/noise contrast: leave timings alone
        return None
    return float(floor + 0.3 * (loud - floor))


def speech_runs(loud: Any) -> list[tuple[int, int]]:
    """Runs of loud frames as [first, last] pairs, joined across dips shorter than a pause."""
    import numpy as np

    runs: list[tuple[int, int]] = []
    for k in np.flatnonzero(loud):
        if runs and k - runs[-1][1] - 1 < PAUSE_FRAMES:
            runs[-1] = (runs[-1][0], int(k))
        else:
            runs.append((int(k), int(k)))
    return runs


def refine_words(words: tuple[Word, ...], levels: Any, threshold: float) -> tuple[Word, ...]:
    """Trim each word to the main run of speech inside its span.

    A quiet stretch of PAUSE_FRAMES or more splits the span into runs; shorter dips (stop
    consonants) stay inside a run. The run with the most energy above the threshold is the word;
    sound from a neighbour that Whisper lumped in (the tail of the previous sentence) is left out.
    """
    out = []
    for w in words:
        a, b = w.start // FRAME_MS, max(w.end // FRAME_MS, w.start // FRAME_MS + 1)
        span = levels[a:b]
        runs = speech_runs(span >= threshold)
        if not runs:
            out.append(w)
            continue
        first, last = max(
            runs, key=lambda r: float((span[r[0] : r[1] + 1] - threshold).clip(0).sum())
        )
        start = max(w.start, (a + first) * FRAME_MS - LEAD_MS)
        end = min(w.end, (a + last + 1) * FRAME_MS + TAIL_MS)
        out.append(replace(w, start=start, end=max(end, start + FRAME_MS)))
    return tuple(out)


def refine_transcript(transcript: Transcript, audio: Any, sample_rate: int = 16000) -> Transcript:
    levels = frame_levels_db(audio, sample_rate)
    threshold = speech_threshold_db(levels)
    if threshold is None:
        return transcript
    segments = []
    for seg in transcript.segments:
        words = refine_words(seg.words, levels, threshold)
        if words:
            seg = replace(seg, words=words, start=words[0].start, end=words[-1].end)
        segments.append(seg)
    return replace(transcript, segments=tuple(segments))


# --- snapping word starts to voice activity --------------------------------------------------

ONSET_REACH_MS = 1000  # how far a word start may move back to where its speech began
# a word the model doubts (this probability or less) needs this much speech under it to stay
DOUBTS = ((0.01, 0.9), (0.05, 0.5))


def speech_regions(audio: Any, sample_rate: int = 16000) -> list[tuple[int, int]] | None:
    """Speech as (start, end) ms from the silero voice-activity model that ships inside
    faster-whisper (robust to room noise where an energy threshold is not); None without it."""
    try:
        from faster_whisper.vad import VadOptions, get_speech_timestamps
    except ImportError:
        return None
    options = VadOptions(min_silence_duration_ms=150, speech_pad_ms=30, min_speech_duration_ms=60)
    stamps = get_speech_timestamps(audio, options, sampling_rate=sample_rate)
    return [(s["start"] * 1000 // sample_rate, s["end"] * 1000 // sample_rate) for s in stamps]


def _speech_share(w: Word, regions: list[tuple[int, int]]) -> float:
    """The share of a word's time that voice activity detection calls speech."""
    covered = sum(max(0, min(w.end, b) - max(w.start, a)) for a, b in regions)
    return covered / max(1, w.end - w.start)


def _invented(w: Word, regions: list[tuple[int, int]]) -> bool:
    """The model doubts the word and too little speech lies under it."""
    return any(
        w.probability < probability and _speech_share(w, regions) < needed
        for probability, needed in DOUBTS
    )


def _far_from_speech(w: Word, regions: list[tuple[int, int]]) -> bool:
    """No speech under the word and none within FAR_FROM_SPEECH_MS of it."""
    return all(
        b + FAR_FROM_SPEECH_MS < w.start or w.end + FAR_FROM_SPEECH_MS < a for a, b in regions
    )


def snap_words(
    words: Sequence[Word], regions: list[tuple[int, int]], previous_end: int = -1
) -> list[Word]:
    """Move word starts to the speech they belong to, and drop words the model doubts that lie
    mostly outside speech (hotwords can be invented in silence). A word starting in silence
    starts where the next speech does; the first word after a pause whose speech began earlier
    (Whisper is often late there, by up to a second in noisy rooms) starts where that speech
    began."""
    import bisect

    starts = [r[0] for r in regions]
    out: list[Word] = []
    for w in words:
        if _invented(w, regions) or _far_from_speech(w, regions):
            continue  # nobody is speaking there: an invented word
        k = bisect.bisect_right(starts, w.start) - 1  # the region starting at or before w.start
        previous_end = out[-1].end if out else previous_end
        inside = k >= 0 and w.start < regions[k][1]
        if not inside:  # in silence: the word's speech is the next region, if it overlaps
            nxt = k + 1
            if nxt < len(regions) and regions[nxt][0] < w.end:
                w = replace(w, start=regions[nxt][0])
        elif regions[k][0] > previous_end and w.start - regions[k][0] <= ONSET_REACH_MS:
            w = replace(w, start=regions[k][0])  # the speech began after the previous word
        out.append(w)
    return out


FAR_FROM_SPEECH_MS = 1000  # a word this far from any speech is not a word


def snap_to_speech(
    transcript: Transcript,
    audio: Any,
    sample_rate: int = 16000,
    regions: list[tuple[int, int]] | None = None,
) -> Transcript:
    """Word starts snapped to voice activity (`regions`, found here when not given); words with
    no speech anywhere near them (text invented over room tone or music, as openai-whisper does
    without its window skip) go, and so do segments left with nothing in them."""
    regions = regions if regions is not None else speech_regions(audio, sample_rate)
    if regions is None:
        return transcript  # no voice activity model here: leave the words as they are
    segments = []
    previous_end = -1
    for seg in transcript.segments:
        words = tuple(snap_words(seg.words, regions, previous_end))
        if words:
            text = seg.text if len(words) == len(seg.words) else " ".join(w.text for w in words)
            seg = replace(seg, words=words, start=words[0].start, text=text)
            previous_end = words[-1].end
        elif seg.words or not seg.text.strip():
            continue  # every word of it was invented, or it was empty
        segments.append(seg)
    return replace(transcript, segments=tuple(segments))
