"""Box annotations of the demo's objects, as ScanNet++ `obb` and ARKitScenes `obbAligned` write them:
`normalizedAxes` holds the three unit box axes one after the other (the readers' `reshape(3, 3).T` makes them
columns again)."""

from __future__ import annotations

import math

import numpy as np

from .mesh import Entity


def entity_rotation(ent: Entity) -> np.ndarray:
    """(3, 3) columns = the entity's box axes (local x, y at its yaw; z up)."""
    c, s = math.cos(ent.yaw), math.sin(ent.yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def obb_json(ent: Entity) -> dict:
    rotation = entity_rotation(ent)
    center, size = np.asarray(ent.center), np.asarray(ent.size)
    corners = (
        center
        + (np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * size / 2) @ rotation.T
    )
    return {
        "centroid": [round(float(v), 6) for v in center],
        "axesLengths": [round(float(v), 6) for v in size],
        "normalizedAxes": [round(float(v), 8) for v in rotation.T.reshape(-1)],
        "min": [round(float(v), 6) for v in corners.min(0)],
        "max": [round(float(v), 6) for v in corners.max(0)],
    }
