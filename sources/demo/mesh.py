"""The demo room as one triangle mesh: subdivided boxes for objects, gridded floor and walls.

Vertex density is chosen so the whole mesh has about the requested vertex count (objects twice as dense as floor
and walls); every box face is at least 2 x 2 cells, so every object has >= 54 vertices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import Polygon
from shapely import box as shapely_box

from .placement import Placed
from .rooms import Room


@dataclass(frozen=True)
class Entity:
    """Something the mesh contains: a furniture object, the floor or a wall."""

    raw_label: str
    annotated: bool
    center: tuple[float, float, float]  # aligned-frame oriented box
    size: tuple[float, float, float]
    yaw: float
    mount: str  # floor | wall | on | structure
    parent: int | None = None  # entity index of the object this one stands on


@dataclass
class SceneMesh:
    vertices: np.ndarray  # (N, 3) float64, aligned frame
    faces: np.ndarray  # (M, 3) int32
    colors: np.ndarray  # (N, 3) uint8
    entity: np.ndarray  # (N,) int32 index into `entities`
    segment: np.ndarray  # (N,) int64 segment id (arbitrary, non-contiguous)
    entities: list[Entity]


@dataclass
class _Grid:
    """A planar patch origin + i*u/nu + j*v/nv, i <= nu, j <= nv; u x v is its outward normal."""

    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    nu: int
    nv: int


def _cells(length: float, step: float, minimum: int) -> int:
    return max(minimum, math.ceil(length / step - 1e-9))


def _at_least(nu: int, nv: int, vertices: int = 50) -> tuple[int, int]:
    """Refine a coarse patch until it has `vertices` vertices (walls and floor are objects too)."""
    while (nu + 1) * (nv + 1) < vertices:
        nu, nv = (nu + 1, nv) if nu <= nv else (nu, nv + 1)
    return nu, nv


def _box_grids(center: np.ndarray, size: np.ndarray, step: float) -> list[_Grid]:
    n = [_cells(float(s), step, 2) for s in size]
    half = size / 2
    grids = []
    for axis in range(3):
        a, b = (axis + 1) % 3, (axis + 2) % 3  # (a, b, axis) is right-handed, so ea x eb = e_axis
        ea, eb = np.eye(3)[a] * size[a], np.eye(3)[b] * size[b]
        for sign in (1.0, -1.0):
            origin = center - half
            origin = origin + np.eye(3)[axis] * (size[axis] if sign > 0 else 0.0)
            if sign > 0:
                grids.append(_Grid(origin, ea, eb, n[a], n[b]))
            else:  # swap u, v so the normal points outward
                grids.append(_Grid(origin, eb, ea, n[b], n[a]))
    return grids


def _grid_mesh(g: _Grid) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.meshgrid(np.arange(g.nu + 1) / g.nu, np.arange(g.nv + 1) / g.nv, indexing="ij")
    verts = g.origin + i.reshape(-1, 1) * g.u + j.reshape(-1, 1) * g.v
    idx = np.arange((g.nu + 1) * (g.nv + 1)).reshape(g.nu + 1, g.nv + 1)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    tris = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return verts, tris


def _floor_rects(polygon: Polygon) -> list[tuple[float, float, float, float]]:
    """Axis-aligned rectangles tiling an orthogonal floor polygon (one per x-slab)."""
    xs = sorted({round(x, 9) for x, _ in polygon.exterior.coords})
    _, y0, _, y1 = polygon.bounds
    rects = []
    for xa, xb in zip(xs[:-1], xs[1:], strict=False):
        part = polygon.intersection(shapely_box(xa, y0, xb, y1))
        if part.area > 1e-9:
            rects.append(part.bounds)
    return rects


def _structure_grids(room: Room, step: float) -> list[tuple[str, _Grid]]:
    grids = []
    for x0, y0, x1, y1 in _floor_rects(room.polygon):
        nu, nv = _at_least(_cells(x1 - x0, step, 1), _cells(y1 - y0, step, 1))
        grids.append(
            (
                "floor",
                _Grid(
                    np.array([x0, y0, 0.0]), np.array([x1 - x0, 0, 0]), np.array([0, y1 - y0, 0.0]), nu, nv
                ),
            )
        )
    coords = np.asarray(room.polygon.exterior.coords)[:-1]
    for k in range(len(coords)):
        a, b = coords[k], coords[(k + 1) % len(coords)]
        length = float(np.linalg.norm(b - a))
        # u along the wall, v down: u x v points into the room for a counter-clockwise outline
        origin = np.array([a[0], a[1], room.height])
        u, v = np.array([b[0] - a[0], b[1] - a[1], 0.0]), np.array([0, 0, -room.height])
        nu, nv = _at_least(_cells(length, step, 1), _cells(room.height, step, 1))
        grids.append((f"wall{k}", _Grid(origin, u, v, nu, nv)))
    return grids


def _object_parts(obj: Placed) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(p.center, dtype=float), np.array(p.size, dtype=float)) for p in obj.shape.parts]


def _count(room: Room, step: float) -> int:
    total = 0
    for obj in room.objects:
        for _, size in _object_parts(obj):
            na, nb, nc = (_cells(float(s), step / math.sqrt(2), 2) for s in size)
            total += 2 * ((na + 1) * (nb + 1) + (na + 1) * (nc + 1) + (nb + 1) * (nc + 1))
    for _, g in _structure_grids(room, step):
        total += (g.nu + 1) * (g.nv + 1)
    return total


def _step_for(room: Room, vertices: int) -> float:
    lo, hi = 0.005, 5.0  # count(step) decreases with step
    for _ in range(40):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if _count(room, mid) > vertices else (lo, mid)
    return hi


def _split(values: np.ndarray, parts: int) -> np.ndarray:
    """Split into `parts` groups of (nearly) equal size along sorted `values` (contiguous slabs)."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(len(values))
    return rank * parts // max(len(values), 1)


def _noisy(color: tuple[int, int, int], n: int, rng: np.random.Generator, amp: float = 8.0) -> np.ndarray:
    """Per-vertex colour noise, as in a real scan's texture."""
    return np.clip(np.asarray(color, dtype=float) + rng.normal(0, amp, (n, 3)), 0, 255)


def build_mesh(room: Room, vertices: int, rng: np.random.Generator) -> SceneMesh:
    step = _step_for(room, vertices)
    verts, tris, colors, entity, segment = [], [], [], [], []
    entities: list[Entity] = []
    offset = 0
    next_segment = 0

    def emit(pieces: list[tuple[np.ndarray, np.ndarray]], color: np.ndarray, local_seg: np.ndarray) -> None:
        nonlocal offset, next_segment
        n = sum(len(p[0]) for p in pieces)
        for v, t in pieces:
            verts.append(v)
            tris.append(t + offset)
            offset += len(v)
        colors.append(color)
        entity.append(np.full(n, len(entities), dtype=np.int32))
        segment.append(local_seg + next_segment)
        next_segment += int(local_seg.max()) + 1

    for obj in room.objects:
        pieces = [_grid_mesh(g) for c, s in _object_parts(obj) for g in _box_grids(c, s, step / math.sqrt(2))]
        local = np.concatenate([v for v, _ in pieces])
        pieces = [(obj.local_to_world(v), t) for v, t in pieces]
        lo, hi = obj.shape.bounds()
        longest = int(np.argmax(hi - lo))
        emit(
            pieces,
            _noisy(obj.shape.color, len(local), rng),
            _split(local[:, longest], min(4, 2 + len(local) // 400)),
        )
        center, size, yaw = obj.box()
        parent = obj.parent
        entities.append(
            Entity(obj.shape.raw_label, obj.annotated, _t(center), _t(size), yaw, obj.mount, parent)
        )

    grids = _structure_grids(room, step)
    floor = [_grid_mesh(g) for name, g in grids if name == "floor"]
    fv = np.concatenate([v for v, _ in floor])
    tile = (np.floor(fv[:, 0] / 0.6) + np.floor(fv[:, 1] / 0.6)) % 2  # tiles give the colour images texture
    color = np.where(tile[:, None] > 0, [150.0, 120.0, 90.0], [175.0, 145.0, 110.0])
    cell = np.floor(fv[:, 0] / 1.5) * 1000 + np.floor(fv[:, 1] / 1.5)
    emit(
        floor,
        np.clip(color + rng.normal(0, 5, color.shape), 0, 255),
        np.unique(cell, return_inverse=True)[1].ravel(),
    )
    entities.append(_structure_entity("floor", fv, room))

    wall_color = np.array([200.0, 195.0, 185.0]) + rng.uniform(-20, 20, 3)
    for name, g in grids:
        if name == "floor":
            continue
        v, t = _grid_mesh(g)
        along = np.linalg.norm(v[:, :2] - g.origin[:2], axis=1)
        color = wall_color + rng.uniform(-10, 10, 3) + rng.normal(0, 4, (len(v), 3))
        emit([(v, t)], np.clip(color, 0, 255), (along // 1.5).astype(np.int64))
        entities.append(_structure_entity("wall", v, room))

    all_v = np.concatenate(verts)
    all_t = np.concatenate(tris).astype(np.int32)
    all_seg = np.concatenate(segment)
    # real meshes do not list vertices object by object, and segment ids are arbitrary integers
    perm = rng.permutation(len(all_v))
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    seg_ids = np.sort(rng.choice(20 * len(all_v), size=next_segment, replace=False))
    return SceneMesh(
        vertices=all_v[perm],
        faces=inverse[all_t].astype(np.int32),
        colors=np.concatenate(colors)[perm].round().astype(np.uint8),
        entity=np.concatenate(entity)[perm],
        segment=seg_ids[all_seg][perm],
        entities=entities,
    )


def _t(a: np.ndarray) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))


def _structure_entity(name: str, v: np.ndarray, room: Room) -> Entity:
    lo, hi = v.min(0), v.max(0)
    if name == "floor":
        return Entity("floor", True, _t((lo + hi) / 2), _t(hi - lo), 0.0, "structure")
    # a wall is a vertical rectangle: its box has zero thickness along the wall normal
    d = v[:, :2] - v[0, :2]
    far = v[int(np.argmax(np.linalg.norm(d, axis=1))), :2] - v[0, :2]
    yaw = math.atan2(far[1], far[0])
    length = float(np.linalg.norm(far))
    return Entity("wall", True, _t((lo + hi) / 2), (length, 0.0, room.height), yaw, "structure")
