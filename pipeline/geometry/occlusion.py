"""Occlusion by another object, decided per point by a raycast against the instance-labelled mesh.

A point is hidden by another object when the depth map does not see it (no hit) and the first surface on the
ray from the camera centre to it lies in front of it by more than the depth tolerance AND belongs to another
object (docs/geometry.md "Occlusion"). Points the depth map sees are in plain sight and are not cast.
The hit's owner is the object of the hit triangle's nearest vertex (largest barycentric weight), so a
triangle that bridges two instances on a real scan splits between them where it should. The ray goes through
the point itself, not through a pixel centre: no image grid, no splatting, no point density enters the answer
(the 64x48 grid this replaces let a bed's nearer points own whole cells, so a pillow lying on it, fully in
view, counted as partly hidden). A surface that belongs to no annotated object (-1) counts as another object:
what it hides is not in plain sight either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.geometry.projection import DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL
from schemas.facts import ObjectFacts
from sources.scene import Scene

if TYPE_CHECKING:  # views imports frames, which uses this module
    from pipeline.geometry.views import MeshRaycaster

NOT_AN_OBJECT = -1
RAY_TILE = 0.01  # normalised image units (~6 px of a ScanNet depth image) per tile of the cast order


def vertex_owners(scene: Scene, objects: list[ObjectFacts]) -> np.ndarray:
    """(N,) position in `objects` of each mesh vertex's instance; NOT_AN_OBJECT for unannotated vertices."""
    ids = np.array([o.instance_id for o in objects], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    instance = scene.vertex_instance.astype(np.int64)
    at = np.clip(np.searchsorted(ids[order], instance), 0, max(len(ids) - 1, 0))
    found = (ids[order][at] == instance) if len(ids) else np.zeros(len(instance), dtype=bool)
    return np.where(found, order[at] if len(ids) else 0, NOT_AN_OBJECT).astype(np.int64)


def tile_order(tile_row: np.ndarray, tile_col: np.ndarray) -> np.ndarray:
    """The stable order of (row, col) tiles, row-major. A frame's tiles span ~120 x 160, so the key of the
    tile's rank in its frame's bounding grid fits 16 bits, and numpy sorts 16-bit keys stably by radix: 4-5x
    faster than the comparison sort of 64-bit keys, and the same order (the rank is monotone in (row, col))."""
    if len(tile_row) == 0:
        return np.zeros(0, dtype=np.int64)
    row = tile_row - tile_row.min()
    col = tile_col - tile_col.min()
    key = row * (int(col.max()) + 1) + col
    if int(key.max()) < 2**16:
        key = key.astype(np.uint16)
    return np.argsort(key, kind="stable")


class SurfaceOwners:
    """The mesh in Embree plus the owner of every vertex; answers "is this point hidden by another object?"."""

    def __init__(self, raycaster: MeshRaycaster, faces: np.ndarray, owners: np.ndarray) -> None:
        self.raycaster = raycaster
        self.faces = np.ascontiguousarray(faces, dtype=np.int64)
        self.owners = owners

    def hidden_by_other(
        self, origin: np.ndarray, points: np.ndarray, owner: np.ndarray, cam: np.ndarray
    ) -> np.ndarray:
        """(K,) bool for world `points` (K, 3) of objects `owner`, at camera coordinates `cam` (K, 3), seen
        from `origin`."""
        if len(points) == 0:
            return np.zeros(0, dtype=bool)
        # Cast in image-tile order: neighbouring rays walk the same BVH nodes, which halves Embree's time
        # against the cloud's object-by-object order. Each ray's hit does not depend on the order.
        z = np.asarray(cam[:, 2], dtype=np.float64)
        tile_row = np.floor(cam[:, 1] / (z * RAY_TILE)).astype(np.int64)
        tile_col = np.floor(cam[:, 0] / (z * RAY_TILE)).astype(np.int64)
        order = tile_order(tile_row, tile_col)
        rays = np.empty((len(points), 6), dtype=np.float32)
        rays[:, :3] = origin
        rays[:, 3:] = points[order] - np.asarray(origin, dtype=np.float32)  # t = 1 at the point
        hits = self.raycaster.cast(rays)
        t = hits["t_hit"].numpy()
        z = z[order]
        tolerance = np.maximum(DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL * z)
        in_front = np.isfinite(t) & (t * z < z - tolerance)
        hidden = np.zeros(len(points), dtype=bool)
        rows = np.flatnonzero(in_front)
        if len(rows) == 0:
            return hidden
        triangle = hits["primitive_ids"].numpy()[rows].astype(np.int64)
        u, v = hits["primitive_uvs"].numpy()[rows].T
        corner = np.argmax(np.stack([1.0 - u - v, u, v], axis=1), axis=1)
        hit_owner = self.owners[self.faces[triangle, corner]]
        hidden[order[rows]] = hit_owner != owner[order[rows]]
        return hidden
