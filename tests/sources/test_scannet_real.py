"""The licensed real ScanNet fixtures, read in place (skipped when ../shared/fixtures is absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sources.scannet import ReaderOptions, list_scenes, read_scene, read_scene_frames
from sources.scannet.mesh import read_mesh, read_vertex_labels
from sources.scannet.meta import axis_alignment, parse_meta
from sources.scene import SceneError


def test_mesh_only_scene_is_not_annotated(real_fixtures: Path) -> None:
    assert list_scenes(real_fixtures) == ["scene0470_00"]
    with pytest.raises(SceneError, match="not annotated: scene0470_00 has no segs/aggregation"):
        read_scene(real_fixtures, "scene0470_00", ReaderOptions())


def test_real_mesh_and_labels_ply_parse(real_fixtures: Path) -> None:
    folder = real_fixtures / "scans" / "scene0470_00"
    mesh = read_mesh(folder / "scene0470_00_vh_clean_2.ply")
    assert mesh.vertices.shape == (67465, 3) and mesh.faces.shape == (127003, 3)
    assert int(mesh.faces.max()) < 67465 and mesh.colors.dtype == np.uint8
    extent = mesh.vertices.max(axis=0) - mesh.vertices.min(axis=0)
    assert np.all(extent > 1.0) and np.all(extent < 20.0)  # a room, in metres
    nyu40 = read_vertex_labels(folder / "scene0470_00_vh_clean_2.labels.ply")
    assert nyu40.shape == (67465,) and nyu40.max() <= 40
    floor_z = mesh.vertices[nyu40 == 2, 2]
    assert floor_z.size > 1000 and np.median(floor_z) < np.median(
        mesh.vertices[:, 2]
    )  # floor lies low (z up)


def test_test_scene_export_frames(real_fixtures: Path) -> None:
    with pytest.raises(SceneError, match="not annotated"):  # scans_test: found, but no annotation
        read_scene(real_fixtures, "scene0707_00", ReaderOptions())
    meta = parse_meta(real_fixtures / "scans_test" / "scene0707_00" / "scene0707_00.txt")
    assert meta["colorWidth"] == "1296" and not any("\r" in v for v in meta.values())
    np.testing.assert_array_equal(axis_alignment(meta), np.eye(4))  # no axisAlignment line

    stream = read_scene_frames(real_fixtures, "scene0707_00", ReaderOptions())
    assert [f.index for f in stream.frames] == [0, 1, 2] and stream.skipped == {}
    assert [f.timestamp for f in stream.frames] == pytest.approx([0, 1 / 30, 2 / 30])
    pose0 = np.loadtxt(real_fixtures / "scans_test" / "scene0707_00" / "pose" / "0.txt")
    np.testing.assert_allclose(stream.frames[0].pose, pose0)  # identity alignment
    depth, color = stream.depth_camera, stream.color_camera
    assert (depth.width, depth.height, color.width, color.height) == (640, 480, 1296, 968)
    # intrinsic/*.txt wins over the .txt's fx_color = 1170.19
    assert depth.fx == pytest.approx(575.665710) and color.fx == pytest.approx(1165.723022)
    assert color.cx == pytest.approx(649.094971) and depth.cy == pytest.approx(240.126617)
    metres = stream.store.depth(0)
    assert metres.dtype == np.float32 and metres.shape == (480, 640)
    valid = metres[metres > 0]
    assert valid.size > 0.5 * metres.size and 0.3 < np.median(valid) < 5.0 and valid.max() < 10.0
    jpeg = stream.store.color_jpeg(2)
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) == 138826
    assert [
        f.index for f in read_scene_frames(real_fixtures, "scene0707_00", ReaderOptions(max_frames=2)).frames
    ] == [0, 2]
