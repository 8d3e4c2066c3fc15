"""Shortest routes on the free-floor grid and their turns (route_plan).

The grid search is an 8-connected Dijkstra (scipy's csgraph, cached per start cell); the grid path is then
pulled taut by line of sight on the free cells, so the waypoints sit at obstacle corners instead of on the
grid's 45-degree staircase, and the turns measured there do not depend on the grid's discretisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from schemas.facts import FreeSpace

STEPS = [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0)]
MIN_SEGMENT_M = 0.4  # waypoints closer than this are merged: one corner, not two half turns
STRAIGHT_DEG = 10.0  # bends below this are rasterisation noise, removed before turns are judged
BISECT_LEVELS = 4  # tighten's bisection steps judged per lines_free call (15 segments at a time)


def signed_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle from floor-plane vector a to b in degrees, + = counter-clockwise seen from above (a left turn)."""
    cross = a[0] * b[1] - a[1] * b[0]
    return math.degrees(math.atan2(cross, float(a[0] * b[0] + a[1] * b[1])))


@lru_cache(maxsize=512)
def _unit_steps(n: int) -> np.ndarray:
    """np.linspace(0, 1, n), made once per n (line_free asks it thousands of times per scene); read-only."""
    steps = np.linspace(0, 1, n)
    steps.flags.writeable = False
    return steps


def _bisection_tree(lo: float, hi: float, levels: int) -> list[float]:
    """The midpoints a bisection of [lo, hi] may visit in `levels` steps, in heap order (node n's lower half
    is node 2n + 1, its upper half 2n + 2), each computed as (lo + hi) / 2 of its interval like the step itself."""
    bounds, mids = [(lo, hi)], []
    for low, high in bounds:
        mid = (low + high) / 2
        mids.append(mid)
        if len(bounds) < 2**levels - 1:
            bounds += [(low, mid), (mid, high)]
    return mids


@dataclass
class Route:
    waypoints: np.ndarray  # (K, 2) world x, y from start to goal, K >= 2
    length: float  # metres along the waypoints

    @property
    def segments(self) -> np.ndarray:
        return np.diff(self.waypoints, axis=0)

    def bends(self) -> list[float]:
        """Signed turn at every inner waypoint (degrees, + = left)."""
        seg = self.segments
        return [signed_angle_deg(seg[k], seg[k + 1]) for k in range(len(seg) - 1)]


def _window(n: int, d: int) -> slice:
    return slice(max(0, -d), n - max(0, d))


def _shifted(n: int, d: int) -> slice:
    return slice(max(0, -d) + d, n - max(0, d) + d)


def grid_graph(free: np.ndarray, cell: float):
    from scipy.sparse import (
        coo_matrix,  # scipy imported on first use: `sicorpus generate` of other rules skips it
    )

    """Sparse 8-neighbour graph over free cells; diagonal steps only where both side cells are free (no
    squeezing between two obstacles touching at a corner)."""
    h, w = free.shape
    index = np.arange(h * w).reshape(h, w)
    rows, cols, weights = [], [], []
    for di, dj in STEPS:
        src = (_window(h, di), _window(w, dj))
        dst = (_shifted(h, di), _shifted(w, dj))
        ok = free[src] & free[dst]
        if di and dj:
            ok &= free[(_shifted(h, di), _window(w, dj))] & free[(_window(h, di), _shifted(w, dj))]
        rows.append(index[src][ok])
        cols.append(index[dst][ok])
        weights.append(np.full(int(ok.sum()), math.hypot(di, dj) * cell))
    r, c, wt = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
    return coo_matrix((wt, (r, c)), shape=(h * w, h * w)).tocsr()


class RoutePlanner:
    """Shortest taut routes between floor points of one free-space grid."""

    def __init__(self, space: FreeSpace):
        self.space = space
        self.free = np.asarray(space.free, dtype=bool)
        self.graph = grid_graph(self.free, space.cell)
        self._trees: dict[int, np.ndarray] = {}
        self._cell_rows_cols = np.mgrid[0 : self.free.shape[0], 0 : self.free.shape[1]]  # for alternative()

    # -- grid <-> world -------------------------------------------------------------------------------------
    def cell_of(self, xy: np.ndarray) -> tuple[int, int]:
        j = int(math.floor((xy[0] - self.space.origin[0]) / self.space.cell))
        i = int(math.floor((xy[1] - self.space.origin[1]) / self.space.cell))
        return i, j

    def center_of(self, i: int, j: int) -> np.ndarray:
        return np.asarray(self.space.origin, dtype=np.float64) + (np.array([j, i]) + 0.5) * self.space.cell

    def nearest_free(self, xy: np.ndarray, max_dist: float) -> tuple[int, int] | None:
        """The free cell whose centre is nearest to xy, if within max_dist (objects stand on occupied cells)."""
        ii, jj = np.nonzero(self.free)
        if len(ii) == 0:
            return None
        centers = np.asarray(self.space.origin) + (np.stack([jj, ii], axis=1) + 0.5) * self.space.cell
        d = np.linalg.norm(centers - np.asarray(xy)[:2], axis=1)
        k = int(np.argmin(d))
        return (int(ii[k]), int(jj[k])) if d[k] <= max_dist else None

    def line_free(self, a: np.ndarray, b: np.ndarray, free: np.ndarray | None = None) -> bool:
        """Whether the segment a-b crosses only free cells, sampled every quarter cell."""
        return bool(self.lines_free(a, b, free)[0])

    def lines_free(self, starts: np.ndarray, ends: np.ndarray, free: np.ndarray | None = None) -> np.ndarray:
        """line_free for every row pair (starts[k], ends[k]) in one pass, a single point standing for all rows
        (taut asks about a whole path at once, tighten about a bisection tree): each segment gets the same
        sample points, by the same float operations, as on its own."""
        free = self.free if free is None else free
        starts, ends = np.broadcast_arrays(np.atleast_2d(starts), np.atleast_2d(ends))
        if len(ends) == 0:
            return np.zeros(0, dtype=bool)
        d = ends - starts
        # np.linalg.norm of each row, bit for bit: tests/generators/test_fast_paths.py holds numpy to it
        lengths = np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1])
        counts = np.maximum(2, np.ceil(lengths / (self.space.cell * 0.25)).astype(int) + 1)
        t = np.concatenate([_unit_steps(n) for n in counts.tolist()])
        x0, y0 = np.repeat(starts[:, 0], counts), np.repeat(starts[:, 1], counts)
        dx, dy = np.repeat(d[:, 0], counts), np.repeat(d[:, 1], counts)
        j = np.floor((x0 + t * dx - self.space.origin[0]) / self.space.cell).astype(int)
        i = np.floor((y0 + t * dy - self.space.origin[1]) / self.space.cell).astype(int)
        h, w = free.shape
        inside = (i >= 0) & (j >= 0) & (i < h) & (j < w)
        ok = inside.copy()
        ok[inside] = free[i[inside], j[inside]]
        return np.logical_and.reduceat(ok, np.concatenate([[0], np.cumsum(counts)[:-1]]))

    # -- search ---------------------------------------------------------------------------------------------
    def grid_path(
        self, start: tuple[int, int], goal: tuple[int, int], graph=None
    ) -> list[tuple[int, int]] | None:
        from scipy.sparse.csgraph import dijkstra

        w = self.free.shape[1]
        s, g = start[0] * w + start[1], goal[0] * w + goal[1]
        if graph is None:
            if s not in self._trees:
                self._trees[s] = dijkstra(self.graph, directed=True, indices=s, return_predecessors=True)[1]
            pred = self._trees[s]
        else:
            pred = dijkstra(graph, directed=True, indices=s, return_predecessors=True)[1]
        if s != g and pred[g] < 0:
            return None
        path = [g]
        while path[-1] != s:
            path.append(int(pred[path[-1]]))
        return [(k // w, k % w) for k in reversed(path)]

    def taut(self, cells: list[tuple[int, int]]) -> Route:
        """Pull a grid path taut: from each anchor, jump to the farthest path point still in line of sight."""
        pts = [self.center_of(i, j) for i, j in cells]
        way = [pts[0]]
        anchor = 0
        ends = np.asarray(pts)
        while anchor < len(pts) - 1:
            # the farthest point in sight before the first one out of sight (all asked at once)
            blocked = np.flatnonzero(~self.lines_free(pts[anchor], ends[anchor + 2 :]))
            nxt = anchor + 1 + (int(blocked[0]) if len(blocked) else len(pts) - anchor - 2)
            way.append(pts[nxt])
            anchor = nxt
        return simplify(self.tighten(way))

    def tighten(self, way: list[np.ndarray], steps: int = 12) -> np.ndarray:
        """Slide each corner along its legs while the neighbours stay in sight: greedy pulling leaves a corner
        where the grid path left the obstacle, not at the obstacle's corner, which skews the turn angles."""
        way = [np.asarray(p, dtype=np.float64) for p in way]
        for k in range(1, len(way) - 1):
            for toward, keep in ((k - 1, k + 1), (k + 1, k - 1)):
                corner, target = way[k].copy(), way[toward]
                # fraction of the way from the corner toward `toward`; lo always keeps sight
                lo = self._bisect_sight(corner, target - corner, way[keep], steps)
                way[k] = corner + lo * (target - corner)
        return np.asarray(way)

    def _bisect_sight(self, corner: np.ndarray, leg: np.ndarray, keep: np.ndarray, steps: int) -> float:
        """`steps` bisection steps for the largest fraction f with corner + f * leg still in sight of `keep`.
        Asked BISECT_LEVELS steps at a time: every midpoint those steps could visit (the same floats as one by
        one) is judged in one lines_free call, then the steps are walked through the answers."""
        lo, hi = 0.0, 1.0
        done = 0
        while done < steps:
            levels = min(BISECT_LEVELS, steps - done)
            mids = _bisection_tree(lo, hi, levels)
            sight = self.lines_free(corner + np.asarray(mids)[:, None] * leg, keep).tolist()
            node = 0
            for _ in range(levels):
                if sight[node]:
                    lo, node = mids[node], 2 * node + 2
                else:
                    hi, node = mids[node], 2 * node + 1
            done += levels
        return lo

    def route(self, start: tuple[int, int], goal: tuple[int, int]) -> Route | None:
        cells = self.grid_path(start, goal)
        return None if cells is None else self.taut(cells)

    def alternative(
        self, start: tuple[int, int], goal: tuple[int, int], best: Route, keep_m: float = 0.3
    ) -> Route | None:
        """The shortest route that may not reuse the best route's cells (except near its ends): a route
        around the other side of an obstacle. A route homotopic to the best one pulls taut onto it."""
        from scipy.ndimage import binary_dilation

        cells = self.grid_path(start, goal)
        if cells is None:
            return None
        blocked = np.zeros_like(self.free)
        for i, j in cells:
            blocked[i, j] = True
        blocked = binary_dilation(blocked, iterations=1)
        ii, jj = self._cell_rows_cols
        for end in (start, goal):
            blocked &= np.hypot(ii - end[0], jj - end[1]) * self.space.cell > keep_m
        other = self.free & ~blocked
        alt = self.grid_path(start, goal, graph=grid_graph(other, self.space.cell))
        return None if alt is None else self.taut(alt)


def _densify(route: Route, step: float = 0.05) -> np.ndarray:
    pts = [route.waypoints[0][None, :]]
    for p, q in zip(route.waypoints[:-1], route.waypoints[1:], strict=True):
        n = max(1, int(math.ceil(np.linalg.norm(q - p) / step)))
        pts.append(p + (q - p) * np.linspace(0, 1, n + 1)[1:, None])  # p + (q - p) * t for every t at once
    return np.concatenate(pts)


def route_gap(a: Route, b: Route) -> float:
    """Largest distance from a point of either route to the other route (Hausdorff): small for two routes
    round the same side of every obstacle, at least an obstacle's width for routes round different sides."""
    pa, pb = _densify(a), _densify(b)
    d = np.linalg.norm(pa[:, None, :] - pb[None, :, :], axis=2)
    return float(max(d.min(axis=1).max(), d.min(axis=0).max()))


def simplify(way: np.ndarray) -> Route:
    """Merge waypoints closer than MIN_SEGMENT_M and drop near-straight bends (< STRAIGHT_DEG)."""
    pts = [p for p in way]
    changed = True
    while changed and len(pts) > 2:
        changed = False
        seg = [float(np.linalg.norm(pts[k + 1] - pts[k])) for k in range(len(pts) - 1)]
        k = int(np.argmin(seg))
        if seg[k] < MIN_SEGMENT_M:
            if k == 0:
                del pts[1]
            elif k == len(pts) - 2:
                del pts[-2]
            else:
                pts[k : k + 2] = [(pts[k] + pts[k + 1]) / 2]
            changed = True
            continue
        bends = [
            abs(signed_angle_deg(pts[k] - pts[k - 1], pts[k + 1] - pts[k])) for k in range(1, len(pts) - 1)
        ]
        k = int(np.argmin(bends))
        if bends[k] < STRAIGHT_DEG:
            del pts[k + 1]
            changed = True
    arr = np.asarray(pts)
    return Route(arr, float(np.linalg.norm(np.diff(arr, axis=0), axis=1).sum()))
