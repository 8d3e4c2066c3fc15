from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry import object_facts
from pipeline.geometry.objects import scene_objects
from sources.scene import ObjectAnnotation
from tests.geometry.conftest import position
from tests.geometry.synthetic import box_surface, make_scene


def test_box_rotated_30_degrees_gives_its_true_edges_and_yaw():
    points, _ = box_surface((1.0, -2.0, 0.5), (1.2, 0.4, 1.0), yaw_deg=30.0)
    box = object_facts(7, "desk", points)
    assert box.obb_extent == pytest.approx([1.2, 0.4, 1.0], abs=1e-3)
    assert box.obb_center == pytest.approx([1.0, -2.0, 0.5], abs=1e-3)
    long_axis = box.obb_rotation[:, 0]
    assert np.degrees(np.arctan2(long_axis[1], long_axis[0])) == pytest.approx(30.0, abs=0.1)
    assert np.linalg.det(box.obb_rotation) == pytest.approx(1.0)
    assert box.obb_rotation[:, 2] == pytest.approx([0, 0, 1])  # gravity-aligned, never tilted
    # The axis-aligned box of the same points is larger: the oriented one is not just min/max.
    assert np.prod(box.aabb_max[:2] - box.aabb_min[:2]) > 1.3 * np.prod(box.obb_extent[:2])


def test_box_corners_contain_the_points():
    rng = np.random.default_rng(0)
    local = rng.uniform(-0.5, 0.5, size=(500, 3)) * [2.0, 0.6, 0.3]
    c, s = np.cos(np.radians(-50)), np.sin(np.radians(-50))
    points = local @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T + [3, 1, 0.2]
    box = object_facts(1, "bench", points)
    inside = (points - box.obb_center) @ box.obb_rotation
    assert np.all(np.abs(inside) <= box.obb_extent / 2 + 1e-4)
    assert box.obb_extent[0] <= 2.0 and box.obb_extent[0] > 1.9  # a tight box, not a loose one


def test_scene_objects_keep_labels_and_skip_objects_without_points(facts):
    scene = make_scene()
    scene.objects.append(ObjectAnnotation(instance_id=99, label="ghost", raw_label="ghost"))
    objects = scene_objects(scene)
    assert [o.label for o in objects] == [a.label for a in scene.objects[:-1]]
    assert not any(o.instance_id == 99 for o in objects)
    assert any("without vertices" in w for w in scene.warnings)
    assert [o.nameable for o in objects[:2]] == [False, False]  # floor, wall
    assert facts.objects[position(facts, "table")].obb_extent == pytest.approx([0.8, 0.5, 0.75], abs=2e-3)
