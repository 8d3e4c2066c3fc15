from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry.projection import world_to_camera
from pipeline.geometry.tracks import sample_track_points
from tests.geometry.synthetic import COLOR_CAMERA, make_scene


def test_overlap_same_pose_is_one_opposite_is_zero(facts):
    assert facts.overlap[0, 1] == pytest.approx(1.0)
    assert facts.overlap[0, 2] < 0.02 and facts.overlap[2, 0] < 0.02
    assert np.allclose(facts.overlap, facts.overlap.T) and np.all(np.diag(facts.overlap) == 1)
    assert 0 < facts.tracks.visible[0].sum() < len(facts.tracks.points)


def test_track_points_are_seeded_by_the_scene():
    a, b = make_scene(), make_scene()
    assert np.array_equal(sample_track_points(a, 300), sample_track_points(b, 300))
    assert not np.array_equal(
        sample_track_points(a, 300), sample_track_points(make_scene(scene_id="scene0001_00"), 300)
    )
    assert len(sample_track_points(a, 10**9)) == len(a.vertices)


def test_track_uv_is_the_projection_and_nan_behind(facts):
    tracks = facts.tracks
    pose = facts.frames[0].pose
    cam = tracks.points.astype(float) @ world_to_camera(pose)[:3, :3].T + world_to_camera(pose)[:3, 3]
    front = cam[:, 2] > 0.1
    expected_u = (
        COLOR_CAMERA.fx * cam[front, 0] / cam[front, 2] + COLOR_CAMERA.cx + 0.5
    ) / COLOR_CAMERA.width
    assert tracks.uv[0, front, 0] == pytest.approx(expected_u, abs=1e-4)
    assert np.isnan(tracks.uv[0, cam[:, 2] < 0]).all()
    assert not tracks.visible[0, cam[:, 2] < 0].any()
    seen = tracks.visible[0]
    assert ((tracks.uv[0, seen] >= 0) & (tracks.uv[0, seen] <= 1)).all()
