"""Word timings trimmed to the speech around each word (synthetic levels, no engine)."""

import numpy as np
import pytest

from clipkit.align import FRAME_MS, LEAD_MS, TAIL_MS, refine_words, snap_words, speech_threshold_db
from clipkit.subtitles import Word


def levels(spans: list[tuple[int, int]], total_ms: int = 5000) -> np.ndarray:
    out = np.full(total_ms // FRAME_MS, -70.0)
    for a, b in spans:
        out[a // FRAME_MS : b // FRAME_MS] = -20.0
    return out


@pytest.mark.parametrize(
    ("speech", "word", "expected"),
    [
        # the word absorbed 600 ms of silence before it: start moves to the onset
        ([(1600, 2000)], (1000, 2000), (1600 - LEAD_MS, 2000)),
        # the tail of the previous sentence sits inside the word's span: left outside
        ([(900, 1050), (1600, 2000)], (1000, 2000), (1600 - LEAD_MS, 2000)),
        # a stop consonant (80 ms dip) inside the word is kept
        ([(1000, 1200), (1280, 1500)], (1000, 1500), (1000, 1500)),
        # a late end is pulled back to the end of speech (plus a short tail)
        ([(1000, 1300)], (1000, 2000), (1000, 1300 + TAIL_MS)),
        # a word with no speech at all keeps its times
        ([(3000, 3500)], (1000, 1400), (1000, 1400)),
    ],
)
def test_refine_words(
    speech: list[tuple[int, int]], word: tuple[int, int], expected: tuple[int, int]
) -> None:
    lv = levels(speech)
    (out,) = refine_words((Word(word[0], word[1], "w"),), lv, -45.0)
    assert (out.start, out.end) == expected


def test_flat_audio_has_no_threshold() -> None:
    assert speech_threshold_db(np.full(1000, -60.0)) is None
    assert speech_threshold_db(levels([(1000, 3000)])) == pytest.approx(-70 + 0.3 * 50)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        # starts in silence before its speech: moves to where speech begins
        ([Word(900, 1500, "Hello", 0.9)], [(1000, 1500, "Hello")]),
        # Whisper late after a pause: back to the speech onset (within reach)
        ([Word(0, 400, "One.", 0.9), Word(2600, 3000, "Two", 0.9)],
         [(0, 400, "One."), (2000, 3000, "Two")]),
        # the first word moves to its speech's onset; the next one's speech began before the
        # previous word ended, so its start stays
        ([Word(1200, 1400, "a", 0.9), Word(1500, 1800, "b", 0.9)],
         [(1000, 1400, "a"), (1500, 1800, "b")]),
        # doubted by the model and in silence: dropped; doubted but spoken: kept
        ([Word(1000, 1400, "real", 0.03), Word(5000, 5300, "Zorblax", 0.0001)],
         [(1000, 1400, "real")]),
    ],
)  # fmt: skip
def test_snap_words_to_speech(words: list[Word], expected: list[tuple[int, int, str]]) -> None:
    regions = [(0, 450), (1000, 1900), (2000, 3100)]
    assert [(w.start, w.end, w.text) for w in snap_words(words, regions)] == expected


def test_words_far_from_any_speech_are_dropped() -> None:
    # what openai-whisper wrote over 20 s of room tone once: a confident "." nowhere near speech
    invented = [Word(18580, 19980, ".", 0.94)]
    assert snap_words(invented, []) == []
    assert snap_words(invented, [(0, 5000)]) == []
    # a word just outside a speech region (timings are loose) stays
    near = [Word(5300, 5600, "yes.", 0.9)]
    assert [w.text for w in snap_words(near, [(0, 5000)])] == ["yes."]
