"""Pure viewpoint geometry for the perspective-taking rules: camera-frame transforms, signed floor-plane angles
and direction bins.

Conventions (docs/taxonomy.md): world z up; camera OpenCV (x right, y down, z forward); poses camera-to-world.
Angles are degrees in (-180, 180]; positive = counter-clockwise seen from above = to the LEFT of the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def floor_angle(reference: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Signed angle (deg) from `reference` to `target` projected on the floor plane (xy); + = target to the left.
    Broadcasts over leading axes; extra components beyond x, y are ignored."""
    r = np.asarray(reference, dtype=np.float64)[..., :2]
    t = np.asarray(target, dtype=np.float64)[..., :2]
    cross = r[..., 0] * t[..., 1] - r[..., 1] * t[..., 0]
    dot = r[..., 0] * t[..., 0] + r[..., 1] * t[..., 1]
    return np.degrees(np.arctan2(cross, dot))


def horizontal_norm(vectors: np.ndarray) -> np.ndarray:
    """Length of the floor-plane (xy) part of vectors."""
    v = np.asarray(vectors, dtype=np.float64)
    return np.hypot(v[..., 0], v[..., 1])


def to_camera(pose: np.ndarray, points: np.ndarray) -> np.ndarray:
    """World points (..., 3) in the camera frame of a camera-to-world pose: R^T (p - t)."""
    return (np.asarray(points, dtype=np.float64) - pose[:3, 3]) @ pose[:3, :3]


def relative_translations(poses: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """(N, 3) translation from camera `first[k]` to camera `second[k]`, in the first camera's axes."""
    rot = poses[first, :3, :3]
    delta = poses[second, :3, 3] - poses[first, :3, 3]
    return np.einsum("nji,nj->ni", rot, delta)


MOTION_LABELS = (("right", "left"), ("down", "up"), ("forward", "backward"))  # (+, -) per camera axis x, y, z


def motion_direction(translation: np.ndarray, dominance: float, min_length: float) -> str | None:
    """Dominant direction of a camera-frame translation, or None when no axis dominates clearly: the largest
    component must be >= `dominance` x each other component and >= `min_length` metres."""
    return motion_directions(np.asarray(translation)[None, :], dominance, min_length)[0]


def motion_directions(translations: np.ndarray, dominance: float, min_length: float) -> list[str | None]:
    """motion_direction of every row of an (N, 3) array, in one numpy pass (camera_motion_direction asks two
    per frame pair)."""
    t = np.asarray(translations, dtype=np.float64)
    rows = np.arange(len(t))
    mag = np.abs(t)
    axis = np.argmax(mag, axis=1)
    top = mag[rows, axis]
    others = np.arange(3)[None, :] != axis[:, None]
    unclear = (top < min_length) | ((top[:, None] < dominance * mag) & others).any(axis=1)
    sign = (t[rows, axis] > 0).tolist()
    return [
        None if bad else MOTION_LABELS[a][0 if positive else 1]
        for bad, a, positive in zip(unclear.tolist(), axis.tolist(), sign, strict=True)
    ]


def circular_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest absolute difference (deg) between angles."""
    return np.abs((np.asarray(a, dtype=np.float64) - b + 180.0) % 360.0 - 180.0)


@dataclass(frozen=True)
class DirectionBins:
    """Sectors covering the circle: sector i spans [starts[i], starts[i+1]) counter-clockwise (deg)."""

    name: str
    labels: tuple[str, ...]
    starts: tuple[float, ...]

    def index(self, angle: np.ndarray) -> np.ndarray:
        offsets = (np.asarray(self.starts) - self.starts[0]) % 360.0
        a = (np.asarray(angle, dtype=np.float64) - self.starts[0]) % 360.0
        return np.searchsorted(offsets, a, side="right") - 1

    def label(self, angle: float) -> str:
        return self.labels[int(self.index(angle))]

    def boundary_distance(self, angle: np.ndarray) -> np.ndarray:
        """Distance (deg) from the angle to the nearest sector boundary."""
        a = np.asarray(angle, dtype=np.float64)[..., None]
        return circular_distance(a, np.asarray(self.starts)).min(axis=-1)


# Allocentric levels (docs/taxonomy.md, perspective-taking). Angle 0 = facing direction, + = left.
EASY = DirectionBins("easy", ("left", "right"), (0.0, 180.0))
MEDIUM = DirectionBins("medium", ("left", "back", "right"), (0.0, 135.0, 225.0))  # back = turn >= 135 deg
HARD = DirectionBins("hard", ("front", "left", "back", "right"), (-45.0, 45.0, 135.0, 225.0))
# VSI-Bench's "hard" level: the quadrants of a Cartesian plane with the viewer at the origin facing +y, split
# exactly at straight ahead / left / behind / right (0, 90, 180, 270 deg).
QUADRANT = DirectionBins(
    "quadrant", ("front-left", "back-left", "back-right", "front-right"), (0.0, 90.0, 180.0, 270.0)
)
FINE = DirectionBins(
    "fine",
    ("front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right"),
    tuple(-22.5 + 45.0 * k for k in range(8)),
)
ALLOCENTRIC_LEVELS = (EASY, MEDIUM, HARD, QUADRANT, FINE)

# Object relative to a camera: 90-degree sectors centred on the camera's floor-plane axes.
CAMERA_SECTORS = DirectionBins("camera", ("front", "left", "behind", "right"), (-45.0, 45.0, 135.0, 225.0))
