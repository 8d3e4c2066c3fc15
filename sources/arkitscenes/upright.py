"""ARKitScenes frames are stored as the phone held them; `sky_direction` says where the sky is in the stored
image. Turning it upright is a whole number of clockwise quarter turns (Left: 1, Down: 2, Right: 3), applied
alike to the pixels, the intrinsics and the camera axes, so a world point still projects onto the same content.

One clockwise quarter turn of a W x H image: stored pixel (u, v) -> (H - 1 - v, u); the new camera x axis is the
old -y, the new y axis the old x (pose_upright = pose_stored @ QUARTER_CW).
"""

from __future__ import annotations

import numpy as np

from sources.scene import Camera, SceneError

SKY_TURNS = {"Up": 0, "Left": 1, "Down": 2, "Right": 3}
QUARTER_CW = np.array([[0, 1, 0, 0], [-1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=np.float64)


def turns_for(sky: str) -> int:
    if sky not in SKY_TURNS:
        raise SceneError(f"unknown sky_direction {sky!r} (expected one of {', '.join(SKY_TURNS)})")
    return SKY_TURNS[sky]


def upright_image(image: np.ndarray, turns: int) -> np.ndarray:
    return np.ascontiguousarray(np.rot90(image, k=-turns)) if turns % 4 else image


def upright_camera(camera: Camera, turns: int) -> Camera:
    for _ in range(turns % 4):
        w, h = camera.width, camera.height
        camera = Camera(camera.fy, camera.fx, h - 1 - camera.cy, camera.cx, h, w)
    return camera


def upright_pose(pose: np.ndarray, turns: int) -> np.ndarray:
    return np.asarray(pose, dtype=np.float64) @ np.linalg.matrix_power(QUARTER_CW, turns % 4)


def stored_image(image: np.ndarray, turns: int) -> np.ndarray:
    """The inverse of `upright_image` (what the phone stored, given the upright picture)."""
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns % 4 else image


def stored_camera(camera: Camera, turns: int) -> Camera:
    return upright_camera(camera, (4 - turns % 4) % 4)


def stored_pose(pose: np.ndarray, turns: int) -> np.ndarray:
    return upright_pose(pose, (4 - turns % 4) % 4)
