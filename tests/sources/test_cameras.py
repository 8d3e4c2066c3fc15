"""Cameras are decided by the images a stream holds, never by a header field alone (docs/scannet.md "Cameras")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from generators.base import GenContext, GenerationConfig
from generators.registry import RULES, _load_rules
from pipeline.geometry import GeometryConfig, compute_facts
from sources.demo import make_demo
from sources.demo.render import demo_camera, matrix4
from sources.images import encoded_size, jpeg_problem, jpeg_size, png_size
from sources.scannet import ReaderOptions, read_scene, read_scene_frames
from sources.scannet.cameras import decide_camera
from sources.scene import Camera, SceneError

REPO = Path(__file__).resolve().parents[2]
SCENE = "scene9000_00"
SMALL = {"scenes": 1, "seed": 0, "frames": 8, "vertices": 6000, "depth_size": (160, 120)}


def k_of(camera: Camera) -> np.ndarray:
    return matrix4(camera)


def jpeg(width: int, height: int) -> bytes:
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def test_sizes_come_from_jpeg_and_png_headers():
    assert jpeg_size(jpeg(321, 123)) == (321, 123)
    png = cv2.imencode(".png", np.zeros((7, 9), np.uint16))[1].tobytes()
    assert png_size(png) == (9, 7) and encoded_size(png) == (9, 7)
    assert jpeg_size(b"not a jpeg") is None and encoded_size(b"\xff\xd8\xff") is None


def test_jpeg_problems_are_named():
    good = jpeg(64, 48)
    assert jpeg_problem(good, (64, 48)) is None
    assert jpeg_problem(good, (128, 96)) == "color_size_mismatch"
    assert jpeg_problem(good[: len(good) // 2], (64, 48)) == "color_truncated"
    assert jpeg_problem(b"hello world\n" * 100, (64, 48)) == "color_not_jpeg"


def test_intrinsics_that_fit_the_images_are_used_as_they_are_whatever_the_header_says():
    k = k_of(demo_camera(640, 480))
    camera, note = decide_camera(k, (640, 480), [("the .txt's colorWidth/Height", (1296, 968))], "color")
    assert (camera.width, camera.height, camera.fx) == (640, 480, pytest.approx(k[0, 0]))
    assert "1296x968" in note and "fit" in note
    assert decide_camera(k, (640, 480), [("the .txt", (640, 480))], "color")[1] is None


def test_intrinsics_for_a_larger_image_are_scaled_when_one_factor_maps_it():
    big = demo_camera(1296, 968)
    camera, note = decide_camera(k_of(big), (648, 484), [("the .txt", (1296, 968))], "color")
    assert camera == big.scaled_to(648, 484) and "scaled" in note
    # ScanNet's own resize 1296x968 -> 640x480: 0.494 x 0.496, one resize (each axis scaled by its own factor)
    camera, _ = decide_camera(k_of(big), (640, 480), [("the .txt", (1296, 968))], "color")
    assert camera == big.scaled_to(640, 480)
    # no header at all: the principal point says which size the intrinsics were written for
    camera, note = decide_camera(k_of(big), (648, 484), [], "color")
    assert camera == big.scaled_to(648, 484) and "principal point" in note


@pytest.mark.parametrize("images", [(968, 1296), (640, 640), (1296, 484)])
def test_images_no_single_resize_explains_fail_the_scene(images):
    with pytest.raises(SceneError, match="not one resize"):
        decide_camera(k_of(demo_camera(1296, 968)), images, [("the .txt", (1296, 968))], "color")


def test_real_scene0707_cameras_are_those_of_its_images(real_fixtures):
    frames = read_scene_frames(real_fixtures, "scene0707_00", ReaderOptions())
    color, depth = frames.color_camera, frames.depth_camera
    assert (color.width, color.height) == (1296, 968) and (depth.width, depth.height) == (640, 480)
    assert color.fx == pytest.approx(1165.723022) and depth.cx == pytest.approx(320.287018)
    assert frames.notes == []  # header, intrinsics and images agree


def test_demo_with_colour_resized_after_writing(tmp_path):
    """`make-demo --resized-color`: 320x240 JPEGs, intrinsic_color for them, the .txt still saying 640x480. The
    cameras follow the images, and every normalised coordinate equals the unresized scene's (a resize keeps
    them), so pixel filters are measured in the shipped image's pixels."""
    resized = tmp_path / "resized"
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "make-demo", str(resized), "--scenes", "1", "--frames", "8",
         "--vertices", "6000", "--depth-size", "160x120", "--resized-color", "320x240"],
        check=True, cwd=REPO, capture_output=True, timeout=300,
    )  # fmt: skip
    make_demo(tmp_path / "plain", **SMALL)
    txt = (resized / "scans" / SCENE / f"{SCENE}.txt").read_text()
    assert "colorWidth = 640" in txt
    assert jpeg_size((resized / "scans" / SCENE / "color" / "0.jpg").read_bytes()) == (320, 240)

    scene = read_scene(resized, SCENE, ReaderOptions())
    assert (scene.color_camera.width, scene.color_camera.height) == (320, 240)
    assert any("640x480" in w and "fit" in w for w in scene.warnings)
    plain = read_scene(tmp_path / "plain", SCENE, ReaderOptions())
    config = GeometryConfig(device="cpu", virtual_view_frames=0)
    got, want = compute_facts(scene, config), compute_facts(plain, config)
    assert (got.image_width, got.image_height) == (320, 240) and (want.image_width, want.image_height) == (
        640,
        480,
    )
    seen = got.tracks.visible & want.tracks.visible
    assert seen.sum() > 500
    assert np.abs(got.tracks.uv[seen] - want.tracks.uv[seen]).max() < 1e-3
    both = got.visibility.visible & want.visibility.visible
    assert np.nanmax(np.abs(got.visibility.center_x[both] - want.visibility.center_x[both])) < 1e-3
    # view_correspondence measures its 50 px spacing in the shipped 320x240 pixels
    _load_rules()
    drafts = list(RULES["view_correspondence"](got, GenContext(np.random.default_rng(0), "view_correspondence",
                                                                GenerationConfig())))  # fmt: skip
    assert drafts
    for d in drafts:
        px = np.asarray(d.extra["option_px"])
        uv = got.tracks.uv[d.frames[1], d.extra["option_track_points"]]
        assert np.allclose(px, uv * [320, 240]) and (px >= 0).all() and (px <= [320, 240]).all()
        gaps = np.linalg.norm(px[:, None] - px[None], axis=2)[np.triu_indices(4, 1)]
        assert gaps.min() >= 50


@pytest.mark.parametrize("rgbd", ["export", "sens"])
def test_stale_colour_intrinsics_are_scaled_to_the_resized_images(tmp_path, rgbd):
    make_demo(tmp_path, rgbd=rgbd, resized_color=(320, 240), stale_intrinsics=True, **SMALL)
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    expected = demo_camera(640, 480).scaled_to(320, 240)  # the files hold 6 decimals (float32 in a .sens)
    assert (scene.color_camera.width, scene.color_camera.height) == (320, 240)
    assert np.allclose(scene.color_camera.matrix, expected.matrix, atol=1e-4)
    assert any("scaled" in w for w in scene.warnings)


def test_colour_intrinsics_of_another_shape_fail_the_scene_with_a_reason(tmp_path):
    make_demo(tmp_path, **SMALL)
    portrait = demo_camera(480, 640)  # images are 640x480 landscape
    path = tmp_path / "scans" / SCENE / "intrinsic" / "intrinsic_color.txt"
    path.write_text("\n".join(" ".join(f"{v:.6f}" for v in row) for row in matrix4(portrait)) + "\n")
    with pytest.raises(SceneError, match=r"color intrinsics are for 480x640 .* images are 640x480"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_a_sens_whose_depth_payloads_are_not_the_header_size_fails_with_a_reason(tmp_path):
    import struct

    make_demo(tmp_path, rgbd="sens", **SMALL)
    sens = tmp_path / "scans" / SCENE / f"{SCENE}.sens"
    data = bytearray(sens.read_bytes())
    (name_len,) = struct.unpack("<Q", data[4:12])
    sizes_at = 12 + name_len + 256 + 8  # after the matrices and the two compression fields
    assert struct.unpack("<IIII", data[sizes_at : sizes_at + 16]) == (640, 480, 160, 120)
    data[sizes_at + 8 : sizes_at + 12] = struct.pack("<I", 80)  # the header now claims 80x120 depth
    sens.write_bytes(bytes(data))
    with pytest.raises(SceneError, match="no depth payload .* decodes to the .sens header's 80x120"):
        read_scene(tmp_path, SCENE, ReaderOptions())


def test_one_odd_first_frame_neither_decides_the_camera_nor_fails_the_scene(tmp_path):
    make_demo(tmp_path, **SMALL)
    (tmp_path / "scans" / SCENE / "color" / "0.jpg").write_bytes(jpeg(100, 100))
    scene = read_scene(tmp_path, SCENE, ReaderOptions())
    assert (scene.color_camera.width, scene.color_camera.height) == (640, 480)
    facts = compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))
    assert 0 not in [f.index for f in facts.frames] and scene.skipped_frames == {"color_size_mismatch": 1}
