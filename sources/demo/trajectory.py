"""The demo camera walk: a smooth closed loop through the room's free floor, looking around.

The loop follows the boundary of the free floor (room minus furniture, with clearance), smoothed; the camera looks
mostly into the room (left of the walking direction on a counter-clockwise loop) with a sweeping yaw and a slight
downward pitch, so objects come into view progressively and consecutive frames overlap.
"""

from __future__ import annotations

import math

import numpy as np
from shapely import MultiPolygon, Polygon
from shapely.geometry.polygon import orient
from shapely.ops import polylabel, unary_union

from .rooms import Room


def _free_region(room: Room, wall_clear: float, object_clear: float) -> Polygon | None:
    blocked = [o.footprint().buffer(object_clear) for o in room.objects if o.mount == "floor"]
    free = room.polygon.buffer(-wall_clear, join_style="mitre")
    if blocked:
        free = free.difference(unary_union(blocked))
    free = free.buffer(-0.25).buffer(0.25)  # drop narrow necks and bays
    parts = list(free.geoms) if isinstance(free, MultiPolygon) else [free]
    parts = [p for p in parts if isinstance(p, Polygon) and not p.is_empty]
    if not parts:
        return None
    best = max(parts, key=lambda p: p.area)
    return best if best.area > 0.5 else None


def _loop(room: Room) -> np.ndarray:
    for wall_clear, object_clear in ((0.6, 0.5), (0.5, 0.35), (0.4, 0.25)):
        region = _free_region(room, wall_clear, object_clear)
        if region is not None:
            return np.asarray(orient(region, 1.0).exterior.coords)[:-1]
    centre = polylabel(room.polygon, tolerance=0.05)  # last resort: a small circle in the open middle
    ang = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    return np.stack([centre.x + 0.4 * np.cos(ang), centre.y + 0.4 * np.sin(ang)], 1)


def _resample(points: np.ndarray, n: int) -> np.ndarray:
    closed = np.vstack([points, points[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.arange(n) * arc[-1] / n
    return np.stack([np.interp(s, arc, closed[:, 0]), np.interp(s, arc, closed[:, 1])], 1)


def _smooth(points: np.ndarray, sigma: float) -> np.ndarray:
    """Circular Gaussian smoothing of a closed polyline sampled evenly (sigma in samples)."""
    radius = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.vstack([points[-radius:], points, points[:radius]])
    return np.stack([np.convolve(padded[:, i], k, mode="valid") for i in range(2)], 1)


def look_rotation(yaw: float, pitch: float) -> np.ndarray:
    """Camera-to-world rotation, OpenCV axes: x right, y down, z forward; pitch > 0 looks down."""
    forward = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), -math.sin(pitch)])
    right = np.array([math.sin(yaw), -math.cos(yaw), 0.0])
    down = np.cross(forward, right)
    return np.stack([right, down, forward], 1)


def camera_walk(room: Room, frames: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`frames` camera-to-world poses (4x4, aligned frame) along a closed loop."""
    dense = _resample(_loop(room), 512)
    length = float(np.linalg.norm(np.diff(np.vstack([dense, dense[:1]]), axis=0), axis=1).sum())
    dense = _smooth(dense, sigma=max(1.0, 0.3 / (length / 512)))
    path = _resample(dense, frames)
    ahead = _resample(dense, frames * 8)  # tangent from a finer sampling
    phase, phase_h = rng.uniform(0, 2 * np.pi, 2)
    sweep, cycles = rng.uniform(0.9, 1.2), int(rng.integers(2, 4))
    poses = []
    for k in range(frames):
        t = k / frames
        a, b = ahead[(8 * k - 1) % len(ahead)], ahead[(8 * k + 1) % len(ahead)]
        heading = math.atan2(b[1] - a[1], b[0] - a[0])
        yaw = heading + math.pi / 2 + sweep * math.sin(2 * math.pi * cycles * t + phase)
        pitch = math.radians(17) + math.radians(6) * math.sin(2 * math.pi * 3 * t)
        height = 1.45 + 0.12 * math.sin(2 * math.pi * t + phase_h)
        pose = np.eye(4)
        pose[:3, :3] = look_rotation(yaw, pitch)
        pose[:3, 3] = [path[k, 0], path[k, 1], height]
        poses.append(pose)
    return poses
