"""Speech the model jumped over, found from voice activity and decoded again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clipkit.recover import JOIN_MS, MIN_SKIPPED_MS, WORD_REACH_MS, merge_segments, skipped_speech
from clipkit.subtitles import Word
from clipkit.transcript import Segment

from .conftest import SAMPLE, SCRIPT, invoke


def words_at(*spans: tuple[int, int]) -> list[Word]:
    return [Word(a, b, f"w{a}") for a, b in spans]


@pytest.mark.parametrize(
    ("words", "regions", "expected"),
    [
        # every stretch of speech has words on it: nothing to decode again
        (words_at((1000, 1400), (1500, 2000)), [(980, 2020)], []),
        # a whole sentence of speech with no word on it
        (words_at((1000, 2000), (6000, 7000)), [(1000, 2000), (3000, 5000), (6000, 7000)],
         [(3000, 5000)]),
        # the tail of a region past the last word, long enough to be words
        (words_at((1000, 2000)), [(1000, 4000)], [(2000 + WORD_REACH_MS, 4000)]),
        # a short uncovered tail is the word's release or a breath
        (words_at((1000, 2000)), [(1000, 2000 + WORD_REACH_MS + MIN_SKIPPED_MS - 10)], []),
        # two short bursts close together are one phrase
        ([], [(1000, 1500), (1500 + JOIN_MS - 100, 2000 + JOIN_MS)], [(1000, 2000 + JOIN_MS)]),
        # ... but not with a word between them
        (words_at((1800, 1900)), [(1000, 1500), (2200, 2700)], []),
        # far apart, each too short alone
        ([], [(1000, 1500), (5000, 5500)], []),
    ],
)  # fmt: skip
def test_skipped_speech(
    words: list[Word], regions: list[tuple[int, int]], expected: list[tuple[int, int]]
) -> None:
    assert skipped_speech(words, regions) == expected


def segment(*spans: tuple[int, int]) -> Segment:
    words = tuple(words_at(*spans))
    return Segment(words[0].start, words[-1].end, " ".join(w.text for w in words), words)


def test_found_words_join_the_segment_they_fall_in_or_stand_alone() -> None:
    before, after = segment((0, 500), (600, 1000)), segment((9000, 9500))
    spanning = segment((2000, 2500), (7000, 7500))
    inside, alone = segment((4000, 4400)), segment((8000, 8400))
    merged = merge_segments([before, spanning, after], [alone, inside])
    assert [s.text for s in merged] == ["w0 w600", "w2000 w4000 w7000", "w8000", "w9000"]
    assert [w.start for w in merged[1].words] == [2000, 4000, 7000]


class SkippingEngine:
    """faster-whisper as it is, except that in a long window it jumps over one sentence, as
    Whisper's timestamps now and then do; asked about a short stretch, it answers truly."""

    def __init__(self, real, skip: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
        self.real, self.skip, self.name = real, skip, real.name
        self.model_name, self.calls = real.model_name, []

    @property
    def options(self):  # type: ignore[no-untyped-def]
        return self.real.options

    @options.setter
    def options(self, value) -> None:  # type: ignore[no-untyped-def]
        self.real.options = value

    def transcribe(self, audio, source, duration_ms, on_progress=None):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        self.calls.append(duration_ms)
        t = self.real.transcribe(audio, source, duration_ms, on_progress)
        if duration_ms < 20_000:
            return t
        a, b = self.skip
        segments = []
        for seg in t.segments:
            kept = tuple(w for w in seg.words if not a <= (w.start + w.end) // 2 <= b)
            if kept:
                text = " ".join(w.text for w in kept)
                segments.append(replace(seg, words=kept, text=text, start=kept[0].start))
        return replace(t, segments=tuple(segments))


@pytest.fixture
def skipping_engine() -> Iterator[list[SkippingEngine]]:
    from clipkit.engines import EngineSpec, engine_spec, register, unregister

    real = engine_spec("faster-whisper")
    sentence = SCRIPT["sentences"][3]
    made: list[SkippingEngine] = []

    def load(model, threads, options):  # type: ignore[no-untyped-def]
        skip = (int(sentence["start"] * 1000) - 200, int(sentence["end"] * 1000) + 200)
        made.append(SkippingEngine(real.load(model, threads, options), skip))
        return made[-1]

    register(EngineSpec(name="skipping", module=real.module, package=real.package,
                        install=real.install, resolve_model=real.resolve_model,
                        threads=real.threads, load=load))  # fmt: skip
    yield made
    unregister("skipping")


@pytest.mark.engine
def test_a_sentence_the_model_jumped_over_comes_back(
    skipping_engine: list[SkippingEngine], tmp_path: Path
) -> None:
    result = invoke("transcribe", str(SAMPLE), "-o", str(tmp_path), "--engine", "skipping", "-q")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "conversation.json").read_text(encoding="utf-8"))
    sentence = SCRIPT["sentences"][3]
    words = [w for seg in data["segments"] for w in seg["words"]]
    back = [w["word"] for w in words if sentence["start"] - 0.3 <= w["start"] <= sentence["end"]]
    assert "community" in " ".join(back).lower() and len(back) >= 10, back
    starts = [w["start"] for w in words]
    assert starts == sorted(starts)
    # one long window, then only the skipped stretch again, not the whole recording
    calls = skipping_engine[0].calls
    assert calls[0] > 60_000 and len(calls) == 2 and calls[1] < 6_000, calls
