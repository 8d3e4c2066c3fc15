"""Objects known only by a box: their points are the mesh vertices inside it (smallest box first, floor band
excluded), their size and position the box's own, whatever part of them the mesh covers."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry.objects import scene_objects
from sources.scene import POINTS_BOX, Camera, ObjectAnnotation, OrientedBox, Scene


def _grid(lo, hi, n=6) -> np.ndarray:
    axes = [np.linspace(a, b, n) for a, b in zip(lo, hi, strict=True)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)


def _scene(vertices: np.ndarray, objects: list[ObjectAnnotation]) -> Scene:
    camera = Camera(100, 100, 50, 50, 100, 100)
    return Scene(
        "test", "s", vertices.astype(np.float32), np.zeros((0, 3), np.int32),
        np.full(len(vertices), -1, np.int32), objects, [], camera, camera, store=None,
    )  # fmt: skip


def test_box_objects_take_inside_vertices_and_keep_the_box_geometry() -> None:
    floor = _grid([-3, -3, 0], [3, 3, 0], 30)
    table_top = _grid([-1, -0.5, 0.75], [1, 0.5, 0.8])  # only the top of the table is scanned
    chair = _grid([0.3, -0.2, 0.0], [0.7, 0.2, 0.5])  # under the table's box, partly in the floor band
    vertices = np.concatenate([floor, table_top, chair])
    table_box = OrientedBox(np.array([0, 0, 0.4]), np.array([2.0, 1.0, 0.8]), np.eye(3))
    chair_box = OrientedBox(np.array([0.5, 0, 0.25]), np.array([0.4, 0.4, 0.5]), np.eye(3))
    objects = [
        ObjectAnnotation(0, "table", "table", points_from=POINTS_BOX, box=table_box, uid="t"),
        ObjectAnnotation(1, "chair", "chair", points_from=POINTS_BOX, box=chair_box, uid="c"),
    ]
    facts = scene_objects(_scene(vertices, objects))
    table, chair_facts = facts
    assert table.box_only and table.uid == "t"
    assert table.n_points == len(table_top)  # the chair's vertices went to the smaller box, the floor to none
    assert chair_facts.n_points == int((chair[:, 2] > 0.03).sum())
    assert table.height == pytest.approx(0.8)  # from the box, though only its top was scanned
    assert np.allclose(table.centroid, [0, 0, 0.4]) and np.allclose(table.aabb_min, [-1, -0.5, 0])
    assert table.longest_edge == pytest.approx(2.0)


def test_a_box_without_vertices_is_skipped_with_a_warning() -> None:
    vertices = _grid([-3, -3, 0], [3, 3, 0], 10)
    empty = OrientedBox(np.array([0, 0, 1.5]), np.array([0.2, 0.2, 0.2]), np.eye(3))
    scene = _scene(vertices, [ObjectAnnotation(0, "tv", "tv_monitor", points_from=POINTS_BOX, box=empty)])
    assert scene_objects(scene) == []
    assert any("without vertices" in w for w in scene.warnings)
