"""The faster forms of the generate stage give the same answers as the forms they replaced (byte-identical
rebuilds depend on it): draws skipped where numpy draws nothing, vectorised line of sight, batched bisection,
row norms and motion labels. Each test compares against the plain per-item form, written out here."""

from __future__ import annotations

import math
import platform

import numpy as np
import pytest

from generators.guards import draw_index, order, shuffled
from generators.routes import RoutePlanner, _bisection_tree
from generators.viewpoint import MOTION_LABELS, motion_directions
from pipeline.numerics import PINNED_KERNEL, blas_kernel
from schemas.facts import FreeSpace


def test_numpy_draws_nothing_for_one_choice_or_fewer_than_two_items():
    # draw_index and order skip these calls; if numpy ever drew here, rebuilt corpora would change
    rng = np.random.Generator(np.random.PCG64(7))
    rng.integers(3)  # a draw that may leave a buffered half word behind
    state = rng.bit_generator.state
    assert int(rng.integers(1)) == 0
    assert rng.permutation(0).tolist() == [] and rng.permutation(1).tolist() == [0]
    assert rng.bit_generator.state == state


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_draw_index_and_order_follow_the_plain_calls(n):
    fast, plain = np.random.Generator(np.random.PCG64(n)), np.random.Generator(np.random.PCG64(n))
    for _ in range(20):
        assert draw_index(fast, n) == int(plain.integers(n))
        assert order(fast, n) == plain.permutation(n).tolist()
        items = list("abcdef")[:n]
        assert shuffled(fast, items) == [items[i] for i in plain.permutation(n)]
    assert fast.bit_generator.state == plain.bit_generator.state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_norms_by_hand_equal_numpy_norm_bit_for_bit(dtype):
    rows = (np.random.default_rng(1).standard_normal((200_000, 2)) * 300).astype(dtype)
    by_hand = np.sqrt(rows[:, 0] * rows[:, 0] + rows[:, 1] * rows[:, 1])
    assert by_hand.tobytes() == np.linalg.norm(rows, axis=1).tobytes()
    # the single-vector norm (a BLAS dot) too, on the floor-plane vectors routes measure, under the kernel every
    # process of ours pins (pipeline/numerics.py): AVX-512's SkylakeX kernel fuses the dot's multiply-add
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert blas_kernel() == f"openblas {PINNED_KERNEL}"
    for v in rows[:2000].astype(np.float64):
        assert math.sqrt(v[0] * v[0] + v[1] * v[1]) == np.linalg.norm(v)


def _line_free_one_by_one(planner: RoutePlanner, a: np.ndarray, b: np.ndarray) -> bool:
    """The per-segment line of sight lines_free replaced."""
    space = planner.space
    n = max(2, int(math.ceil(np.linalg.norm(b - a) / (space.cell * 0.25))) + 1)
    pts = a[None, :] + np.linspace(0, 1, n)[:, None] * (b - a)[None, :]
    j = np.floor((pts[:, 0] - space.origin[0]) / space.cell).astype(int)
    i = np.floor((pts[:, 1] - space.origin[1]) / space.cell).astype(int)
    h, w = planner.free.shape
    if (i < 0).any() or (j < 0).any() or (i >= h).any() or (j >= w).any():
        return False
    return bool(planner.free[i, j].all())


def _planner(seed: int = 0) -> RoutePlanner:
    rng = np.random.default_rng(seed)
    free = np.ones((40, 50), dtype=bool)
    for _ in range(12):  # rectangular obstacles
        i, j = rng.integers(0, 36), rng.integers(0, 46)
        free[i : i + rng.integers(1, 6), j : j + rng.integers(1, 6)] = False
    return RoutePlanner(FreeSpace(free=free, origin=np.array([-2.3, -1.7]), cell=0.1))


def test_lines_free_judges_every_segment_as_one_at_a_time():
    planner = _planner()
    rng = np.random.default_rng(2)
    starts = rng.uniform([-2.6, -2.0], [3.0, 2.6], size=(3000, 2))  # some outside the grid
    ends = rng.uniform([-2.6, -2.0], [3.0, 2.6], size=(3000, 2))
    expected = [_line_free_one_by_one(planner, a, b) for a, b in zip(starts, ends, strict=True)]
    assert planner.lines_free(starts, ends).tolist() == expected
    assert planner.lines_free(starts[0], ends).tolist() == [
        _line_free_one_by_one(planner, starts[0], b) for b in ends
    ]
    assert [planner.line_free(a, b) for a, b in zip(starts[:200], ends[:200], strict=True)] == expected[:200]
    assert 0.1 < np.mean(expected) < 0.9  # both answers are exercised


def test_batched_bisection_ends_where_the_step_by_step_one_does():
    planner = _planner(3)
    rng = np.random.default_rng(4)
    for _ in range(200):
        corner, target, keep = rng.uniform([-2.0, -1.5], [2.6, 2.2], size=(3, 2))
        lo, hi = 0.0, 1.0
        for _ in range(12):
            mid = (lo + hi) / 2
            if _line_free_one_by_one(planner, corner + mid * (target - corner), keep):
                lo = mid
            else:
                hi = mid
        assert planner._bisect_sight(corner, target - corner, keep, 12) == lo


def test_bisection_tree_lists_midpoints_in_heap_order():
    assert _bisection_tree(0.0, 1.0, 2) == [0.5, 0.25, 0.75]
    assert len(_bisection_tree(0.0, 1.0, 4)) == 15


def _motion_direction_one(t: np.ndarray, dominance: float, min_length: float) -> str | None:
    """The per-translation form motion_directions replaced."""
    mag = np.abs(t)
    axis = int(np.argmax(mag))
    others = np.delete(mag, axis)
    if mag[axis] < min_length or np.any(mag[axis] < dominance * others):
        return None
    return MOTION_LABELS[axis][0 if t[axis] > 0 else 1]


def test_motion_directions_label_every_row_as_one_at_a_time():
    rng = np.random.default_rng(5)
    t = rng.standard_normal((20_000, 3)) * rng.uniform(0, 0.3, size=(20_000, 1))
    t[::7, 1] = t[::7, 0]  # ties between axes
    t[::11] = np.round(t[::11], 1)
    t[3] = 0.0
    got = motion_directions(t, 1.5, 0.1)
    assert got == [_motion_direction_one(row, 1.5, 0.1) for row in t]
    assert {g for g in got} >= {None, "left", "right", "forward", "backward", "up", "down"}


def test_densified_route_has_the_points_of_the_one_by_one_form():
    from generators.routes import Route, _densify

    way = np.random.default_rng(6).uniform(-3, 3, size=(6, 2))
    pts = [way[0]]
    for p, q in zip(way[:-1], way[1:], strict=True):
        n = max(1, int(math.ceil(np.linalg.norm(q - p) / 0.05)))
        pts.extend(p + (q - p) * t for t in np.linspace(0, 1, n + 1)[1:])
    assert _densify(Route(way, 0.0)).tobytes() == np.asarray(pts).tobytes()


def test_value_bin_finds_the_interval_numpy_searchsorted_finds():
    from generators.common import value_bin

    edges = [0.5, 1, 2.0, 4]
    for value in [-1.0, 0.0, 0.5, 0.7, 1.0, 1.5, 2.0, 3.9, 4.0, 9.0, float("nan"), np.float64(1.0)]:
        k = int(np.searchsorted(np.asarray(edges, dtype=np.float64), value, side="right"))
        expected = "<0.5m" if k == 0 else ">=4m" if k == len(edges) else f"{edges[k - 1]:g}-{edges[k]:g}m"
        assert value_bin(value, edges, "m") == expected
