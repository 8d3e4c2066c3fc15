"""Closest-point distances between object point sets (exact nearest neighbours, not centres or boxes).

Each object's points are cut into CHUNK_M cubes with a KD-tree each (a KD-tree of a whole room's walls queried
from inside the room is pathologically slow: every node box overlaps the search ball). All pairs are done at
once, chunk by chunk rather than pair by pair: a few numpy calls and KD-tree queries per chunk instead of a
handful per pair (a room holds tens to hundreds of objects, so thousands to tens of thousands of pairs):
1. A bound per object pair: in the pair's nearest chunk pair by box gap (the seed), the PROBE_POINTS points of
   the smaller chunk nearest to the other chunk's box are asked the other's KD-tree; the least distance found is
   a distance between two real points, so no less than the pair's.
2. The candidates: the chunk pairs whose boxes are nearer than the bound (a box gap never exceeds a distance
   between points inside the boxes) and, in each, the smaller chunk's points nearer than the bound to the other
   chunk's box.
3. Those points ask the other chunk's KD-tree, all of one tree's questions in one query; a pair's distance is
   the least answer.
The closest two points of a pair pass both filters, so the result is the least distance over all point pairs
as the KD-tree measures it (exactly what a pair-by-pair branch and bound over the chunks gives, which this
replaced: 0.17-0.38 s -> 0.17-0.28 s on the bench scenes, 9.8 s -> 2.4 s for 300 objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

CHUNK_M = 1.0
PROBE_POINTS = 32  # a seed's points nearest to the other chunk's box, whose distances give the bound
# The bound is widened a hair before the filters compare numpy's box distances with it: a box distance may round
# differently from the KD-tree's point distance it never exceeds; widening only lets a few more points through.
SLACK_REL, SLACK_ABS = 1e-9, 1e-12


@dataclass
class ChunkedPoints:
    chunks: list[np.ndarray]
    low: np.ndarray  # (C, 3) bounding box of each chunk
    high: np.ndarray

    @classmethod
    def build(cls, points: np.ndarray, size: float = CHUNK_M) -> ChunkedPoints:
        points = np.asarray(points, dtype=np.float64)
        grid = np.floor(points / size).astype(np.int64)
        grid -= grid.min(axis=0)
        spans = grid.max(axis=0) + 1
        cube = (grid[:, 0] * spans[1] + grid[:, 1]) * spans[2] + grid[
            :, 2
        ]  # lexicographic, like unique(axis=0)
        order = np.argsort(cube, kind="stable")
        splits = np.flatnonzero(np.diff(cube[order])) + 1
        chunks = np.split(points[order], splits)
        return cls(
            chunks,
            np.array([c.min(axis=0) for c in chunks]),
            np.array([c.max(axis=0) for c in chunks]),
        )


def box_gaps(low_a: np.ndarray, high_a: np.ndarray, low_b: np.ndarray, high_b: np.ndarray) -> np.ndarray:
    """(A, B) distances between axis-aligned boxes (0 when they overlap); a point is a box with low = high."""
    per_axis = np.maximum(np.maximum(low_b[None] - high_a[:, None], low_a[:, None] - high_b[None]), 0.0)
    return np.linalg.norm(per_axis, axis=2)


@dataclass
class _Chunks:
    """Every object's chunks in one table, objects in order (a chunk's global number indexes each array)."""

    points: list[np.ndarray]  # (C,) each chunk's points
    owner: np.ndarray  # (C,) object position
    first: np.ndarray  # (O + 1,) global number of each object's first chunk, then C
    low: np.ndarray
    high: np.ndarray
    size: np.ndarray  # (C,) points
    trees: dict[int, cKDTree] = field(default_factory=dict)

    @classmethod
    def of(cls, chunked: list[ChunkedPoints]) -> _Chunks:
        counts = np.array([len(c.chunks) for c in chunked])
        points = [k for c in chunked for k in c.chunks]
        return cls(
            points=points,
            owner=np.repeat(np.arange(len(chunked)), counts),
            first=np.r_[0, np.cumsum(counts)],
            low=np.concatenate([c.low for c in chunked]),
            high=np.concatenate([c.high for c in chunked]),
            size=np.array([len(k) for k in points]),
        )

    def tree(self, k: int) -> cKDTree:
        if k not in self.trees:  # built on first use: many chunks only ever ask, never answer
            self.trees[k] = cKDTree(
                self.points[k], balanced_tree=False, compact_nodes=False
            )  # faster build, same answers
        return self.trees[k]


def _orient(table: _Chunks, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(query chunks, tree chunks): the smaller chunk asks the larger one's tree (the lower object's on a tie)."""
    a_asks = table.size[a] <= table.size[b]
    return np.where(a_asks, a, b), np.where(a_asks, b, a)


def _asked_points(
    table: _Chunks, query_of: np.ndarray, tree_of: np.ndarray, select
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tree chunk, candidate number, point) rows: the points select(to_box) -> (point rows, partner columns)
    chooses from each query chunk, given their distances to its partners' boxes (points x partners)."""
    trees, candidates, points = [], [], []
    order = np.argsort(query_of, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(query_of[order])) + 1):
        chunk = table.points[int(query_of[group[0]])]
        t = tree_of[group]
        rows, cols = select(box_gaps(chunk, chunk, table.low[t], table.high[t]), group)
        trees.append(t[cols])
        candidates.append(group[cols])
        points.append(chunk[rows])
    return np.concatenate(trees), np.concatenate(candidates), np.concatenate(points)


def _least_per_candidate(
    table: _Chunks, asked: tuple[np.ndarray, np.ndarray, np.ndarray], bounds: np.ndarray
) -> np.ndarray:
    """Per candidate the least nearest-neighbour distance of its asked points, inf if none is nearer than its
    bound (`bounds`, one per candidate): one KD-tree query per tree chunk, bounded by its candidates' largest."""
    trees, candidates, points = asked
    least = np.full(len(bounds), np.inf)
    order = np.argsort(trees, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(trees[order])) + 1):
        tree = table.tree(int(trees[group[0]]))
        limit = float(bounds[candidates[group]].max())
        np.minimum.at(least, candidates[group], tree.query(points[group], k=1, distance_upper_bound=limit)[0])
    return least


def _probes(to_box: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A `select` for _asked_points: each partner's PROBE_POINTS points nearest to its box (all when fewer)."""
    take = min(PROBE_POINTS, len(to_box))
    if take < len(to_box):
        rows = np.argpartition(to_box, take - 1, axis=0)[:take]  # (take, partners)
    else:
        rows = np.broadcast_to(np.arange(take)[:, None], to_box.shape)
    return rows.T.ravel(), np.repeat(np.arange(len(group)), take)


def _seeds(
    table: _Chunks, n: int
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Box gaps of each object's chunks to every later object's, (rows, cols, gaps) per object, and per object
    pair in triu order its nearest chunk pair by box gap (the seed) as two arrays of chunk numbers."""
    blocks, seed_a, seed_b = [], [], []
    for i in range(n - 1):
        rows = np.arange(table.first[i], table.first[i + 1])
        cols = np.arange(table.first[i + 1], table.first[n])
        gaps = box_gaps(table.low[rows], table.high[rows], table.low[cols], table.high[cols])  # (Ri, Ci)
        col_owner = table.owner[cols]
        # the least gap of each column, then the first column of each later object reaching that object's least
        best_row = np.argmin(gaps, axis=0)
        col_min = gaps[best_row, np.arange(len(cols))]
        seg_min = np.minimum.reduceat(col_min, table.first[i + 1 : n] - table.first[i + 1])
        is_min = col_min == seg_min[col_owner - i - 1]
        seed_col = np.flatnonzero(is_min)[np.unique(col_owner[is_min], return_index=True)[1]]
        blocks.append((rows, cols, gaps))
        seed_a.append(rows[best_row[seed_col]])
        seed_b.append(cols[seed_col])
    return blocks, np.concatenate(seed_a), np.concatenate(seed_b)


def closest_distances(point_sets: list[np.ndarray]) -> np.ndarray:
    """(O, O) minimum euclidean distance between every pair of point sets; 0 on the diagonal."""
    chunked = [ChunkedPoints.build(p) for p in point_sets]
    n = len(chunked)
    out = np.zeros((n, n))
    if n < 2:
        return out
    table = _Chunks.of(chunked)
    pair_a, pair_b = np.triu_indices(n, 1)
    # 1. the bound: each seed's probe points asked the other chunk's KD-tree
    blocks, seed_a, seed_b = _seeds(table, n)
    seed_q, seed_t = _orient(table, seed_a, seed_b)
    asked = _asked_points(table, seed_q, seed_t, _probes)
    bound = _least_per_candidate(table, asked, np.full(len(seed_q), np.inf))
    pair_bound = np.zeros((n, n))
    pair_bound[pair_a, pair_b] = bound * (1 + SLACK_REL) + SLACK_ABS
    # 2. candidates: chunk pairs nearer than the bound, and in each the points nearer than it to the other box
    cand = [
        np.nonzero(gaps < pair_bound[i, table.owner[cols]][None, :])
        for i, (_, cols, gaps) in enumerate(blocks)
    ]
    a = np.concatenate([rows[r] for (rows, _, _), (r, _) in zip(blocks, cand, strict=True)])
    b = np.concatenate([cols[c] for (_, cols, _), (_, c) in zip(blocks, cand, strict=True)])
    cand_q, cand_t = _orient(table, a, b)
    cand_bound = pair_bound[table.owner[a], table.owner[b]]

    def nearer(to_box: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.nonzero(to_box < cand_bound[group][None, :])

    # 3. their nearest neighbours, all of one tree's at once; a pair's distance is its least
    least = _least_per_candidate(table, _asked_points(table, cand_q, cand_t, nearer), cand_bound)
    best = np.full((n, n), np.inf)
    np.minimum.at(best, (table.owner[a], table.owner[b]), least)
    out[pair_a, pair_b] = best[pair_a, pair_b]
    out[pair_b, pair_a] = best[pair_a, pair_b]
    if not np.isfinite(out).all():  # the closest points always pass both filters
        raise AssertionError("closest distance not found for some object pair")
    return out
