from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry import GeometryConfig, compute_facts
from tests.geometry.synthetic import CAMERA_A, COLOR_CAMERA, looking, make_scene


def test_empty_depth_frame_is_dropped_and_counted(facts):
    assert [f.index for f in facts.frames] == [0, 1, 2, 4]
    assert facts.visibility.visible.shape == (4, len(facts.objects))
    assert facts.frames[3].timestamp == 2.0
    assert facts.frames[3].image == "synthetic/scene0000_00/000004.jpg"
    assert (facts.image_width, facts.image_height) == (COLOR_CAMERA.width, COLOR_CAMERA.height)
    scene = make_scene()
    compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))
    assert scene.skipped_frames == {"empty_depth": 1}


def test_invalid_pose_is_dropped_before_decoding():
    bad = looking(CAMERA_A, (1, 0, 0))
    bad[0, 3] = np.nan
    scene = make_scene(poses=[looking(CAMERA_A, (1, 0, 0)), bad], empty=set())
    facts = compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))
    assert [f.index for f in facts.frames] == [0]
    assert scene.skipped_frames == {"invalid_pose": 1}
    assert scene.store.decoded == [0]


def test_frames_are_subsampled_uniformly_before_decoding():
    poses = [looking(CAMERA_A, (1, 0.05 * k, 0)) for k in range(10)]
    scene = make_scene(poses=poses, empty=set())
    facts = compute_facts(scene, GeometryConfig(device="cpu", max_frames=4, virtual_view_frames=0))
    assert scene.store.decoded == [0, 3, 6, 9]  # each selected frame decoded once, no other
    assert [f.index for f in facts.frames] == [0, 3, 6, 9]


def test_no_usable_frame_gives_empty_frame_arrays():
    scene = make_scene(poses=[looking(CAMERA_A, (1, 0, 0))], empty={0})
    facts = compute_facts(scene, GeometryConfig(device="cpu"))
    assert facts.frames == [] and facts.visibility.visible.shape == (0, len(facts.objects))
    assert facts.overlap.shape == (0, 0) and (facts.first_appearance == -1).all()
    assert facts.room_area == pytest.approx(27, abs=0.3)  # the scene-level facts do not need frames
