from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import MultiPoint

from pipeline.geometry.floor import floor_height
from tests.geometry.conftest import position
from tests.geometry.synthetic import L_AREA, L_HULL_AREA, make_scene


def test_l_shaped_room_area_is_the_footprint_not_the_convex_hull(facts):
    scene = make_scene()
    hull = MultiPoint(scene.vertices[:, :2].astype(float)).convex_hull.area
    assert hull == pytest.approx(L_HULL_AREA, abs=0.01)
    assert facts.room_area == pytest.approx(L_AREA, abs=0.3)
    assert facts.room_area < hull - 4.0
    assert facts.room_polygon.shape[1] == 2 and len(facts.room_polygon) >= 6


def test_floor_height_from_labels_or_a_low_percentile():
    rng = np.random.default_rng(0)
    floor = np.c_[rng.uniform(0, 4, (500, 2)), np.full(500, 0.3)]
    furniture = np.c_[rng.uniform(0, 4, (2000, 2)), rng.uniform(0.3, 2.0, 2000)]
    noise = np.c_[rng.uniform(0, 4, (5, 2)), np.full(5, -1.0)]  # a few points below the floor
    vertices = np.concatenate([floor, furniture, noise])
    mask = np.r_[np.ones(500, bool), np.zeros(2005, bool)]
    assert floor_height(vertices, mask) == pytest.approx(0.3)
    assert floor_height(vertices, None) == pytest.approx(0.3, abs=0.05)


def test_free_space_cells(facts):
    grid = facts.free_space

    def free_at(x: float, y: float) -> bool:
        col = int((x - grid.origin[0]) // grid.cell)
        row = int((y - grid.origin[1]) // grid.cell)
        return bool(grid.free[row, col])

    table = facts.objects[position(facts, "table")]
    assert not free_at(*table.obb_center[:2])  # under a box
    assert not free_at(5.15, 0.95)  # under the bin
    assert free_at(1.0, 4.5) and free_at(1.2, 0.6)  # open floor in both arms
    assert not free_at(4.5, 4.5)  # the L's notch: outside the room
    assert not free_at(0.05, 2.0)  # against a wall
    assert 0.5 * 27 < grid.free.sum() * grid.cell**2 < 27
