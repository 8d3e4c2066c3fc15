from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry.views import turned_pose
from tests.geometry.conftest import position
from tests.geometry.synthetic import CAMERA_A, looking


def seen(view: list[tuple[int, float, float]]) -> set[int]:
    return {o for o, _, _ in view}


def test_turning_180_degrees_sees_the_object_behind_you(facts):
    table = position(facts, "table")
    assert not facts.visibility.visible[2, table]  # frame 2 faces the wall behind the table
    behind = facts.virtual_views[2][180]
    assert table in seen(behind)
    fraction, off_centre = next((f, d) for o, f, d in behind if o == table)
    assert 0.05 <= fraction <= 1 and 0 <= off_centre < 0.71
    assert table not in seen(facts.virtual_views[0][180])


def test_turning_left_and_right(facts):
    plant = position(facts, "plant")
    # From CAMERA_A facing +x the plant (2.0, 5.5) is to the left (+y): turning left shows it, right does not.
    assert plant in seen(facts.virtual_views[0][90])
    assert plant not in seen(facts.virtual_views[0][-90])
    assert plant in seen(facts.virtual_views[2][-90])  # facing -x, it is on the right
    assert set(facts.virtual_views) == {0, 1, 2, 3}


def test_turned_pose_rotates_about_world_z_and_keeps_pitch():
    pose = looking(CAMERA_A, (1, 0, -0.5))  # pitched down
    left = turned_pose(pose, 90)
    assert left[:3, 3] == pytest.approx(pose[:3, 3])
    assert left[:3, 2] == pytest.approx(np.array([0, 1, -0.5]) / np.linalg.norm([0, 1, -0.5]))
