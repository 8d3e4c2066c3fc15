"""`lowres_wide.traj` (one pose a line: `ts rx ry rz tx ty tz`, axis-angle radians and metres, world-to-camera)
and the toolkit's matching of frames to poses by timestamp."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sources.scene import SceneError

POSE_TOLERANCE_S = 0.005  # the toolkit's: a frame takes the pose within 5 ms of its timestamp
INTRINSIC_TOLERANCE_S = 0.0015  # and the .pincam within ~1 ms (names carry 3 decimals)


def camera_to_world(rvec: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Invert the world-to-camera axis-angle pose."""
    rotation, _ = cv2.Rodrigues(np.asarray(rvec, dtype=np.float64).reshape(3, 1))
    pose = np.eye(4)
    pose[:3, :3] = rotation.T
    pose[:3, 3] = -rotation.T @ np.asarray(t, dtype=np.float64)
    return pose


def read_traj(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps (T,), camera-to-world poses (T, 4, 4)), sorted by time; SceneError on a malformed line."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as exc:
        raise SceneError(f"{Path(path).name}: unreadable ({exc})") from exc
    stamps, poses = [], []
    for number, line in enumerate(lines, 1):
        words = line.split()
        if not words:
            continue
        try:
            values = [float(w) for w in words]
        except ValueError:
            values = []
        if len(values) != 7 or not np.all(np.isfinite(values)):
            raise SceneError(
                f"{Path(path).name} line {number}: expected 'ts rx ry rz tx ty tz', got {line[:60]!r}"
            )
        stamps.append(values[0])
        poses.append(camera_to_world(values[1:4], values[4:7]))
    if not stamps:
        raise SceneError(f"{Path(path).name}: no pose")
    order = np.argsort(stamps, kind="stable")
    return np.asarray(stamps)[order], np.stack(poses)[order]


def nearest(stamps: np.ndarray, t: float, tolerance: float) -> int | None:
    """Position of the sorted timestamp nearest to t, when within tolerance."""
    if len(stamps) == 0:
        return None
    i = int(np.searchsorted(stamps, t))
    best = min((j for j in (i - 1, i) if 0 <= j < len(stamps)), key=lambda j: abs(stamps[j] - t))
    return best if abs(stamps[best] - t) <= tolerance else None


def frame_stamp(name: str, video_id: str) -> float | None:
    """Timestamp of `<video>_<ts>.png` (or .pincam), None for another file."""
    stem = name.rsplit(".", 1)[0]
    prefix = f"{video_id}_"
    if not stem.startswith(prefix):
        return None
    try:
        return float(stem[len(prefix) :])
    except ValueError:
        return None


def read_pincam(path: Path) -> tuple[int, int, float, float, float, float]:
    """`w h fx fy cx cy` of one frame."""
    try:
        values = [float(v) for v in Path(path).read_text().split()]
    except (OSError, ValueError) as exc:
        raise SceneError(f"{Path(path).name}: unreadable intrinsics ({exc})") from exc
    if len(values) != 6:
        raise SceneError(f"{Path(path).name}: expected 'w h fx fy cx cy'")
    w, h, fx, fy, cx, cy = values
    return int(w), int(h), fx, fy, cx, cy
