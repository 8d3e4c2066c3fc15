"""Frustum culling: project only the points that can land in the image.

A frame of a room sees about a fifth of its points; on ScanNet-scale scenes half the objects are wholly outside
it, and most of the rest lie partly outside. Objects' points are regrouped by (object, CELL_M cube), so each
cube is one contiguous range, and a cube is skipped when its bounding box, grown by MARGIN_M, lies wholly on the
outside of one plane of the frustum: no point inside can then pass the kernel's in-frustum test (the margin is
orders above float32 rounding). Skipped points are neither in the frustum nor hit, so every per-object count,
min, max and median is unchanged (occlusion is raycast per in-frustum point, whatever the order); only float
sums see another order (noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sources.scene import Camera

CELL_M = 0.5  # measured on ScanNet-scale scenes: 0.5 m keeps 25 % of points per frame (whole objects: 47 %)
MARGIN_M = 0.01
CORNER_SIGNS = np.array([[(k >> axis) & 1 for axis in range(3)] for k in range(8)], dtype=bool)  # (8, 3)


@dataclass
class CulledCloud:
    """Objects' points grouped by (object, cube), then `extra` points (tracks) that every selection keeps."""

    points: np.ndarray  # (N + E, 3) float32
    owner: np.ndarray  # (N,) object position of each object point, non-decreasing
    counts: np.ndarray  # (O,) points per object
    starts: np.ndarray  # (C,) first point of each cube
    sizes: np.ndarray  # (C,) points in each cube
    corners: np.ndarray  # (C * 8, 3) float64 corners of each cube's grown bounding box

    @classmethod
    def build(
        cls, point_sets: list[np.ndarray], extra: np.ndarray | None = None, cell: float = CELL_M
    ) -> CulledCloud:
        counts = np.array([len(p) for p in point_sets], dtype=np.int64)
        extra = (
            np.zeros((0, 3), np.float32) if extra is None else np.asarray(extra, np.float32).reshape(-1, 3)
        )
        if counts.sum() == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(extra, empty, empty, counts, empty, empty, np.zeros((0, 3)))
        points = np.concatenate(point_sets).astype(np.float32)
        owner = np.repeat(np.arange(len(counts)), counts)
        grid = np.floor(points.astype(np.float64) / cell).astype(np.int64)
        grid -= grid.min(axis=0)
        spans = grid.max(axis=0) + 1
        cube = (grid[:, 0] * spans[1] + grid[:, 1]) * spans[2] + grid[:, 2]
        rank = np.argsort(owner * int(np.prod(spans)) + cube, kind="stable")
        key = (owner * int(np.prod(spans)) + cube)[rank]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ordered = points[rank].astype(np.float64)
        low = np.minimum.reduceat(ordered, starts, axis=0) - MARGIN_M
        high = np.maximum.reduceat(ordered, starts, axis=0) + MARGIN_M
        corners = np.where(CORNER_SIGNS[None], high[:, None], low[:, None]).reshape(-1, 3)
        return cls(
            points=np.concatenate([points[rank], extra]),
            owner=owner[rank],
            counts=counts,
            starts=starts,
            sizes=np.diff(np.r_[starts, len(key)]),
            corners=corners,
        )

    @property
    def n_object_points(self) -> int:
        return len(self.owner)

    def select(self, world_to_cam: np.ndarray, camera: Camera, image_shape: tuple[int, int]) -> np.ndarray:
        """Indices into `points`: every object point of a cube that may be in view, in order, then all extra
        points. `image_shape` (H, W) is the depth image the kernel tests against, intrinsics from `camera`."""
        height, width = image_shape
        # Inside <=> every plane value >= 0 (z > 0; 0 <= u < width; 0 <= v < height, u = fx x / z + cx + 0.5).
        planes = np.array(
            [
                [0.0, 0.0, 1.0],
                [camera.fx, 0.0, camera.cx + 0.5],
                [-camera.fx, 0.0, width - camera.cx - 0.5],
                [0.0, camera.fy, camera.cy + 0.5],
                [0.0, -camera.fy, height - camera.cy - 0.5],
            ]
        )
        values = self.corners @ (planes @ world_to_cam[:3, :3]).T + planes @ world_to_cam[:3, 3]
        outside = (values.reshape(-1, 8, 5).max(axis=1) < 0).any(axis=1)
        keep = np.flatnonzero(~outside)
        sizes = self.sizes[keep]
        offsets = np.cumsum(sizes) - sizes
        objects = np.arange(int(sizes.sum())) + np.repeat(self.starts[keep] - offsets, sizes)
        return np.concatenate([objects, np.arange(self.n_object_points, len(self.points))])
