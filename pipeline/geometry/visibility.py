"""Per-object reductions of one projection: the visibility rule of docs/taxonomy.md and the per-frame measurements.

All objects' points are projected at once (minus culled cubes, see culling.py), grouped by object with an `owner`
index (sorted), so every per-object statistic is one bincount, one ufunc.reduceat or one partial sort per object
over the in-frustum or hit points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.geometry.projection import normalised_uv
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
    occluded_by_other: (
        np.ndarray | None
    )  # (O,) share of in-frustum points hidden by ANOTHER object (occlusion.py)


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
    hidden: np.ndarray | None = None,
) -> ObjectSummary:
    """Reduce per-point results (`cam`: camera coordinates; `hit` implies `in_frustum`, as `depth_test` gives)
    per object; image positions normalised to `image`. `owners.owner` may cover a subset of the objects' points
    (culled: the rest neither in frustum nor hit) while `owners.counts` counts all of them. `hidden`: per point,
    hidden by another object (read where in frustum); None leaves `occluded_by_other` uncomputed. `full=False`
    (virtual views) computes only the visibility, fractions and mean position."""
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
        occluded_by_other=None,
    )
    if hidden is not None:
        hidden_in = np.take(hidden, inside)
        in_view = np.maximum(np.bincount(own_in, minlength=n), 1)
        summary.occluded_by_other = np.bincount(own_in[hidden_in], minlength=n) / in_view
    cam_hit = np.take(cam, inside[hit_in], axis=0).astype(np.float64)
    uv_hit = normalised_uv(cam_hit, image)
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
    occluded = None
    if all(r.occluded_by_other is not None for r in rows):  # no frame at all: an empty (0, O) array
        occluded = stack("occluded_by_other", ())
    return Visibility(
        visible=stack("visible", (), bool),
        visible_fraction=stack("visible_fraction", ()),
        in_frustum_fraction=stack("in_frustum_fraction", ()),
        bbox=stack("bbox", (4,)),
        center_x=mean_uv[..., 0].copy(),
        depth=stack("depth", ()),
        min_distance=stack("min_distance", ()),
        occluded_by_other=occluded,
    )


def first_appearance(visible: np.ndarray) -> np.ndarray:
    """(O,) first frame position where each object is visible; -1 if never."""
    if visible.shape[0] == 0:
        return np.full(visible.shape[1], -1, dtype=np.int64)
    first = np.argmax(visible, axis=0).astype(np.int64)
    first[~visible.any(axis=0)] = -1
    return first
