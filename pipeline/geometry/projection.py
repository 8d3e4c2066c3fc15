"""The projection and depth-test kernel (docs/taxonomy.md, visibility), one body for the CPU and the CUDA backend.

Pixel convention is OpenCV's (ScanNet intrinsics): pixel (i, j) is centred at integer coordinates, so a point
lands in pixel round(u); normalised image coordinates are (u + 0.5) / width, in [0, 1] over the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.geometry.device import Backend
from sources.scene import Camera

DEPTH_TOLERANCE_M = 0.05  # |z_point - z_depth| <= max(0.05 m, 5 % of depth)
DEPTH_TOLERANCE_REL = 0.05


@dataclass
class Projection:
    """Per-point result of projecting into one depth image (numpy, whatever the backend)."""

    cam: np.ndarray  # (N, 3) camera-frame coordinates
    in_frustum: np.ndarray  # (N,) bool: z > 0 and inside the depth image
    hit: np.ndarray  # (N,) bool: in frustum, depth measured there and within tolerance


@dataclass
class ImagePoints:
    """The first half of the kernel, in backend arrays: where each point lands in an (H, W) image."""

    cam: Any  # (N, 3) camera-frame coordinates
    in_frustum: Any  # (N,) bool
    pixel: Any  # (N,) int64 row-major pixel index, clipped into the image (meaningful where in_frustum)
    shape: tuple[int, int]


def project(
    backend: Backend, points: Any, world_to_cam: np.ndarray, camera: Camera, shape: tuple[int, int]
) -> ImagePoints:
    """Project `points` (a backend array, (N, 3) float32) with `camera` into an image of `shape` (H, W)."""
    height, width = shape
    rotation_t = backend.asarray(world_to_cam[:3, :3].T.astype(np.float32))
    translation = backend.asarray(world_to_cam[:3, 3].astype(np.float32))

    cam = points @ rotation_t + translation
    x, y, z = cam[:, 0], cam[:, 1], cam[:, 2]
    z_safe = z.clip(1e-6, 1e30)  # points behind the camera get garbage pixels, masked out below
    col = backend.floor_index(x * (camera.fx / z_safe) + (camera.cx + 0.5))
    row = backend.floor_index(y * (camera.fy / z_safe) + (camera.cy + 0.5))
    in_frustum = (z > 0) & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    return ImagePoints(
        cam, in_frustum, row.clip(0, height - 1) * width + col.clip(0, width - 1), (height, width)
    )


def compare_depth(backend: Backend, image_points: ImagePoints, depth: np.ndarray) -> Projection:
    """The second half: compare each point's z with `depth` (H, W) at its pixel."""
    assert depth.shape == image_points.shape, (depth.shape, image_points.shape)
    depth_flat = backend.asarray(depth.astype(np.float32, copy=False).reshape(-1))
    z = image_points.cam[:, 2]
    measured = depth_flat[image_points.pixel]
    tolerance = (measured * DEPTH_TOLERANCE_REL).clip(DEPTH_TOLERANCE_M, 1e30)
    hit = image_points.in_frustum & (measured > 0) & (backend.abs(z - measured) <= tolerance)
    return Projection(
        backend.to_numpy(image_points.cam), backend.to_numpy(image_points.in_frustum), backend.to_numpy(hit)
    )


def depth_test(
    backend: Backend, points: Any, world_to_cam: np.ndarray, camera: Camera, depth: np.ndarray
) -> Projection:
    """Project `points` (a backend array, (N, 3) float32) with `camera` and test them against `depth` (H, W)."""
    return compare_depth(backend, project(backend, points, world_to_cam, camera, depth.shape), depth)


def normalised_uv(cam: np.ndarray, camera: Camera) -> np.ndarray:
    """(N, 2) image coordinates normalised to [0, 1] of `camera`'s image; nan for points not in front."""
    z = cam[:, 2]
    uv = np.empty((len(cam), 2), dtype=np.result_type(cam.dtype, np.float32))
    with np.errstate(divide="ignore", invalid="ignore"):
        uv[:, 0] = (camera.fx * cam[:, 0] / z + camera.cx + 0.5) / camera.width
        uv[:, 1] = (camera.fy * cam[:, 1] / z + camera.cy + 0.5) / camera.height
    behind = z <= 0
    if behind.any():
        uv[behind] = np.nan
    return uv


def world_to_camera(pose: np.ndarray) -> np.ndarray:
    """Inverse of a rigid camera-to-world pose."""
    inverse = np.eye(4)
    rotation = pose[:3, :3]
    inverse[:3, :3] = rotation.T
    inverse[:3, 3] = -rotation.T @ pose[:3, 3]
    return inverse
