"""The reader on the demo writer's scenes (sources.demo.make_demo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sources.scannet import ReaderOptions, list_scenes, read_scene


def test_demo_scenes_read_cleanly(demo_root: Path) -> None:
    root = demo_root
    scenes = list_scenes(root)
    assert scenes == [f"scene{9000 + i:04d}_00" for i in range(3)]  # the conftest demo: 3 rooms
    for scene_id in scenes:
        scene = read_scene(root, scene_id, ReaderOptions(max_frames=5))
        ids = {o.instance_id for o in scene.objects}
        assert set(np.unique(scene.vertex_instance[scene.vertex_instance >= 0]).tolist()) == ids
        assert scene.floor_vertex_mask.any() and len(scene.frames) == 5
        assert not [w for w in scene.warnings if "label map" in w]  # the demo's labels are all in its tsv
        depth = scene.store.depth(scene.frames[0].index)
        assert depth.shape == (scene.depth_camera.height, scene.depth_camera.width) and depth.max() > 0
        assert scene.store.color_jpeg(scene.frames[-1].index)[:2] == b"\xff\xd8"
