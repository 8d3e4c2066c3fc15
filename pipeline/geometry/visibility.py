"""Per-object reductions of one projection: the TAXONOMY "Visibility" rule and the per-frame measurements.

All objects' points are projected at once, concatenated in object order with an `owner` index (sorted), so every
per-object statistic is one bincount or one ufunc.reduceat over the hit points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.facts import Visibility
from pipeline.geometry.projection import DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL, normalised_uv
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


def occluded_by_other(
    owners: PointOwners, in_frustum: np.ndarray, cam: np.ndarray, image: Camera
) -> np.ndarray:
    """Per object: share of its in-frustum points whose grid cell's nearest point belongs to another object
    and lies in front by more than the depth tolerance. Self-occlusion (an object's own front faces hiding its
    back faces) does not count, which the plain visible/in-frustum ratio cannot tell apart."""
    n = owners.n_objects
    idx = np.flatnonzero(in_frustum)
    if len(idx) == 0:
        return np.zeros(n)
    width, height = OCCLUSION_GRID
    uv = np.clip(normalised_uv(cam[idx].astype(np.float64), image), 0.0, 1.0 - 1e-9)
    cell = (uv[:, 1] * height).astype(np.int64) * width + (uv[:, 0] * width).astype(np.int64)
    z = cam[idx, 2].astype(np.float64)
    order = np.lexsort((z, cell))
    first = order[np.r_[True, cell[order][1:] != cell[order][:-1]]]
    front_owner = np.full(width * height, -1, dtype=np.int64)
    front_z = np.full(width * height, np.inf)
    front_owner[cell[first]] = owners.owner[idx[first]]
    front_z[cell[first]] = z[first]
    own = owners.owner[idx]
    tolerance = np.maximum(DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL * z)
    hidden = (front_owner[cell] != own) & (front_z[cell] < z - tolerance)
    inside = np.bincount(own, minlength=n)
    return np.bincount(own, weights=hidden, minlength=n) / np.maximum(inside, 1)


def visible_rule(hits: np.ndarray, counts: np.ndarray) -> np.ndarray:
    return (hits > 0) & (hits >= np.maximum(MIN_VISIBLE_SHARE * counts, MIN_VISIBLE_POINTS))


def summarise(
    owners: PointOwners,
    hit: np.ndarray,
    in_frustum: np.ndarray,
    cam: np.ndarray,
    image: Camera,
    with_occlusion: bool = True,
) -> ObjectSummary:
    """Reduce per-point results (`cam`: camera coordinates) per object; image positions normalised to `image`."""
    n = owners.n_objects
    safe_counts = np.maximum(owners.counts, 1)
    hits = np.bincount(owners.owner, weights=hit, minlength=n)
    inside = np.bincount(owners.owner, weights=in_frustum, minlength=n)
    summary = ObjectSummary(
        visible=visible_rule(hits, owners.counts),
        visible_fraction=hits / safe_counts,
        in_frustum_fraction=inside / safe_counts,
        bbox=np.full((n, 4), np.nan),
        mean_uv=np.full((n, 2), np.nan),
        depth=np.full(n, np.nan),
        min_distance=np.full(n, np.nan),
        occluded_by_other=(
            occluded_by_other(owners, in_frustum, cam, image) if with_occlusion else np.zeros(n)
        ),
    )
    if not hit.any():
        return summary
    owner = owners.owner[hit]
    cam_hit = cam[hit].astype(np.float64)
    uv_hit = np.clip(normalised_uv(cam_hit, image), 0.0, 1.0)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ids = owner[starts]
    sizes = np.diff(np.r_[starts, len(owner)])
    for axis in (0, 1):
        summary.bbox[ids, axis] = np.minimum.reduceat(uv_hit[:, axis], starts)
        summary.bbox[ids, axis + 2] = np.maximum.reduceat(uv_hit[:, axis], starts)
        summary.mean_uv[ids, axis] = np.add.reduceat(uv_hit[:, axis], starts) / sizes
    summary.min_distance[ids] = np.minimum.reduceat(np.linalg.norm(cam_hit, axis=1), starts)
    # Median z per object: sort by (owner, z); owner is already grouped, so group starts are unchanged.
    z_sorted = cam_hit[np.lexsort((cam_hit[:, 2], owner)), 2]
    summary.depth[ids] = (z_sorted[starts + (sizes - 1) // 2] + z_sorted[starts + sizes // 2]) / 2
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
