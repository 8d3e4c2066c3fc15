"""Points of objects known only by their annotated box (ARKitScenes): the mesh vertices inside the box.

A vertex inside several boxes belongs to the smallest of them (a chair pushed under a table keeps its own
vertices, the table keeps the rest); vertices within FLOOR_BAND_M of the floor never belong to a box (the floor
under a bed is not the bed). The box is tested with a small margin because annotated boxes are drawn on the
object's surface, where its vertices lie. See docs/sources.md "Objects known only by a box".
"""

from __future__ import annotations

import numpy as np

from sources.scene import OrientedBox

BOX_MARGIN_M = 0.02
FLOOR_BAND_M = 0.03


def box_owners(vertices: np.ndarray, boxes: list[OrientedBox], floor_z: float | None) -> np.ndarray:
    """(N,) position in `boxes` of the smallest box holding each vertex, -1 for none (or the floor band)."""
    owner = np.full(len(vertices), -1, dtype=np.int64)
    owner_volume = np.full(len(vertices), np.inf)
    eligible = np.ones(len(vertices), dtype=bool)
    if floor_z is not None:
        eligible = vertices[:, 2] > floor_z + FLOOR_BAND_M
    for k, box in enumerate(boxes):
        # a cheap axis-aligned prefilter (the box's world bounds) before the exact test
        reach = np.abs(box.rotation) @ (box.extent / 2) + BOX_MARGIN_M
        near = eligible & np.all(np.abs(vertices - box.center) <= reach, axis=1)
        candidates = np.flatnonzero(near)
        inside = candidates[box.contains(vertices[candidates], BOX_MARGIN_M)]
        smaller = inside[box.volume < owner_volume[inside]]
        owner[smaller] = k
        owner_volume[smaller] = box.volume
    return owner
