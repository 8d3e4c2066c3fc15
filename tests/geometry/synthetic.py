"""A synthetic scene whose answers are known by construction, rendered in memory (no files).

L-shaped room: floor = [0,6]x[0,3] + [0,3]x[3,6] (27 m2; convex hull 31.5 m2), walls 2.5 m along the outline.
Lower arm, seen from CAMERA_A = (0.5, 1.5, 1.2) looking +x:
  table (yaw 30 deg, 0.8 x 0.5 x 0.75) in front, unoccluded; a partition panel at x = 3, y in [0.5, 1.5];
  safe: fully behind the panel; cabinet: its y < 1.5 half behind the panel edge;
  shelf and bin: axis-aligned, 0.3 m apart in y (closest points), centres ~0.86 m apart.
Upper arm: plant at (2.0, 5.5), seen only from the upper arm (or by turning left at CAMERA_A).
Depth is raycast on demand by `RenderedStore` with its own ray code (independent of the module under test).
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
import open3d as o3d
import open3d.core as o3c

from sources.scene import Camera, FrameRef, ObjectAnnotation, Scene

DEPTH_CAMERA = Camera(fx=120.0, fy=120.0, cx=79.5, cy=59.5, width=160, height=120)
COLOR_CAMERA = Camera(fx=240.0, fy=240.0, cx=159.5, cy=119.5, width=320, height=240)  # same field of view
CAMERA_A = (0.5, 1.5, 1.2)
L_OUTLINE = [(0, 0), (6, 0), (6, 3), (3, 3), (3, 6), (0, 6)]
L_AREA, L_HULL_AREA = 27.0, 31.5

# label -> (centre, size, yaw degrees)
BOXES = {
    "table": ((2.0, 2.2, 0.375), (0.8, 0.5, 0.75), 30.0),
    "partition": ((3.0, 1.0, 1.0), (0.05, 1.0, 2.0), 0.0),
    "safe": ((4.5, 1.0, 0.3), (0.4, 0.4, 0.4), 0.0),
    "cabinet": ((4.5, 1.5, 0.5), (0.5, 0.5, 1.0), 0.0),
    "shelf": ((5.4, 0.3, 0.75), (0.8, 0.4, 1.5), 0.0),
    "bin": ((5.15, 0.95, 0.2), (0.3, 0.3, 0.4), 0.0),
    "plant": ((2.0, 5.5, 0.4), (0.4, 0.4, 0.8), 0.0),
}


def grid_quad(corner, u, v, step: float) -> tuple[np.ndarray, np.ndarray]:
    """A planar grid of vertices corner + a*u + b*v (a, b in [0, 1], edges included) and its triangles."""
    corner, u, v = (np.asarray(x, dtype=np.float64) for x in (corner, u, v))
    nu = max(1, math.ceil(np.linalg.norm(u) / step))
    nv = max(1, math.ceil(np.linalg.norm(v) / step))
    a, b = np.meshgrid(np.linspace(0, 1, nu + 1), np.linspace(0, 1, nv + 1), indexing="ij")
    vertices = corner + a.reshape(-1, 1) * u + b.reshape(-1, 1) * v
    idx = np.arange((nu + 1) * (nv + 1)).reshape(nu + 1, nv + 1)
    p, q, r, s = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    faces = np.concatenate([np.stack([p, q, r], 1), np.stack([p, r, s], 1)])
    return vertices, faces


def yaw_matrix(yaw_deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(yaw_deg)), math.sin(math.radians(yaw_deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def box_surface(center, size, yaw_deg: float = 0.0, step: float = 0.04) -> tuple[np.ndarray, np.ndarray]:
    """The six faces of a box as grids (vertices on every face, edges and corners included)."""
    half = np.asarray(size, dtype=np.float64) / 2
    parts = []
    for axis in range(3):
        u_axis, v_axis = [a for a in range(3) if a != axis]
        for sign in (-1, 1):
            corner = -half.copy()
            corner[axis] = sign * half[axis]
            u, v = np.zeros(3), np.zeros(3)
            u[u_axis], v[v_axis] = 2 * half[u_axis], 2 * half[v_axis]
            parts.append(grid_quad(corner, u, v, step))
    vertices, faces = merge(parts)
    return vertices @ yaw_matrix(yaw_deg).T + np.asarray(center), faces


def merge(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    return np.concatenate([v for v, _ in parts]), np.concatenate(
        [f + o for (_, f), o in zip(parts, offsets, strict=True)]
    )


def look_at(position, target) -> np.ndarray:
    """Camera-to-world with OpenCV axes (x right, y down, z forward), world z up."""
    eye = np.asarray(position, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, np.cross(forward, right), forward, eye
    return pose


def looking(position, direction) -> np.ndarray:
    return look_at(position, np.asarray(position) + np.asarray(direction, dtype=np.float64))


class RenderedStore:
    """FrameStore that raycasts the mesh for each requested frame; records which frames were decoded."""

    def __init__(
        self, vertices: np.ndarray, faces: np.ndarray, poses: dict[int, np.ndarray], empty: set[int]
    ) -> None:
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(o3c.Tensor(vertices.astype(np.float32)), o3c.Tensor(faces.astype(np.uint32)))
        self.poses, self.empty, self.decoded = poses, empty, []

    def depth(self, index: int) -> np.ndarray:
        self.decoded.append(index)
        cam = DEPTH_CAMERA
        if index in self.empty:
            return np.zeros((cam.height, cam.width), dtype=np.float32)
        pose = self.poses[index]
        v, u = np.mgrid[0 : cam.height, 0 : cam.width]
        rays_cam = np.stack([(u - cam.cx) / cam.fx, (v - cam.cy) / cam.fy, np.ones(u.shape)], axis=-1)
        directions = rays_cam @ pose[:3, :3].T  # camera z component 1: t_hit is the z-depth
        rays = np.concatenate([np.broadcast_to(pose[:3, 3], directions.shape), directions], axis=-1)
        t_hit = self.scene.cast_rays(o3c.Tensor(rays.astype(np.float32)))["t_hit"].numpy()
        return np.where(np.isfinite(t_hit), t_hit, 0).astype(np.float32)

    def color_jpeg(self, index: int) -> bytes:
        return blank_jpeg(COLOR_CAMERA.width, COLOR_CAMERA.height)


@functools.lru_cache(maxsize=4)
def blank_jpeg(width: int, height: int) -> bytes:
    """A whole JPEG of the colour camera's size (the geometry stage checks every kept frame's colour image)."""
    return cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))[1].tobytes()


DEFAULT_POSES = [
    looking(CAMERA_A, (1, 0, 0)),  # 0: A, sees table, cabinet (half), panel
    looking(CAMERA_A, (1, 0, 0)),  # 1: the same pose
    looking(CAMERA_A, (-1, 0, 0)),  # 2: facing the opposite way (the wall at x = 0)
    looking(CAMERA_A, (1, 0, 0)),  # 3: its depth is empty
    looking((1.5, 3.5, 1.2), (0, 1, 0)),  # 4: upper arm, sees the plant
]


def make_scene(
    boxes: dict | None = None,
    poses: list[np.ndarray] | None = None,
    empty: set[int] | None = None,
    scene_id: str = "scene0000_00",
) -> Scene:
    boxes = BOXES if boxes is None else boxes
    poses = DEFAULT_POSES if poses is None else poses
    empty = {3} if empty is None else empty
    parts, instances, annotations = [], [], []

    def add(part: tuple[np.ndarray, np.ndarray], instance_id: int, label: str) -> None:
        parts.append(part)
        instances.append(np.full(len(part[0]), instance_id, dtype=np.int32))
        annotations.append(ObjectAnnotation(instance_id=instance_id, label=label, raw_label=label))

    floor = merge(
        [grid_quad((0, 0, 0), (6, 0, 0), (0, 3, 0), 0.1), grid_quad((0, 3, 0), (3, 0, 0), (0, 3, 0), 0.1)]
    )
    add(floor, 1, "floor")
    corners = L_OUTLINE + [L_OUTLINE[0]]
    walls = [
        grid_quad((*a, 0), (b[0] - a[0], b[1] - a[1], 0), (0, 0, 2.5), 0.1)
        for a, b in zip(corners[:-1], corners[1:], strict=True)
    ]
    add(merge(walls), 2, "wall")
    for k, (label, (center, size, yaw)) in enumerate(boxes.items()):
        add(box_surface(center, size, yaw), 10 + k, label)
    vertices, faces = merge(parts)
    vertex_instance = np.concatenate(instances)
    frames = [FrameRef(index=i, timestamp=0.5 * i, pose=pose) for i, pose in enumerate(poses)]
    store = RenderedStore(vertices, faces, dict(enumerate(poses)), empty)
    return Scene(
        source="synthetic",
        scene_id=scene_id,
        vertices=vertices.astype(np.float32),
        faces=faces.astype(np.int32),
        vertex_instance=vertex_instance,
        objects=annotations,
        frames=frames,
        depth_camera=DEPTH_CAMERA,
        color_camera=COLOR_CAMERA,
        store=store,
        floor_vertex_mask=vertex_instance == 1,
    )
