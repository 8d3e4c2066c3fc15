from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry.distances import closest_distances
from tests.geometry.conftest import position


def test_closest_points_not_centres(facts):
    shelf, bin_ = position(facts, "shelf"), position(facts, "bin")
    # Faces at y = 0.5 and y = 0.8 overlap in x: the closest points are 0.3 m apart by construction.
    assert facts.closest[shelf, bin_] == pytest.approx(0.3, abs=1e-4)
    assert facts.closest[bin_, shelf] == facts.closest[shelf, bin_]
    centre_gap = np.linalg.norm(facts.objects[shelf].centroid - facts.objects[bin_].centroid)
    assert centre_gap > 0.8  # what a centre-based distance would have said
    assert np.all(np.diag(facts.closest) == 0)


def test_closest_distances_match_brute_force():
    rng = np.random.default_rng(3)
    sets = [
        rng.normal(loc, 0.3, size=(n, 3))
        for loc, n in [((0, 0, 0), 300), ((1, 0, 0), 50), ((0, 2, 1), 700), ((5, 5, 5), 10)]
    ]
    angle = rng.uniform(0, 2 * np.pi, 2000)  # a ring of "walls" around the others, spanning many chunks
    sets.append(np.c_[4 * np.cos(angle), 4 * np.sin(angle), rng.uniform(-1, 2, 2000)])
    sets.append(rng.normal((2.5, -2.5, 0.5), 0.1, size=(3000, 3)))  # dense: chunks over the probe count
    sets.append(sets[0][:40] + 0.0)  # shares points with another set: distance 0
    sets.append(np.array([[0.5, 0.5, 0.5]]))  # a single point
    sets.append(np.round(rng.uniform(0, 2, (400, 3)), 1))  # on a 10 cm grid: many tied distances
    got = closest_distances(sets)
    for i in range(len(sets)):
        for j in range(len(sets)):
            if i != j:
                brute = np.linalg.norm(sets[i][:, None] - sets[j][None], axis=2).min()
                assert got[i, j] == pytest.approx(brute, rel=1e-9)


def test_many_objects_match_brute_force():
    """Tens of objects, so one chunk is asked about by many pairs at once (the batched queries)."""
    rng = np.random.default_rng(7)
    sets = [
        rng.normal(rng.uniform(0, 5, 3), rng.uniform(0.05, 0.5), size=(int(rng.integers(1, 300)), 3))
        for _ in range(40)
    ]
    got = closest_distances(sets)
    assert np.array_equal(got, got.T) and np.all(np.diag(got) == 0)
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            brute = np.linalg.norm(sets[i][:, None] - sets[j][None], axis=2).min()
            assert got[i, j] == pytest.approx(brute, rel=1e-9, abs=1e-12)
