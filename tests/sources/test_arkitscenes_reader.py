"""The ARKitScenes reader: frames turned upright by sky direction, the world-to-camera trajectory inverted and
matched by timestamp with the toolkit's tolerance, boxes as the only annotation, broken inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.geometry.boxes import FLOOR_BAND_M, box_owners
from pipeline.geometry.objects import scene_objects
from sources.arkitscenes import list_scenes, read_scene
from sources.arkitscenes.annotation import canonical_box
from sources.arkitscenes.trajectory import camera_to_world, read_traj
from sources.arkitscenes.upright import SKY_TURNS, upright_camera, upright_image, upright_pose
from sources.scene import POINTS_BOX, Camera, OrientedBox, SceneError

VIDEO = "99000000"  # sky Down
PORTRAIT = "99000001"  # sky Left


def _project(camera: Camera, pose: np.ndarray, world: np.ndarray) -> np.ndarray:
    cam = (world - pose[:3, 3]) @ pose[:3, :3]
    return np.stack(
        [camera.fx * cam[:, 0] / cam[:, 2] + camera.cx, camera.fy * cam[:, 1] / cam[:, 2] + camera.cy], 1
    )


@pytest.mark.parametrize("sky", sorted(SKY_TURNS))
def test_upright_turn_keeps_every_point_on_its_pixel(sky: str) -> None:
    turns = SKY_TURNS[sky]
    stored_cam = Camera(210.0, 212.0, 130.2, 93.7, 256, 192)
    angle = 0.7
    stored_pose = np.eye(4)
    stored_pose[:3, :3] = cv2.Rodrigues(np.array([0.3, angle, -0.2]))[0]
    stored_pose[:3, 3] = [0.5, -1.0, 1.2]
    rng = np.random.default_rng(0)
    cam_points = np.stack([rng.uniform(-1, 1, 50), rng.uniform(-0.7, 0.7, 50), rng.uniform(1.5, 4, 50)], 1)
    world = cam_points @ stored_pose[:3, :3].T + stored_pose[:3, 3]
    uv = np.round(_project(stored_cam, stored_pose, world)).astype(int)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < 256) & (uv[:, 1] >= 0) & (uv[:, 1] < 192)
    _, first = np.unique(uv * [1, 1000], axis=0, return_index=True)
    inside &= np.isin(np.arange(len(uv)), first)  # one point per pixel
    image = np.zeros((192, 256), dtype=np.int32)
    image[uv[inside, 1], uv[inside, 0]] = np.arange(1, inside.sum() + 1)
    upright = upright_image(image, turns)
    cam, pose = upright_camera(stored_cam, turns), upright_pose(stored_pose, turns)
    assert upright.shape == (cam.height, cam.width)
    uv2 = np.round(_project(cam, pose, world[inside])).astype(int)
    assert np.array_equal(upright[uv2[:, 1], uv2[:, 0]], np.arange(1, inside.sum() + 1))
    if sky == "Left":  # the sky (image top when held upright) was the stored image's left edge
        assert (cam.width, cam.height) == (192, 256)
        assert np.allclose(pose[:3, 1], stored_pose[:3, 0])  # upright "down" is the stored image's +x


def test_traj_is_world_to_camera_and_is_inverted(tmp_path: Path) -> None:
    pose = np.eye(4)
    pose[:3, :3] = cv2.Rodrigues(np.array([0.1, -0.4, 0.25]))[0]
    pose[:3, 3] = [1.0, 2.0, 0.5]
    world_to_cam = np.linalg.inv(pose)
    rvec = cv2.Rodrigues(world_to_cam[:3, :3])[0].ravel()
    line = " ".join(f"{v:.8f}" for v in [12.5, *rvec, *world_to_cam[:3, 3]])
    (tmp_path / "a.traj").write_text(line + "\n")
    stamps, poses = read_traj(tmp_path / "a.traj")
    assert stamps.tolist() == [12.5]
    assert np.allclose(poses[0], pose, atol=1e-7)
    assert np.allclose(camera_to_world(rvec, world_to_cam[:3, 3]), pose, atol=1e-7)


def test_canonical_box_orders_axes_like_fitted_boxes() -> None:
    yaw = 2.5
    rows = np.array([[0, 0, 1], [np.cos(yaw), np.sin(yaw), 0], [-np.sin(yaw), np.cos(yaw), 0]])
    box = canonical_box(np.zeros(3), np.array([0.8, 0.4, 1.9]), rows.T)  # height first, short edge second
    assert np.allclose(box.extent, [1.9, 0.4, 0.8])
    assert np.allclose(box.rotation[:, 2], [0, 0, 1])
    assert np.allclose(box.rotation[:, 0], [np.sin(yaw), -np.cos(yaw), 0])  # the long edge, turned to y >= 0
    assert np.linalg.det(box.rotation) == pytest.approx(1.0)


def test_smallest_box_keeps_shared_vertices_and_the_floor_band_is_nobody_s() -> None:
    table = OrientedBox(np.array([0, 0, 0.4]), np.array([2.0, 1.0, 0.8]), np.eye(3))
    chair = OrientedBox(np.array([0.5, 0, 0.3]), np.array([0.5, 0.5, 0.6]), np.eye(3))
    points = np.array([[0.5, 0, 0.3], [-0.5, 0, 0.7], [-0.5, 0, FLOOR_BAND_M / 2], [3, 3, 0.5]])
    assert box_owners(points, [table, chair], floor_z=0.0).tolist() == [1, 0, -1, -1]


def _copy(small_layouts: dict[str, Path], tmp_path: Path) -> Path:
    root = tmp_path / "ark"
    shutil.copytree(small_layouts["arkitscenes"], root)
    return root


def _video_dir(root: Path, video: str = VIDEO) -> Path:
    return root / "3dod" / "Training" / video


@pytest.mark.parametrize("video", [VIDEO, PORTRAIT])
def test_reads_the_demo_video(small_layouts: dict[str, Path], video: str) -> None:
    root = small_layouts["arkitscenes"]
    assert list_scenes(root) == [VIDEO, PORTRAIT]
    scene = read_scene(root, video)
    truth = json.loads((_video_dir(root, video) / "demo_truth.json").read_text())
    assert [f.index for f in scene.frames] == truth["frame_indices"]
    assert [f.timestamp for f in scene.frames] == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert (scene.vertex_instance == -1).all()
    assert [o.instance_id for o in scene.objects] == list(range(len(scene.objects)))
    assert all(o.points_from == POINTS_BOX and o.uid.startswith(video) for o in scene.objects)
    size = (scene.color_camera.width, scene.color_camera.height)
    assert size == ((256, 192) if video == VIDEO else (192, 256))
    depth = scene.store.depth(scene.frames[0].index)
    color = cv2.imdecode(
        np.frombuffer(scene.store.color_jpeg(scene.frames[0].index), np.uint8), cv2.IMREAD_COLOR
    )
    assert depth.shape == color.shape[:2] == (size[1], size[0])
    objects = scene_objects(scene)
    known = {o["objectId"]: o for o in truth["objects"]}
    for obj in objects:
        assert obj.box_only and obj.n_points > 0
        assert np.allclose(obj.centroid, known[obj.instance_id]["center"], atol=1e-5)  # the box centre
        assert np.allclose(sorted(obj.obb_extent), sorted(known[obj.instance_id]["size"]), atol=1e-5)
        assert obj.height == pytest.approx(known[obj.instance_id]["size"][2], abs=1e-5)


def test_frames_take_the_pose_within_five_ms(small_layouts: dict[str, Path], tmp_path: Path) -> None:
    root = _copy(small_layouts, tmp_path)
    traj = _video_dir(root) / f"{VIDEO}_frames" / "lowres_wide.traj"
    lines = traj.read_text().splitlines()
    words = lines[1].split()
    words[0] = f"{float(words[0]) + 0.0045:.8f}"  # 1.3 ms + 4.5 ms off its frame: beyond 5 ms
    lines[1] = " ".join(words)
    traj.write_text("\n".join(lines[:3]) + "\n")  # and no pose at all for the last frame
    scene = read_scene(root, VIDEO)
    assert len(scene.frames) == 2
    assert scene.skipped_frames == {"missing_pose": 2}


def _truncate(path: Path, keep: int) -> None:
    path.write_bytes(path.read_bytes()[:keep])


BROKEN = {
    "truncated mesh": (lambda d: _truncate(d / f"{VIDEO}_3dod_mesh.ply", 3000), "truncated"),
    "corrupt annotation": (
        lambda d: (d / f"{VIDEO}_3dod_annotation.json").write_text('{"data": [{'),
        "invalid JSON",
    ),
    "traj line without timestamp": (
        lambda d: (d / f"{VIDEO}_frames" / "lowres_wide.traj").write_text("0.1 0.2 0.3 1 2 3\n"),
        "lowres_wide.traj line 1",
    ),
    "traj with no pose for any frame": (
        lambda d: (d / f"{VIDEO}_frames" / "lowres_wide.traj").write_text("1.0 0 0 0 0 0 0\n"),
        "missing_pose",
    ),
    "no annotation": (lambda d: (d / f"{VIDEO}_3dod_annotation.json").unlink(), "not annotated"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_inputs_fail_with_one_line(small_layouts: dict[str, Path], tmp_path: Path, case: str) -> None:
    root = _copy(small_layouts, tmp_path)
    breaker, expected = BROKEN[case]
    breaker(_video_dir(root))
    with pytest.raises(SceneError) as error:
        read_scene(root, VIDEO)
    assert expected in str(error.value) and "\n" not in str(error.value)
    read_scene(root, PORTRAIT)  # the other video still reads
