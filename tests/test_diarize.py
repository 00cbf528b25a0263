"""Clustering speaker embeddings, table-style on synthetic voices: well-separated directions
in embedding space with a little spread, as CAM++ gives for different people."""

from __future__ import annotations

import numpy as np
import pytest

from clipkit.diarize import cluster


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
