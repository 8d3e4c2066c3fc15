"""Per-object reductions of one projection: the visibility rule of docs/taxonomy.md and the per-frame measurements.

All objects' points are projected at once (minus culled cubes, see culling.py), grouped by object with an `owner`
index (sorted), so every per-object statistic is one bincount, one ufunc.reduceat or one partial sort per object
over the in-frustum or hit points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.geometry.projection import DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL, normalised_uv
from schemas.facts import Visibility
from sources.scene import Camera

MIN_VISIBLE_SHARE = 0.05  # visible = hits >= max(5 % of the object's points, 50 points)
MIN_VISIBLE_POINTS = 50


@dataclass
class PointOwners:
    """Concatenated points of several objects: owner[k] is the object position of point k (non-decreasing)."""

    owner: np.ndarray  # (N,) int64
    counts: np.ndarray  # (O,) points per object

    @classmethod
    def from_counts(cls, counts: np.ndarray) -> PointOwners:
        counts = np.asarray(counts, dtype=np.int64)
        return cls(np.repeat(np.arange(len(counts)), counts), counts)

    @property
    def n_objects(self) -> int:
        return len(self.counts)


@dataclass
class ObjectSummary:
    """One view's measurements per object (one row of `Visibility`, plus the mean image position)."""

    visible: np.ndarray
    visible_fraction: np.ndarray
    in_frustum_fraction: np.ndarray
    bbox: np.ndarray  # (O, 4) normalised x0, y0, x1, y1
    mean_uv: np.ndarray  # (O, 2) normalised
    depth: np.ndarray
    min_distance: np.ndarray
    occluded_by_other: np.ndarray  # (O,) share of in-frustum points behind ANOTHER object's nearer point


# The occlusion z-buffer is splatted on a coarse grid so that sparse foreground points still cover their
# silhouette (a per-pixel buffer would let background points show through the gaps between them).
OCCLUSION_GRID = (64, 48)


def occluded_by_other(own: np.ndarray, uv: np.ndarray, z: np.ndarray, rank: np.ndarray, n: int) -> np.ndarray:
    """Per object: share of its in-frustum points (owners `own`, normalised image positions `uv`, depths `z`)
    whose grid cell's nearest point belongs to another object and lies in front by more than the depth
    tolerance. Self-occlusion (an object's own front faces hiding its back faces) does not count, which the
    plain visible/in-frustum ratio cannot tell apart. Equal nearest depths: the lowest `rank` owns the cell."""
    width, height = OCCLUSION_GRID
    uv = np.clip(uv, 0.0, 1.0 - 1e-9)
    cell = (uv[:, 1] * height).astype(np.int64) * width + (uv[:, 0] * width).astype(np.int64)
    front_z = np.full(width * height, np.inf)
    np.minimum.at(front_z, cell, z)  # unbuffered min per cell: no sort (numpy >= 1.25 makes this fast)
    front = np.flatnonzero(z == front_z[cell])
    if np.bincount(cell[front], minlength=1).max() > 1:  # equal nearest depths (rare): keep the lowest rank
        first_rank = np.full(width * height, np.iinfo(np.int64).max)
        np.minimum.at(first_rank, cell[front], rank[front])
        front = front[rank[front] == first_rank[cell[front]]]  # one point per occupied cell
    front_owner = np.full(width * height, -1, dtype=np.int64)
    front_owner[cell[front]] = own[front]
    tolerance = np.maximum(DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL * z)
    hidden = (front_owner[cell] != own) & (front_z[cell] < z - tolerance)
    return np.bincount(own[hidden], minlength=n) / np.maximum(np.bincount(own, minlength=n), 1)


def visible_rule(hits: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return (hits > 0) & (hits >= np.maximum(MIN_VISIBLE_SHARE * counts, MIN_VISIBLE_POINTS))


def group_medians(values: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Median of each contiguous group (one partial sort per group: O(n), the same values a full sort picks)."""
    out = np.empty(len(starts))
    for k, (start, size) in enumerate(zip(starts.tolist(), sizes.tolist(), strict=True)):
        low, high = (size - 1) // 2, size // 2
        part = np.partition(values[start : start + size], [low, high] if low != high else low)
        out[k] = (part[low] + part[high]) / 2
    return out


def summarise(
    owners: PointOwners,
    hit: np.ndarray,
    in_frustum: np.ndarray,
    cam: np.ndarray,
    image: Camera,
    full: bool = True,
    rank: np.ndarray | None = None,
) -> ObjectSummary:
    """Reduce per-point results (`cam`: camera coordinates; `hit` implies `in_frustum`, as `depth_test` gives)
    per object; image positions normalised to `image`. `owners.owner` may cover a subset of the objects' points
    (culled: the rest neither in frustum nor hit) while `owners.counts` counts all of them; `rank` orders the
    points as the objects' original concatenation does (default: as given). `full=False` (virtual views)
    computes only the visibility, fractions and mean position."""
    n = owners.n_objects
    safe_counts = np.maximum(owners.counts, 1)
    inside = np.flatnonzero(in_frustum)
    own_in = np.take(owners.owner, inside)  # np.take: several times faster than fancy indexing here
    hit_in = np.take(hit, inside)
    hits = np.bincount(own_in[hit_in], minlength=n).astype(np.float64)
    summary = ObjectSummary(
        visible=visible_rule(hits, owners.counts),
        visible_fraction=hits / safe_counts,
        in_frustum_fraction=np.bincount(own_in, minlength=n) / safe_counts,
        bbox=np.full((n, 4), np.nan),
        mean_uv=np.full((n, 2), np.nan),
        depth=np.full(n, np.nan),
        min_distance=np.full(n, np.nan),
        occluded_by_other=np.zeros(n),
    )
    cam_in = np.take(cam, inside if full else inside[hit_in], axis=0).astype(np.float64)
    uv_in = normalised_uv(cam_in, image)  # once per point, shared by the occlusion grid and the hit stats
    if full:
        rank_in = inside if rank is None else rank[inside]
        summary.occluded_by_other = occluded_by_other(own_in, uv_in, cam_in[:, 2], rank_in, n)
        cam_hit, uv_hit = np.compress(hit_in, cam_in, axis=0), np.compress(hit_in, uv_in, axis=0)
    else:
        cam_hit, uv_hit = cam_in, uv_in
    if len(cam_hit) == 0:
        return summary
    owner = own_in[hit_in]
    uv_hit = np.clip(uv_hit, 0.0, 1.0)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ids = owner[starts]
    sizes = np.diff(np.r_[starts, len(owner)])
    for axis in (0, 1):
        summary.mean_uv[ids, axis] = np.add.reduceat(uv_hit[:, axis], starts) / sizes
    if not full:
        return summary
    for axis in (0, 1):
        summary.bbox[ids, axis] = np.minimum.reduceat(uv_hit[:, axis], starts)
        summary.bbox[ids, axis + 2] = np.maximum.reduceat(uv_hit[:, axis], starts)
    # sqrt is monotonic: the min of the squared norms, then one sqrt per object (the same value as
    # np.linalg.norm: its sum over the 3 axes runs in the same order)
    squared = cam_hit[:, 0] * cam_hit[:, 0] + cam_hit[:, 1] * cam_hit[:, 1] + cam_hit[:, 2] * cam_hit[:, 2]
    summary.min_distance[ids] = np.sqrt(np.minimum.reduceat(squared, starts))
    summary.depth[ids] = group_medians(cam_hit[:, 2], starts, sizes)
    return summary


def stack_visibility(rows: list[ObjectSummary], n_objects: int) -> Visibility:
    """Frame rows -> the (F, O) arrays of `Visibility` (F may be 0)."""

    def stack(name: str, empty_shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        if not rows:
            return np.zeros((0, n_objects, *empty_shape), dtype=dtype)
        return np.stack([getattr(r, name) for r in rows]).astype(dtype)

    mean_uv = stack("mean_uv", (2,))
    return Visibility(
        visible=stack("visible", (), bool),
        visible_fraction=stack("visible_fraction", ()),
        in_frustum_fraction=stack("in_frustum_fraction", ()),
        bbox=stack("bbox", (4,)),
        center_x=mean_uv[..., 0].copy(),
        depth=stack("depth", ()),
        min_distance=stack("min_distance", ()),
        occluded_by_other=stack("occluded_by_other", ()),
    )


def first_appearance(visible: np.ndarray) -> np.ndarray:
    """(O,) first frame position where each object is visible; -1 if never."""
    if visible.shape[0] == 0:
        return np.full(visible.shape[1], -1, dtype=np.int64)
    first = np.argmax(visible, axis=0).astype(np.int64)
    first[~visible.any(axis=0)] = -1
    return first
