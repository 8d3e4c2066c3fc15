"""Demo rooms: the floor polygon (rectangle or L) and what furnishes each room type."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely import Polygon
from shapely.geometry.polygon import orient

from .placement import Member, Placed, Placer

MIN_OBJECTS, MAX_OBJECTS = 15, 40


@dataclass
class Room:
    scene_type: str
    polygon: Polygon  # floor outline in the aligned frame, counter-clockwise
    height: float
    objects: list[Placed]


def _polygon(rng: np.random.Generator, sides: tuple[float, float], l_shaped: bool) -> Polygon:
    if not l_shaped:
        w, d = rng.uniform(*sides), rng.uniform(*sides)
        pts = np.array([[-w / 2, -d / 2], [w / 2, -d / 2], [w / 2, d / 2], [-w / 2, d / 2]])
    else:
        # wings at least 3 m wide, so the camera loop can enter both
        w, d = rng.uniform(6.0, 8.0), rng.uniform(6.0, 8.0)
        a, b = rng.uniform(1.8, min(0.45 * w, w - 3.0)), rng.uniform(1.8, min(0.45 * d, d - 3.0))
        pts = np.array(
            [
                [-w / 2, -d / 2],
                [w / 2, -d / 2],
                [w / 2, d / 2 - b],
                [w / 2 - a, d / 2 - b],
                [w / 2 - a, d / 2],
                [-w / 2, d / 2],
            ]
        )
        pts = pts * rng.choice([-1.0, 1.0], size=2)  # which corner is cut
    return orient(Polygon(pts), 1.0)


# --- companions -------------------------------------------------------------------------------------------------
def _beside(side: int, gap: float = 0.05) -> Member:
    """A nightstand beside the anchor, back on the anchor's back line."""
    return Member("nightstand", lambda a, m: (side * (a[0] / 2 + gap + m[0] / 2), a[1] / 2 - m[1] / 2))


def _in_front(kind: str, gap: float, facing_anchor: bool, required: bool = False) -> Member:
    return Member(
        kind, lambda a, m: (0.0, -(a[1] / 2 + gap + m[1] / 2)), math.pi if facing_anchor else 0.0, required
    )


def _table_chairs(rng: np.random.Generator, kind: str = "chair") -> tuple[Member, ...]:
    per_side = int(rng.integers(1, 3))
    members = []
    for i in range(per_side):
        frac = (i + 0.5) / per_side - 0.5
        members.append(Member(kind, lambda a, m, f=frac: (f * a[0], -(a[1] / 2 + 0.05 + m[1] / 2)), math.pi))
        members.append(Member(kind, lambda a, m, f=frac: (f * a[0], a[1] / 2 + 0.05 + m[1] / 2), 0.0))
    if rng.random() < 0.5:
        members.append(Member(kind, lambda a, m: (a[0] / 2 + 0.05 + m[1] / 2, 0.0), -math.pi / 2))
    return tuple(members)


def _maybe(p: Placer, prob: float) -> bool:
    return bool(p.rng.random() < prob)


def _pillows(p: Placer, parent: int | None, n: int) -> None:
    for _ in range(n if parent is not None else 0):
        # both raw spellings: readers must map through raw_category, not the shared id
        p.on_top(parent, "pillows" if _maybe(p, 0.3) else "pillow", prefer_back=True)  # type: ignore[arg-type]


def _desk_set(p: Placer) -> None:
    desk = p.against_wall("desk", members=(_in_front("office chair", 0.05, True),))
    if desk is not None:
        p.on_top(desk, "monitor", prefer_back=True)
        if _maybe(p, 0.6):
            p.on_top(desk, "keyboard")


# --- room types -------------------------------------------------------------------------------------------------
def _bedroom(p: Placer) -> None:
    bed = p.against_wall("bed", members=(_beside(-1), _beside(1)))
    _pillows(p, bed, int(p.rng.integers(1, 4)))
    for i, o in enumerate(list(p.objects)):
        if o.shape.raw_label == "nightstand" and _maybe(p, 0.8):
            p.on_top(i, "lamp")
    dresser = p.against_wall("dresser")
    if dresser is not None and _maybe(p, 0.7):
        p.on_top(dresser, "tv", prefer_back=True)
    if _maybe(p, 0.6):
        _desk_set(p)
    p.against_wall("cabinet" if _maybe(p, 0.5) else "bookshelf")


def _office(p: Placer) -> None:
    for _ in range(int(p.rng.integers(2, 5))):
        _desk_set(p)
    for _ in range(int(p.rng.integers(1, 3))):
        p.against_wall("bookshelf")
    for _ in range(int(p.rng.integers(1, 3))):
        p.against_wall("cabinet")
    p.on_wall("whiteboard")
    if _maybe(p, 0.6):
        p.free("table", members=_table_chairs(p.rng))
    for _ in range(int(p.rng.integers(1, 3))):
        p.by_wall("trash can")


def _living(p: Placer) -> None:
    couch = p.against_wall("couch", members=(_in_front("coffee table", 0.45, False),))
    _pillows(p, couch, int(p.rng.integers(1, 4)))
    for _ in range(int(p.rng.integers(1, 3))):
        p.free("armchair")
    stand = p.against_wall("tv stand")
    if stand is not None:
        p.on_top(stand, "tv", prefer_back=True)
    p.against_wall("bookshelf")
    if _maybe(p, 0.7):
        p.free("table", members=_table_chairs(p.rng))
    p.free("lamp")


def _kitchen(p: Placer) -> None:
    p.against_wall("refrigerator")
    counter = p.against_wall("kitchen counter")
    if counter is not None:
        p.on_top(counter, "basin", prefer_back=True)
        p.on_top(counter, "microwave", prefer_back=True)
    for _ in range(int(p.rng.integers(1, 3))):
        p.against_wall("kitchen cabinets")
    p.free("table", members=_table_chairs(p.rng))
    p.by_wall("trash can")
    p.against_wall("shelf")


def _bathroom(p: Placer) -> None:
    p.against_wall("bathtub")
    p.against_wall("toilet")
    sink = p.against_wall("sink")
    if sink is not None:
        p.on_wall("mirror")
    for _ in range(int(p.rng.integers(1, 4))):
        p.on_wall("towel")
    p.against_wall("cabinet")
    p.against_wall("shelf")
    p.by_wall("trash can")


ROOM_TYPES = {
    # name: (sceneType written in the .txt, side range in metres, furnishing, L-shape allowed)
    "bedroom": ("Bedroom / Hotel", (3.5, 5.5), _bedroom, True),
    "office": ("Office", (5.0, 8.0), _office, True),
    "living": ("Living room / Lounge", (4.5, 7.0), _living, True),
    "kitchen": ("Kitchen", (3.5, 5.5), _kitchen, True),
    "bathroom": ("Bathroom", (3.5, 4.5), _bathroom, False),
}
ROOM_ORDER = ("bedroom", "office", "living", "kitchen", "bathroom")

FILLERS_FLOOR = ("box", "trash can", "plant", "backpack", "chair", "lamp", "shelf", "cabinet")
FILLERS_ON = ("box", "lamp", "plant", "backpack")


def _count(p: Placer) -> int:
    return sum(o.annotated for o in p.objects)


def _fill(p: Placer, target: int) -> None:
    """Small things until the room holds `target` objects: floor clutter, things on surfaces, pictures."""
    for _ in range(200):
        if _count(p) >= target:
            return
        r = p.rng.random()
        if r < 0.5:
            kind = FILLERS_FLOOR[int(p.rng.integers(len(FILLERS_FLOOR)))]
            if kind in ("shelf", "cabinet"):
                p.against_wall(kind, tries=20)
            elif kind == "chair" and _maybe(p, 0.5):
                p.free(kind, tries=20)
            else:
                p.by_wall(kind, tries=20)
        elif r < 0.85:
            parents = [
                i for i, o in enumerate(p.objects) if o.shape.support is not None and o.mount == "floor"
            ]
            if parents:
                parent = parents[int(p.rng.integers(len(parents)))]
                p.on_top(parent, FILLERS_ON[int(p.rng.integers(len(FILLERS_ON)))], tries=10)
        elif sum(o.shape.raw_label == "picture" for o in p.objects) < 5:
            p.on_wall("picture", tries=20)


def _clutter(p: Placer) -> None:
    """One or two unannotated boxes: real scans have vertices that belong to no object."""
    for _ in range(int(p.rng.integers(1, 3))):
        idx = p.by_wall("box", tries=20)
        if idx is not None:
            p.objects[idx].annotated = False


def make_room(rng: np.random.Generator, index: int) -> Room:
    key = ROOM_ORDER[index % len(ROOM_ORDER)]
    scene_type, sides, furnish, l_ok = ROOM_TYPES[key]
    polygon = _polygon(rng, sides, l_shaped=l_ok and index % 2 == 1)
    height = float(rng.uniform(2.5, 3.0))
    p = Placer(polygon, height, rng)
    p.on_wall("doors" if rng.random() < 0.2 else "door")
    furnish(p)
    for _ in range(int(rng.integers(1, 3))):
        p.on_wall("window")
    for _ in range(int(rng.integers(1, 3))):
        p.on_wall("picture")
    target = int(np.clip(round(10 + 0.6 * polygon.area + rng.integers(-2, 3)), MIN_OBJECTS, MAX_OBJECTS))
    _fill(p, target)
    if _count(p) < MIN_OBJECTS:
        _fill(p, MIN_OBJECTS)  # a second round of attempts
    _clutter(p)
    return Room(scene_type, polygon, height, p.objects)
