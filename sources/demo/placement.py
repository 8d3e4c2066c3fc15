"""Collision-free placement of demo furniture in a room: against walls, free-standing, on walls, on other objects.

Objects are treated as prisms (rotated footprint x [zmin, zmax]); two prisms collide when both the footprints and
the height ranges overlap. Every random choice comes from the placer's generator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from shapely import Polygon
from shapely.geometry import Point
from shapely.ops import polylabel

from .catalog import WALL_MOUNT_Z, Shape, make_shape

GAP = 0.02  # between an object's back and the wall, so faces never coincide


@dataclass
class Placed:
    shape: Shape
    x: float  # footprint centre, aligned frame
    y: float
    z: float  # base height
    yaw: float  # rotation of the local x axis about +z
    mount: str  # floor | wall | on
    parent: int | None = None
    annotated: bool = True

    def local_to_world(self, pts: np.ndarray) -> np.ndarray:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        out = np.empty_like(pts, dtype=np.float64)
        out[:, 0] = self.x + c * pts[:, 0] - s * pts[:, 1]
        out[:, 1] = self.y + s * pts[:, 0] + c * pts[:, 1]
        out[:, 2] = self.z + pts[:, 2]
        return out

    def box(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Oriented box in the aligned frame: centre, size (local x, y, z extents), yaw."""
        lo, hi = self.shape.bounds()
        center = self.local_to_world(((lo + hi) / 2)[None])[0]
        return center, hi - lo, self.yaw

    def footprint(self, grow: float = 0.0) -> Polygon:
        lo, hi = self.shape.bounds()
        corners = np.array([[lo[0], lo[1], 0], [hi[0], lo[1], 0], [hi[0], hi[1], 0], [lo[0], hi[1], 0]])
        poly = Polygon(self.local_to_world(corners)[:, :2])
        return poly.buffer(grow, join_style="mitre") if grow else poly

    @property
    def zrange(self) -> tuple[float, float]:
        lo, hi = self.shape.bounds()
        return self.z + float(lo[2]), self.z + float(hi[2])


@dataclass
class Solid:
    poly: Polygon
    zmin: float
    zmax: float
    owner: int  # object index, -1 for keep-out zones


Size = tuple[float, float, float]


@dataclass
class Member:
    """A companion placed relative to a group's anchor: `offset(anchor size, member size)` is its centre in the
    anchor's local frame, `dyaw` its yaw relative to the anchor."""

    kind: str
    offset: Callable[[Size, Size], tuple[float, float]]
    dyaw: float = 0.0
    required: bool = False


class Placer:
    def __init__(self, polygon: Polygon, height: float, rng: np.random.Generator):
        self.room = polygon
        self.inner = polygon.buffer(-1e-6)
        self.height = height
        self.rng = rng
        self.objects: list[Placed] = []
        self.solids: list[Solid] = []
        coords = np.asarray(polygon.exterior.coords)[:-1]
        self.walls = [(coords[i], coords[(i + 1) % len(coords)]) for i in range(len(coords))]
        # keep the middle of the room open so the camera walk has room
        centre = polylabel(polygon, tolerance=0.05)
        self.solids.append(Solid(Point(centre.x, centre.y).buffer(0.5), 0.0, 3.5, -1))

    # --- checks -------------------------------------------------------------------------------------------------
    def fits(self, obj: Placed, ignore: tuple[int, ...] = (), extra: list[Solid] | None = None) -> bool:
        poly = obj.footprint()
        if not self.room.buffer(1e-6).contains(poly):
            return False
        zmin, zmax = obj.zrange
        if zmax > self.height - 0.05:
            return False
        grown = poly.buffer(0.03)
        for s in self.solids + (extra or []):
            if s.owner in ignore or zmin >= s.zmax - 1e-4 or zmax <= s.zmin + 1e-4:
                continue
            if grown.intersects(s.poly) and grown.intersection(s.poly).area > 1e-6:
                return False
        return True

    def add(self, obj: Placed) -> int:
        idx = len(self.objects)
        self.objects.append(obj)
        zmin, zmax = obj.zrange
        self.solids.append(Solid(obj.footprint(), zmin, zmax, idx))
        return idx

    def keep_out(self, poly: Polygon, zmin: float, zmax: float) -> None:
        self.solids.append(Solid(poly, zmin, zmax, -1))

    # --- poses --------------------------------------------------------------------------------------------------
    def _wall_pose(self, shape: Shape, z: float, mount: str, loose: bool = False) -> Placed | None:
        """Back against a random wall; `loose` leaves a random gap and turns it a little (clutter by a wall)."""
        w, d, _ = shape.size
        lengths = np.array([np.linalg.norm(b - a) for a, b in self.walls])
        usable = np.clip(lengths - w - 0.1, 0, None)
        if usable.sum() <= 0:
            return None
        i = int(self.rng.choice(len(self.walls), p=usable / usable.sum()))
        a, b = self.walls[i]
        t = (b - a) / lengths[i]
        n = np.array([-t[1], t[0]])  # interior is on the left of a counter-clockwise ring
        s = self.rng.uniform(w / 2 + 0.05, lengths[i] - w / 2 - 0.05)
        gap = GAP + (self.rng.uniform(0.0, 0.4) if loose else 0.0)
        turn = self.rng.uniform(-0.6, 0.6) if loose else 0.0
        c = a + t * s + n * (d / 2 + gap + (w / 2) * abs(math.sin(turn)))
        return Placed(shape, float(c[0]), float(c[1]), z, math.atan2(n[0], -n[1]) + turn, mount)

    def _free_pose(self, shape: Shape, any_yaw: bool) -> Placed:
        x0, y0, x1, y1 = self.room.bounds
        yaw = self.rng.uniform(-math.pi, math.pi) if any_yaw else self.rng.integers(4) * math.pi / 2
        yaw += 0.0 if any_yaw else self.rng.uniform(-0.15, 0.15)
        return Placed(shape, self.rng.uniform(x0, x1), self.rng.uniform(y0, y1), 0.0, float(yaw), "floor")

    # --- placement ----------------------------------------------------------------------------------------------
    def against_wall(self, kind: str, tries: int = 60, members: tuple[Member, ...] = ()) -> int | None:
        return self._group(make_shape(kind, self.rng), "wall", members, tries)

    def by_wall(self, kind: str, tries: int = 60) -> int | None:
        """Small clutter near a wall, slightly turned, leaving the middle of the room walkable."""
        return self._group(make_shape(kind, self.rng), "loose", (), tries)

    def free(
        self, kind: str, tries: int = 60, members: tuple[Member, ...] = (), any_yaw: bool = False
    ) -> int | None:
        return self._group(make_shape(kind, self.rng), "free", members, tries, any_yaw)

    def on_wall(self, kind: str, tries: int = 60) -> int | None:
        shape = make_shape(kind, self.rng)
        lo, hi = WALL_MOUNT_Z[kind]
        for _ in range(tries):
            obj = self._wall_pose(shape, self.rng.uniform(lo, hi), "wall")
            if obj is not None and self.fits(obj):
                idx = self.add(obj)
                if kind in ("door", "doors"):  # keep the floor in front of a door clear
                    w, d, h = shape.size
                    x0, x1, y0, y1 = -w / 2 - 0.1, w / 2 + 0.1, -d / 2 - 1.0, d / 2
                    zone = obj.local_to_world(np.array([[x0, y0, 0], [x1, y0, 0], [x1, y1, 0], [x0, y1, 0]]))
                    self.keep_out(Polygon(zone[:, :2]), 0.0, h)
                return idx
        return None

    def on_top(self, parent: int, kind: str, prefer_back: bool = False, tries: int = 30) -> int | None:
        base = self.objects[parent]
        sup = base.shape.support
        if sup is None:
            return None
        shape = make_shape(kind, self.rng)
        w, d, _ = shape.size
        if w > sup.xmax - sup.xmin or d > sup.ymax - sup.ymin:
            return None
        for _ in range(tries):
            lx = self.rng.uniform(sup.xmin + w / 2, sup.xmax - w / 2)
            ylo, yhi = sup.ymin + d / 2, sup.ymax - d / 2
            ly = self.rng.uniform(ylo + 0.6 * (yhi - ylo), yhi) if prefer_back else self.rng.uniform(ylo, yhi)
            cx, cy, _ = base.local_to_world(np.array([[lx, ly, 0.0]]))[0]
            obj = Placed(shape, float(cx), float(cy), base.z + sup.z, base.yaw, "on", parent)
            if self.fits(obj, ignore=(parent,)):
                return self.add(obj)
        return None

    def _group(self, shape: Shape, mode: str, members: tuple[Member, ...], tries: int, any_yaw: bool = False):
        for _ in range(tries):
            if mode == "free":
                anchor = self._free_pose(shape, any_yaw)
            else:
                anchor = self._wall_pose(shape, 0.0, "floor", loose=mode == "loose")
            if anchor is None or not self.fits(anchor):
                continue
            accepted: list[Placed] = []
            extra = [Solid(anchor.footprint(), *anchor.zrange, -2)]
            ok = True
            for m in members:
                obj = self._member(anchor, m)
                if self.fits(obj, extra=extra):
                    accepted.append(obj)
                    extra.append(Solid(obj.footprint(), *obj.zrange, -2))
                elif m.required:
                    ok = False
                    break
            if ok:
                idx = self.add(anchor)
                for obj in accepted:
                    self.add(obj)
                return idx
        return None

    def _member(self, anchor: Placed, m: Member) -> Placed:
        shape = make_shape(m.kind, self.rng)
        dx, dy = m.offset(anchor.shape.size, shape.size)
        cx, cy, _ = anchor.local_to_world(np.array([[dx, dy, 0.0]]))[0]
        return Placed(shape, float(cx), float(cy), 0.0, anchor.yaw + m.dyaw, "floor")
