"""Furniture of the demo: each kind is a few boxes in an object-local frame, with realistic ScanNet-like sizes.

Local frame: the footprint's bounding box is centred on the origin, z = 0 is the object's base, the front faces -y
and the back (+y) goes against a wall or a parent's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    center: tuple[float, float, float]
    size: tuple[float, float, float]


@dataclass(frozen=True)
class Support:
    """A horizontal surface others can stand on, in the local frame."""

    z: float
    xmin: float
    xmax: float
    ymin: float
    ymax: float


@dataclass(frozen=True)
class Shape:
    raw_label: str
    parts: tuple[Box, ...]
    color: tuple[int, int, int]
    support: Support | None = None

    @property
    def size(self) -> tuple[float, float, float]:
        lo, hi = self.bounds()
        return tuple(float(v) for v in hi - lo)  # type: ignore[return-value]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        centers = np.array([p.center for p in self.parts])
        half = np.array([p.size for p in self.parts]) / 2
        return (centers - half).min(0), (centers + half).max(0)


Rng = np.random.Generator

PALETTES: dict[str, list[tuple[int, int, int]]] = {
    "wood": [(150, 105, 60), (120, 80, 45), (185, 140, 90), (95, 65, 40)],
    "white": [(225, 225, 218), (240, 236, 228), (205, 208, 212)],
    "fabric": [(70, 90, 140), (140, 60, 60), (90, 120, 80), (160, 150, 130), (60, 60, 70)],
    "dark": [(40, 40, 45), (25, 25, 30), (60, 60, 65)],
    "metal": [(160, 165, 170), (120, 125, 130)],
    "green": [(50, 130, 50), (70, 150, 60)],
    "bright": [(220, 180, 40), (40, 160, 200), (200, 80, 120), (240, 140, 40)],
    "glass": [(150, 200, 230), (170, 210, 235)],
}


def box(x: float, y: float, z0: float, w: float, d: float, h: float) -> Box:
    """A box with footprint centre (x, y), bottom at z0."""
    return Box((x, y, z0 + h / 2), (w, d, h))


def _top(w: float, d: float, h: float, inset: float = 0.03) -> Support:
    return Support(h, -w / 2 + inset, w / 2 - inset, -d / 2 + inset, d / 2 - inset)


def _bed(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, top, hb = (
        rng.uniform(1.0, 1.8),
        rng.uniform(1.95, 2.15),
        rng.uniform(0.45, 0.55),
        rng.uniform(0.9, 1.2),
    )
    parts = [box(0, -0.04, 0, w, d - 0.08, top), box(0, d / 2 - 0.04, 0, w, 0.08, hb)]
    return parts, Support(top, -w / 2 + 0.05, w / 2 - 0.05, -d / 2 + 0.05, d / 2 - 0.13)


def _legged_top(w: float, d: float, h: float, leg: float = 0.06) -> list[Box]:
    parts = [box(0, 0, h - 0.04, w, d, 0.04)]
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(box(sx * (w / 2 - leg), sy * (d / 2 - leg), 0, leg, leg, h - 0.04))
    return parts


def _table(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, h = rng.uniform(1.2, 1.8), rng.uniform(0.75, 1.0), rng.uniform(0.72, 0.78)
    return _legged_top(w, d, h), _top(w, d, h)


def _coffee_table(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, h = rng.uniform(0.9, 1.2), rng.uniform(0.5, 0.65), rng.uniform(0.4, 0.48)
    return _legged_top(w, d, h, 0.05), _top(w, d, h)


def _desk(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, h = rng.uniform(1.2, 1.6), rng.uniform(0.6, 0.8), rng.uniform(0.72, 0.76)
    side = h - 0.03
    parts = [
        box(0, 0, side, w, d, 0.03),
        box(-w / 2 + 0.015, 0, 0, 0.03, d, side),
        box(w / 2 - 0.015, 0, 0, 0.03, d, side),
        box(0, d / 2 - 0.03, 0.3, w - 0.06, 0.02, side - 0.3),
    ]
    return parts, _top(w, d, h)


def _chair(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, h = rng.uniform(0.42, 0.5), rng.uniform(0.45, 0.52), rng.uniform(0.8, 0.95)
    parts = [
        box(sx * (w / 2 - 0.02), sy * (d / 2 - 0.02), 0, 0.04, 0.04, 0.43) for sx in (-1, 1) for sy in (-1, 1)
    ]
    parts += [box(0, 0, 0.43, w, d, 0.04), box(0, d / 2 - 0.02, 0.47, w, 0.04, h - 0.47)]
    return parts, None


def _office_chair(rng: Rng) -> tuple[list[Box], Support | None]:
    back = rng.uniform(0.5, 0.65)
    parts = [
        box(0, 0, 0, 0.62, 0.06, 0.06),
        box(0, 0, 0, 0.06, 0.62, 0.06),
        box(0, 0, 0.06, 0.05, 0.05, 0.38),
        box(0, 0, 0.44, 0.5, 0.5, 0.08),
        box(0, 0.22, 0.55, 0.46, 0.06, back),
    ]
    return parts, None


def _seating(
    w: float, d: float, h: float, seat: float = 0.42, arm: float = 0.15
) -> tuple[list[Box], Support]:
    back = 0.2
    parts = [
        box(0, -back / 2, 0, w - 2 * arm, d - back, seat),
        box(0, d / 2 - back / 2, 0, w, back, h),
        box(-w / 2 + arm / 2, -back / 2, 0, arm, d - back, 0.62),
        box(w / 2 - arm / 2, -back / 2, 0, arm, d - back, 0.62),
    ]
    return parts, Support(seat, -w / 2 + arm + 0.02, w / 2 - arm - 0.02, -d / 2 + 0.05, d / 2 - back - 0.02)


def _couch(rng: Rng) -> tuple[list[Box], Support | None]:
    return _seating(rng.uniform(1.8, 2.4), rng.uniform(0.85, 1.0), rng.uniform(0.8, 0.95))


def _armchair(rng: Rng) -> tuple[list[Box], Support | None]:
    return _seating(rng.uniform(0.8, 0.95), rng.uniform(0.8, 0.9), rng.uniform(0.8, 0.95))


def _plain(wr: tuple[float, float], dr: tuple[float, float], hr: tuple[float, float], support: bool = False):
    def make(rng: Rng) -> tuple[list[Box], Support | None]:
        w, d, h = rng.uniform(*wr), rng.uniform(*dr), rng.uniform(*hr)
        return [box(0, 0, 0, w, d, h)], (_top(w, d, h) if support else None)

    return make


def _cabinet(rng: Rng) -> tuple[list[Box], Support | None]:
    tall = rng.random() < 0.4
    w, d = rng.uniform(0.6, 1.2), rng.uniform(0.4, 0.6)
    h = rng.uniform(1.8, 2.1) if tall else rng.uniform(0.8, 1.0)
    return [box(0, 0, 0, w, d, h)], (None if tall else _top(w, d, h))


def _counter(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, h = rng.uniform(1.5, 2.5), 0.62, 0.92
    return [box(0, 0.02, 0, w, d - 0.04, h - 0.04), box(0, 0, h - 0.04, w, d, 0.04)], _top(w, d, h)


def _shelving(wr: tuple[float, float], dr: tuple[float, float], hr: tuple[float, float], boards: int):
    def make(rng: Rng) -> tuple[list[Box], Support | None]:
        w, d, h = rng.uniform(*wr), rng.uniform(*dr), rng.uniform(*hr)
        parts = [box(0, d / 2 - 0.01, 0, w - 0.04, 0.02, h), box(-w / 2 + 0.01, 0, 0, 0.02, d, h)]
        parts.append(box(w / 2 - 0.01, 0, 0, 0.02, d, h))
        for z in np.linspace(0.0, h - 0.02, boards):
            parts.append(box(0, -0.01, float(z), w - 0.04, d - 0.02, 0.02))
        return parts, _top(w, d, h)

    return make


def _screen(w: float, h: float, base: tuple[float, float], neck: float, thick: float) -> list[Box]:
    return [
        box(0, 0, 0, base[0], base[1], 0.02),
        box(0, 0, 0.02, 0.05, 0.03, neck),
        box(0, 0, 0.02 + neck, w, thick, h),
    ]


def _tv(rng: Rng) -> tuple[list[Box], Support | None]:
    return _screen(rng.uniform(0.9, 1.3), rng.uniform(0.55, 0.75), (0.35, 0.2), 0.08, 0.06), None


def _monitor(rng: Rng) -> tuple[list[Box], Support | None]:
    return _screen(rng.uniform(0.45, 0.6), rng.uniform(0.3, 0.36), (0.22, 0.16), 0.1, 0.04), None


def _lamp(rng: Rng) -> tuple[list[Box], Support | None]:
    floor = rng.random() < 0.5
    h = rng.uniform(1.4, 1.7) if floor else rng.uniform(0.4, 0.6)
    base, shade = (0.3, 0.4) if floor else (0.16, 0.28)
    parts = [
        box(0, 0, 0, base, base, 0.03),
        box(0, 0, 0.03, 0.03, 0.03, h - 0.25),
        box(0, 0, h - 0.22, shade, shade, 0.22),
    ]
    return parts, None


def _plant(rng: Rng) -> tuple[list[Box], Support | None]:
    pot, leaves = rng.uniform(0.25, 0.35), rng.uniform(0.4, 0.6)
    return [box(0, 0, 0, pot, pot, 0.3), box(0, 0, 0.3, leaves, leaves, rng.uniform(0.4, 0.9))], None


def _toilet(rng: Rng) -> tuple[list[Box], Support | None]:
    return [box(0, -0.1, 0, 0.38, 0.5, 0.42), box(0, 0.25, 0, 0.45, 0.2, rng.uniform(0.75, 0.82))], None


def _sink(rng: Rng) -> tuple[list[Box], Support | None]:
    # a pedestal sink; on a kitchen counter the layout uses only the basin (`_basin`)
    w, d = rng.uniform(0.5, 0.6), rng.uniform(0.42, 0.5)
    return [box(0, 0.05, 0, 0.2, 0.2, 0.7), box(0, 0, 0.7, w, d, 0.18)], None


def _basin(rng: Rng) -> tuple[list[Box], Support | None]:
    return [box(0, 0, 0, rng.uniform(0.45, 0.6), rng.uniform(0.38, 0.45), 0.12)], None


def _bathtub(rng: Rng) -> tuple[list[Box], Support | None]:
    w, d, h, t = rng.uniform(1.5, 1.75), rng.uniform(0.7, 0.8), rng.uniform(0.5, 0.6), 0.08
    parts = [
        box(0, 0, 0, w, d, t),
        box(0, -d / 2 + t / 2, t, w, t, h - t),
        box(0, d / 2 - t / 2, t, w, t, h - t),
    ]
    parts += [box(-w / 2 + t / 2, 0, t, t, d - 2 * t, h - t), box(w / 2 - t / 2, 0, t, t, d - 2 * t, h - t)]
    return parts, None


KIND_BUILDERS: dict[str, Callable[[Rng], tuple[list[Box], Support | None]]] = {
    "bed": _bed,
    "table": _table,
    "coffee table": _coffee_table,
    "desk": _desk,
    "chair": _chair,
    "office chair": _office_chair,
    "couch": _couch,
    "armchair": _armchair,
    "cabinet": _cabinet,
    "kitchen cabinets": _plain((1.2, 2.4), (0.58, 0.62), (0.86, 0.92), support=True),
    "kitchen counter": _counter,
    "refrigerator": _plain((0.6, 0.8), (0.65, 0.75), (1.7, 1.9)),
    "bookshelf": _shelving((0.8, 1.2), (0.3, 0.4), (1.6, 2.1), 5),
    "shelf": _shelving((0.6, 1.0), (0.28, 0.35), (0.8, 1.1), 3),
    "nightstand": _plain((0.4, 0.55), (0.35, 0.45), (0.5, 0.65), support=True),
    "dresser": _plain((0.9, 1.4), (0.45, 0.55), (0.75, 1.0), support=True),
    "tv stand": _plain((1.2, 1.8), (0.4, 0.5), (0.45, 0.6), support=True),
    "tv": _tv,
    "monitor": _monitor,
    "keyboard": _plain((0.42, 0.46), (0.13, 0.16), (0.025, 0.035)),
    "microwave": _plain((0.45, 0.55), (0.35, 0.4), (0.27, 0.32)),
    "lamp": _lamp,
    "plant": _plant,
    "trash can": _plain((0.25, 0.35), (0.25, 0.35), (0.35, 0.6)),
    "backpack": _plain((0.28, 0.35), (0.15, 0.22), (0.4, 0.5)),
    "box": _plain((0.25, 0.6), (0.25, 0.5), (0.15, 0.45)),
    "pillow": _plain((0.45, 0.65), (0.3, 0.4), (0.12, 0.18)),
    "pillows": _plain((0.4, 0.5), (0.35, 0.45), (0.12, 0.18)),
    "toilet": _toilet,
    "sink": _sink,
    "basin": _basin,
    "bathtub": _bathtub,
    "door": _plain((0.8, 0.95), (0.05, 0.05), (2.0, 2.1)),
    "doors": _plain((1.4, 1.7), (0.05, 0.05), (2.0, 2.1)),
    "window": _plain((0.9, 1.6), (0.06, 0.06), (1.0, 1.4)),
    "picture": _plain((0.35, 1.0), (0.03, 0.03), (0.3, 0.8)),
    "whiteboard": _plain((1.2, 2.0), (0.03, 0.03), (0.9, 1.2)),
    "mirror": _plain((0.5, 0.9), (0.03, 0.03), (0.6, 0.9)),
    "towel": _plain((0.4, 0.6), (0.04, 0.04), (0.6, 0.9)),
}

KIND_PALETTE = {
    "bed": "fabric", "table": "wood", "coffee table": "wood", "desk": "wood", "chair": "wood",
    "office chair": "dark", "couch": "fabric", "armchair": "fabric", "cabinet": "wood", "kitchen cabinets": "white",
    "kitchen counter": "white", "refrigerator": "metal", "bookshelf": "wood", "shelf": "wood", "nightstand": "wood",
    "dresser": "wood", "tv stand": "dark", "tv": "dark", "monitor": "dark", "keyboard": "dark", "microwave": "metal",
    "lamp": "bright", "plant": "green", "trash can": "metal", "backpack": "bright", "box": "wood", "pillow": "bright",
    "pillows": "bright", "toilet": "white", "sink": "white", "basin": "white", "bathtub": "white", "door": "wood",
    "doors": "wood", "window": "glass", "picture": "bright", "whiteboard": "white", "mirror": "glass", "towel": "bright",
}  # fmt: skip

# the raw label written for a kind whose name is only a construction variant
RAW_LABEL = {"basin": "sink"}

# base height of wall-mounted kinds: (low, high) of the bottom edge above the floor
WALL_MOUNT_Z = {
    "door": (0.0, 0.0),
    "doors": (0.0, 0.0),
    "window": (0.8, 1.0),
    "picture": (1.0, 1.4),
    "whiteboard": (0.85, 1.0),
    "mirror": (1.05, 1.25),
    "towel": (0.8, 1.1),
}


def make_shape(kind: str, rng: Rng) -> Shape:
    parts, support = KIND_BUILDERS[kind](rng)
    palette = PALETTES[KIND_PALETTE[kind]]
    base = np.array(palette[int(rng.integers(len(palette)))], dtype=float)
    color = tuple(int(c) for c in np.clip(base + rng.uniform(-15, 15, 3), 0, 255))
    return Shape(RAW_LABEL.get(kind, kind), tuple(parts), color, support)  # type: ignore[arg-type]
