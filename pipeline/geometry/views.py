"""Virtual (turned) views for hypothetical rotation: the mesh raycast from a frame's position after a yaw turn.

A turn of +yaw degrees rotates the camera about the world z axis at its position (+ = left, counter-clockwise
seen from above); the pitch is kept. The view uses the depth intrinsics scaled to `virtual_view_size`, and the
same visibility rule as real frames, with the rendered depth as the depth map.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.geometry.culling import CulledCloud
from pipeline.geometry.device import Backend
from pipeline.geometry.frames import uniform_positions
from pipeline.geometry.projection import compare_depth, project, world_to_camera
from pipeline.geometry.visibility import PointOwners, summarise
from schemas.facts import FrameFacts
from sources.open3d_import import open3d
from sources.scene import Camera

TURNS_DEG = (90, -90, 180)

ViewList = list[tuple[int, float, float]]


def turned_pose(pose: np.ndarray, yaw_deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    turned = np.array(pose, dtype=np.float64)
    turned[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ turned[:3, :3]
    return turned


def pinhole_rays(pose: np.ndarray, camera: Camera, pixels: np.ndarray | None = None) -> np.ndarray:
    """(H, W, 6) float32 rays, one through each pixel centre, or (K, 6) for the row-major `pixels` only;
    directions have camera z = 1, so t_hit is depth. Elementwise, so a pixel's ray is the same in either form."""
    if pixels is None:
        rows, cols = np.divmod(np.arange(camera.width * camera.height), camera.width)
    else:
        rows, cols = np.divmod(pixels, camera.width)
    dx, dy = (cols - camera.cx) / camera.fx, (rows - camera.cy) / camera.fy
    rotation = pose[:3, :3]
    rays = np.empty((len(rows), 6), dtype=np.float32)
    rays[:, :3] = pose[:3, 3]
    for axis in range(3):
        rays[:, 3 + axis] = rotation[axis, 0] * dx + rotation[axis, 1] * dy + rotation[axis, 2]
    return rays.reshape(camera.height, camera.width, 6) if pixels is None else rays


class MeshRaycaster:
    """The scene mesh in an Embree BVH (Open3D, CPU), built once per scene."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, threads: int = 0) -> None:
        o3d = open3d()
        o3c = o3d.core

        self.o3c = o3c
        self.threads = max(threads, 0)
        self.scene = o3d.t.geometry.RaycastingScene(nthreads=self.threads)
        self.scene.add_triangles(
            o3c.Tensor(np.ascontiguousarray(vertices, dtype=np.float32)),
            o3c.Tensor(np.ascontiguousarray(faces, dtype=np.uint32)),
        )

    def cast(self, rays: np.ndarray) -> dict:
        """Open3D's hit record (t_hit, primitive_ids, primitive_uvs, ...) for (K, 6) float32 rays."""
        return self.scene.cast_rays(
            self.o3c.Tensor(np.ascontiguousarray(rays, np.float32)), nthreads=self.threads
        )

    def depth(self, pose: np.ndarray, camera: Camera, pixels: np.ndarray | None = None) -> np.ndarray:
        """(H, W) float32 z-depth of the mesh seen from `pose`; 0 where a ray hits nothing. With `pixels`
        (row-major indices), only those are cast and every other pixel is 0."""
        hits = self.cast(pinhole_rays(pose, camera, pixels))
        t_hit = hits["t_hit"].numpy().reshape(-1)
        depth = np.zeros(camera.height * camera.width, dtype=np.float32)
        cast = slice(None) if pixels is None else pixels
        depth[cast] = np.where(np.isfinite(t_hit), t_hit, 0.0)
        return depth.reshape(camera.height, camera.width)


def virtual_views(
    raycaster: MeshRaycaster,
    frames: list[FrameFacts],
    camera: Camera,
    max_views: int,
    backend: Backend,
    points: Any,
    cloud: CulledCloud,
) -> dict[int, dict[int, ViewList]]:
    """{frame position: {yaw: [(object position, visible fraction, distance of its visible centre from the image
    centre in normalised units)]}} for visible objects, in object order. `points` is `cloud.points` as a backend
    array; only the cloud's object points are projected, cubes outside the turned view skipped."""
    n_object_points = cloud.n_object_points
    views: dict[int, dict[int, ViewList]] = {}
    for position in uniform_positions(len(frames), max_views) if max_views > 0 else []:
        views[int(position)] = {}
        for yaw in TURNS_DEG:
            pose = turned_pose(frames[position].pose, yaw)
            world_to_cam = world_to_camera(pose)
            selected = cloud.select(world_to_cam, camera, (camera.height, camera.width))
            selected = selected[selected < n_object_points]
            image_points = project(
                backend, backend.take(points, selected), world_to_cam, camera, (camera.height, camera.width)
            )
            # Cast only the rays of pixels some point lands in (~45 % on ScanNet-scale scenes): no other depth
            # is ever read.
            needed = np.zeros(camera.height * camera.width, dtype=bool)
            needed[backend.to_numpy(image_points.pixel)[backend.to_numpy(image_points.in_frustum)]] = True
            depth = raycaster.depth(pose, camera, np.flatnonzero(needed))
            projection = compare_depth(backend, image_points, depth)
            summary = summarise(
                PointOwners(np.take(cloud.owner, selected), cloud.counts),
                projection.hit,
                projection.in_frustum,
                projection.cam,
                camera,
                full=False,
            )
            off_centre = np.linalg.norm(summary.mean_uv - 0.5, axis=1)
            views[int(position)][yaw] = [
                (int(o), float(summary.visible_fraction[o]), float(off_centre[o]))
                for o in np.flatnonzero(summary.visible)
            ]
    return views
