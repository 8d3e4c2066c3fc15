"""Depth and colour images of the demo mesh by ray casting (Open3D RaycastingScene, CPU).

Depth is the z-distance along the optical axis (the ray of pixel (u, v) has camera-frame direction
((u - cx) / fx, (v - cy) / fy, 1), so the hit parameter is the depth). Colour is the hit triangle's colour with
simple (fixed-light) shading; large colour images are cast at a reduced size and resized, which keeps a ScanNet-scale scene fast.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from sources.open3d_import import open3d
from sources.scene import Camera

from .mesh import SceneMesh

o3d = open3d()

HFOV_DEG = 62.0
MAX_COLOR_RAYS = 160_000  # colour is flat-shaded faces: casting at ~1/2 size and resizing loses little
LIGHT = np.array([0.3, 0.5, 1.0]) / np.linalg.norm([0.3, 0.5, 1.0])
BACKGROUND = np.array([40.0, 40.0, 45.0])  # RGB where no surface is hit (no ceiling)


def demo_camera(width: int, height: int) -> Camera:
    """A pinhole camera of the demo's horizontal field of view at this resolution."""
    f = (width / 2) / math.tan(math.radians(HFOV_DEG) / 2)
    return Camera(f, f, (width - 1) / 2, (height - 1) / 2, width, height)


def matrix4(cam: Camera) -> np.ndarray:
    """The 4x4 intrinsic matrix ScanNet's intrinsic_*.txt files hold."""
    m = np.eye(4)
    m[:3, :3] = cam.matrix
    return m


def ray_directions(cam: Camera) -> np.ndarray:
    """(H, W, 3) camera-frame ray directions with z = 1."""
    u, v = np.meshgrid(np.arange(cam.width), np.arange(cam.height))
    return np.stack([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, np.ones(u.shape)], -1)


class Renderer:
    def __init__(self, mesh: SceneMesh, nthreads: int = 0):
        self.nthreads = nthreads
        self.scene = o3d.t.geometry.RaycastingScene(nthreads=nthreads)
        self.scene.add_triangles(
            o3d.core.Tensor(mesh.vertices.astype(np.float32)), o3d.core.Tensor(mesh.faces.astype(np.uint32))
        )
        # shading depends only on the face (a fixed light), so each face's final colour is one table row;
        # the last row is the background for rays that hit nothing (there is no ceiling)
        tri = mesh.vertices[mesh.faces]
        normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        shade = 0.45 + 0.55 * np.abs(normal @ LIGHT)
        rgb = mesh.colors[mesh.faces].astype(np.float64).mean(1) * shade[:, None]
        table = np.vstack([rgb, BACKGROUND])[:, ::-1]
        self.bgr_table = np.clip(np.round(table), 0, 255).astype(np.uint8)
        self.background = len(mesh.faces)
        self._dirs: dict[Camera, np.ndarray] = {}

    def _cast(self, cam: Camera, pose: np.ndarray) -> dict[str, o3d.core.Tensor]:
        if cam not in self._dirs:  # [direction, 1] per pixel, so one matrix product builds all rays
            dirs = ray_directions(cam).reshape(-1, 3)
            self._dirs[cam] = np.hstack([dirs, np.ones((len(dirs), 1))]).astype(np.float32)
        to_rays = np.zeros((4, 6), dtype=np.float32)
        to_rays[:3, 3:] = pose[:3, :3].T
        to_rays[3, :3] = pose[:3, 3]
        rays = (self._dirs[cam] @ to_rays).reshape(cam.height, cam.width, 6)
        return self.scene.cast_rays(o3d.core.Tensor.from_numpy(rays), nthreads=self.nthreads)

    def depth_mm(self, cam: Camera, pose: np.ndarray) -> np.ndarray:
        """uint16 millimetres, 0 where no surface is hit."""
        depth = self._cast(cam, pose)["t_hit"].numpy() * np.float32(1000.0)
        depth[~np.isfinite(depth)] = 0.0
        return np.clip(np.rint(depth), 0, 65535).astype(np.uint16)

    def color_bgr(self, cam: Camera, pose: np.ndarray) -> np.ndarray:
        scale = min(1.0, math.sqrt(MAX_COLOR_RAYS / (cam.width * cam.height)))
        small = (
            cam.scaled_to(max(1, round(cam.width * scale)), max(1, round(cam.height * scale)))
            if scale < 1.0
            else cam
        )
        prim = self._cast(small, pose)["primitive_ids"].numpy()
        bgr = self.bgr_table[np.minimum(prim, self.background)]  # a miss is INVALID_ID (max uint32)
        if small is not cam:
            bgr = cv2.resize(bgr, (cam.width, cam.height), interpolation=cv2.INTER_LINEAR)
        return bgr
