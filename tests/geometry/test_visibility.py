from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry import GeometryConfig, compute_facts
from pipeline.geometry.device import NumpyBackend
from pipeline.geometry.projection import depth_test
from pipeline.geometry.visibility import PointOwners, summarise
from tests.geometry.conftest import position
from tests.geometry.synthetic import BOXES, DEPTH_CAMERA, make_scene


def test_object_behind_a_wall_is_not_visible_one_in_front_is(facts):
    vis = facts.visibility
    safe, table = position(facts, "safe"), position(facts, "table")
    assert vis.in_frustum_fraction[0, safe] == pytest.approx(1.0)  # in view, but behind the partition
    assert vis.visible_fraction[0, safe] == 0 and not vis.visible[0, safe]
    assert vis.visible[0, table] and vis.visible_fraction[0, table] > 0.1
    assert np.isnan(vis.depth[0, safe]) and np.isnan(vis.bbox[0, safe]).all()


def test_partly_occluded_object_loses_about_half_its_visible_points(facts):
    without_panel = {k: v for k, v in BOXES.items() if k != "partition"}
    open_facts = compute_facts(
        make_scene(boxes=without_panel), GeometryConfig(device="cpu", virtual_view_frames=0)
    )
    cabinet, open_cabinet = position(facts, "cabinet"), position(open_facts, "cabinet")
    assert (
        facts.visibility.in_frustum_fraction[0, cabinet]
        == open_facts.visibility.in_frustum_fraction[0, open_cabinet]
    )
    ratio = (
        facts.visibility.visible_fraction[0, cabinet]
        / open_facts.visibility.visible_fraction[0, open_cabinet]
    )
    assert 0.3 < ratio < 0.7  # the panel edge hides the near half of its front face
    assert facts.visibility.visible[0, cabinet]


def test_measurements_of_the_partition_face(facts):
    vis, panel = facts.visibility, position(facts, "partition")
    # Seen from (0.5, 1.5, 1.2) facing +x: the face at x = 2.975 (y 0.5..1.5, z 0..2) is in sight; the 5 cm
    # thin panel's back face passes the depth tolerance too (12 cm at this depth), so the median is mid-panel.
    assert vis.depth[0, panel] == pytest.approx(2.5, abs=0.01)
    assert vis.min_distance[0, panel] == pytest.approx(2.475, abs=0.02)
    z = 2.475
    expected = [0.5, 0.5 - 0.8 / z, 0.5 + 0.75 * 1.0 / z, 0.5 + 1.2 / z]  # x right = world -y, y down = -z
    assert vis.bbox[0, panel] == pytest.approx(expected, abs=0.02)
    assert vis.center_x[0, panel] == pytest.approx(0.5 + 0.75 * 0.5 / z, abs=0.02)


def test_first_appearance(facts):
    first = facts.first_appearance
    assert first[position(facts, "table")] == 0
    assert first[position(facts, "plant")] == 3  # only the last kept frame looks into the upper arm
    assert first[position(facts, "safe")] == -1


def test_visibility_rule_needs_5_percent_and_50_points():
    owners = PointOwners.from_counts(np.array([100, 2000, 100]))
    hit = np.zeros(2200, dtype=bool)
    hit[:49] = True  # object 0: 49 hits (49 %, but < 50 points)
    hit[100:199] = True  # object 1: 99 hits (>= 50 points, but < 5 %)
    hit[2100:2150] = True  # object 2: 50 hits
    cam = np.tile([0.0, 0.0, 2.0], (2200, 1))
    summary = summarise(owners, hit, np.ones(2200, dtype=bool), cam, DEPTH_CAMERA)
    assert summary.visible.tolist() == [False, False, True]
    assert summary.visible_fraction == pytest.approx([0.49, 99 / 2000, 0.5])
    hit[100:200] = True  # object 1: 100 hits = 5 %
    assert summarise(owners, hit, np.ones(2200, dtype=bool), cam, DEPTH_CAMERA).visible[1]


def test_depth_tolerance_is_5cm_or_5_percent():
    depth = np.zeros((120, 160), dtype=np.float32)
    depth[:, :80] = 0.5  # left half near, right half far
    depth[:, 80:] = 4.0
    points = np.array(
        [[-0.1, 0, 0.54], [-0.1, 0, 0.56], [0.5, 0, 4.19], [0.5, 0, 4.21], [0, 0, -1.0]],
        dtype=np.float32,
    )
    depth[60, 79] = 0.0  # no measurement where a point lands: not a hit
    projection = depth_test(NumpyBackend(), points, np.eye(4), DEPTH_CAMERA, depth)
    assert projection.hit.tolist() == [True, False, True, False, False]
    assert projection.in_frustum.tolist() == [True, True, True, True, False]
    projection = depth_test(
        NumpyBackend(), np.array([[-0.001, 0, 0.5]], np.float32), np.eye(4), DEPTH_CAMERA, depth
    )
    assert projection.in_frustum[0] and not projection.hit[0]


def test_occluded_by_other_counts_only_what_another_object_hides(facts):
    vis = facts.visibility
    safe, cabinet, table = position(facts, "safe"), position(facts, "cabinet"), position(facts, "table")
    # The safe is entirely behind the partition, the cabinet about half, the table stands free in front:
    # its own back faces are hidden by its front faces, which must not count as occlusion.
    assert vis.occluded_by_other[0, safe] > 0.9
    assert 0.25 < vis.occluded_by_other[0, cabinet] < 0.75
    assert vis.occluded_by_other[0, table] < 0.05
    self_hidden = 1 - vis.visible_fraction[0, table] / vis.in_frustum_fraction[0, table]
    assert self_hidden > 0.2  # the plain ratio would call the free-standing table occluded
