"""Clustering speaker embeddings, table-style on synthetic voices: well-separated directions
in embedding space with a little spread, as CAM++ gives for different people."""

from __future__ import annotations

import numpy as np
import pytest

from clipkit.diarize import cluster, turns_from_windows, with_short_speech


def voices(people: int, windows: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(people, 192))
    return np.concatenate(
        [
            c + 0.15 * np.linalg.norm(c) / np.sqrt(192) * rng.normal(size=(windows, 192))
            for c in centres
        ]
    )


@pytest.mark.parametrize(
    ("people", "count", "bounds", "found"),
    [
        (3, None, (1, 10), 3),  # the eigen-gap finds them
        (1, None, (1, 10), 1),
        (3, None, (1, 2), 2),  # at most two
        (1, None, (2, 10), 2),  # at least two: one voice split rather than two taken for one
        (2, None, (2, 10), 2),
        (3, None, (2, 10), 3),  # the least is a floor, not the answer
        (2, 3, (1, 10), 3),  # told how many
    ],
)
def test_the_count_within_its_bounds(
    people: int, count: int | None, bounds: tuple[int, int], found: int
) -> None:
    labels = cluster(voices(people), count, bounds)
    assert len(set(labels.tolist())) == found
    if found == people:  # each voice in one cluster of its own
        groups = labels.reshape(people, -1)
        assert all(len(set(g.tolist())) == 1 for g in groups)
        assert len({g[0] for g in groups}) == people


@pytest.mark.parametrize(
    ("short", "expected"),
    [
        ([], [((0, 1500), 0), ((2000, 3500), 1)]),
        ([(1600, 1800)], [((0, 1500), 0), ((1600, 1800), 0), ((2000, 3500), 1)]),  # nearer A
        ([(1800, 1950)], [((0, 1500), 0), ((1800, 1950), 1), ((2000, 3500), 1)]),  # nearer B
        ([(4000, 4200)], [((0, 1500), 0), ((2000, 3500), 1), ((4000, 4200), 1)]),  # after all
        ([(10, 300)], [((0, 1500), 0), ((2000, 3500), 1), ((10, 300), 0)]),  # inside a window
    ],
)
def test_short_bursts_of_speech_take_the_nearest_voice(
    short: list[tuple[int, int]], expected: list[tuple[tuple[int, int], int]]
) -> None:
    spans, labels = with_short_speech([(0, 1500), (2000, 3500)], [0, 1], short)
    assert sorted(zip(spans, labels, strict=True)) == sorted(expected)
    assert spans == sorted(spans)


def test_a_lone_yes_between_two_turns_is_a_turn_of_the_voice_beside_it() -> None:
    spans, labels = with_short_speech([(0, 1500), (5000, 6500)], [0, 1], [(6700, 6900)])
    turns = turns_from_windows(spans, labels)
    assert [(t.start, t.end, t.speaker) for t in turns] == [
        (0, 1500, "Speaker 1"),
        (5000, 6900, "Speaker 2"),
    ]
