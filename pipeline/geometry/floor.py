"""Floor height, room footprint and the free-floor grid.

Footprint = alpha shape of the floor-projected scene points: Delaunay triangles of the xy points (thinned to one
point per FOOTPRINT_THIN_M cell) whose circumradius is below ALPHA_RADIUS_M, unioned; the largest piece is the
room, holes filled (unscanned floor under furniture is still floor). Unlike the convex hull it follows an
L-shaped room's inner corner; gaps in the scan narrower than 2 * ALPHA_RADIUS_M are bridged.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy import ndimage
from scipy.spatial import Delaunay, QhullError
from shapely.geometry import Polygon

from schemas.facts import FreeSpace

FLOOR_PERCENTILE = (
    2.0  # floor height without floor labels: a low percentile, robust to points below the floor
)
MIN_FLOOR_VERTICES = 100
ALPHA_RADIUS_M = 0.5
FOOTPRINT_THIN_M = 0.05
OBSTACLE_MIN_M = 0.05  # points between these heights above the floor block walking
OBSTACLE_MAX_M = 1.8


def floor_height(vertices: np.ndarray, floor_mask: np.ndarray | None) -> float | None:
    if len(vertices) == 0:
        return None
    if floor_mask is not None and int(floor_mask.sum()) >= MIN_FLOOR_VERTICES:
        return float(np.median(vertices[floor_mask, 2]))
    return float(np.percentile(vertices[:, 2], FLOOR_PERCENTILE))


def thin_xy(xy: np.ndarray, cell: float) -> np.ndarray:
    """One (the first) point per grid cell: uniform density, bounded count, exact boundary positions."""
    keys = np.floor(xy / cell).astype(np.int64)
    keys -= keys.min(axis=0)
    flat = keys[:, 0] * (keys[:, 1].max() + 1) + keys[:, 1]
    _, first = np.unique(flat, return_index=True)
    return xy[np.sort(first)].astype(np.float64)


def alpha_shape(xy: np.ndarray, alpha_radius: float) -> Polygon | None:
    """Largest piece of the alpha shape of 2D points, holes filled; None when degenerate."""
    if len(xy) < 3:
        return None
    try:
        triangles = xy[Delaunay(xy).simplices]  # (T, 3, 2)
    except QhullError:
        return None
    a = np.linalg.norm(triangles[:, 1] - triangles[:, 2], axis=1)
    b = np.linalg.norm(triangles[:, 0] - triangles[:, 2], axis=1)
    c = np.linalg.norm(triangles[:, 0] - triangles[:, 1], axis=1)
    e1, e2 = triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    area = np.abs(e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]) / 2
    keep = area > 1e-12
    keep[keep] = a[keep] * b[keep] * c[keep] / (4 * area[keep]) < alpha_radius
    if not keep.any():
        return None
    union = shapely.coverage_union_all(
        shapely.polygons(triangles[keep])
    )  # Delaunay triangles tile: no overlaps
    pieces = list(getattr(union, "geoms", [union]))
    largest = max(pieces, key=lambda p: p.area)
    return Polygon(largest.exterior)


def room_footprint(vertices: np.ndarray) -> Polygon | None:
    if len(vertices) < 3:
        return None
    return alpha_shape(thin_xy(vertices[:, :2].astype(np.float64), FOOTPRINT_THIN_M), ALPHA_RADIUS_M)


def free_space(footprint: Polygon, vertices: np.ndarray, floor_z: float, cell: float) -> FreeSpace:
    """Cells inside the footprint and not under (or next to) any scene point at body height.

    All scene vertices count as obstacles, not only annotated objects: unannotated clutter blocks a walk too.
    """
    min_x, min_y, max_x, max_y = footprint.bounds
    origin = np.array([np.floor(min_x / cell) * cell, np.floor(min_y / cell) * cell])
    width = int(np.ceil((max_x - origin[0]) / cell)) + 1
    height = int(np.ceil((max_y - origin[1]) / cell)) + 1
    rows, cols = np.mgrid[0:height, 0:width]
    inside = shapely.contains_xy(footprint, origin[0] + (cols + 0.5) * cell, origin[1] + (rows + 0.5) * cell)
    z = vertices[:, 2]
    body = vertices[(z > floor_z + OBSTACLE_MIN_M) & (z < floor_z + OBSTACLE_MAX_M)]
    blocked = np.zeros((height, width), dtype=bool)
    if len(body):
        col = np.floor((body[:, 0] - origin[0]) / cell).astype(np.int64)
        row = np.floor((body[:, 1] - origin[1]) / cell).astype(np.int64)
        ok = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        blocked[row[ok], col[ok]] = True
        blocked = ndimage.binary_dilation(
            blocked, structure=np.ones((3, 3), dtype=bool)
        )  # one cell of clearance
    return FreeSpace(free=inside & ~blocked, origin=origin, cell=float(cell))
