"""Every frame a sample may refer to is checked before anything refers to it: a broken colour image (truncated,
garbage, the wrong size) or an input that resolves outside the dataset root is skipped and counted like an
invalid pose, and never reaches OUT/media (docs/scannet.md "What is checked")."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.config import BuildConfig
from pipeline.geometry import GeometryConfig, compute_facts
from pipeline.scene_task import process_scene
from shards.layout import media_dir
from sources.demo import make_demo
from sources.scannet import ReaderOptions, read_scene
from sources.scannet.sens import read_sens_index
from sources.scene import SceneError

SCENE = "scene9000_00"
FRAMES = 8  # demo frames 0, 15, ..., 105


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    make_demo(root, scenes=1, frames=FRAMES, vertices=6000, depth_size=(160, 120), rgbd="both")
    return root


def copy_of(pristine: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(pristine, tmp_path / "root", symlinks=True)
    return tmp_path / "root"


def break_frames(root: Path, outside: Path) -> Path:
    """Frame 15 truncated, 30 garbage, 45 a symlink to a file outside the root, 60 a JPEG of another size, the
    pose of 75 a symlink out of the tree. Returns the scene folder."""
    scene_dir = root / "scans" / SCENE
    color = scene_dir / "color"
    data = (color / "15.jpg").read_bytes()
    (color / "15.jpg").write_bytes(data[: len(data) // 2])
    (color / "30.jpg").write_bytes(np.random.default_rng(0).bytes(5000))
    outside.write_text("a text file outside the dataset\n" * 50)
    (color / "45.jpg").unlink()
    (color / "45.jpg").symlink_to(outside)
    small = cv2.imencode(".jpg", np.zeros((100, 100, 3), np.uint8))[1].tobytes()
    (color / "60.jpg").write_bytes(small)
    pose = scene_dir / "pose" / "75.txt"
    (outside.parent / "pose75.txt").write_text(pose.read_text())
    pose.unlink()
    pose.symlink_to(outside.parent / "pose75.txt")
    return scene_dir


EXPECTED_SKIPS = {"color_truncated": 1, "color_not_jpeg": 1, "outside_root": 2, "color_size_mismatch": 1}


def test_broken_and_escaping_frames_are_skipped_and_counted(pristine, tmp_path):
    root = copy_of(pristine, tmp_path)
    break_frames(root, tmp_path / "elsewhere.txt")
    scene = read_scene(root, SCENE, ReaderOptions(use_sens=False))
    assert scene.skipped_frames == {"outside_root": 1}  # the pose: refused before it is read
    facts = compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))
    assert [f.index for f in facts.frames] == [0, 90, 105]
    assert scene.skipped_frames == EXPECTED_SKIPS


def test_a_scene_file_outside_the_root_fails_the_scene(pristine, tmp_path):
    root = copy_of(pristine, tmp_path)
    mesh = root / "scans" / SCENE / f"{SCENE}_vh_clean_2.ply"
    target = tmp_path / "mesh.ply"
    target.write_bytes(mesh.read_bytes())
    mesh.unlink()
    mesh.symlink_to(target)
    with pytest.raises(SceneError, match="resolves outside the dataset root"):
        read_scene(root, SCENE, ReaderOptions())


def test_a_symlinked_scans_folder_inside_the_dataset_is_fine(pristine, tmp_path):
    """A scene folder linked in from elsewhere is the user's choice; its own files may live there."""
    root = tmp_path / "root"
    (root / "scans").mkdir(parents=True)
    (root / "scannetv2-labels.combined.tsv").symlink_to(pristine / "scannetv2-labels.combined.tsv")
    (root / "scans" / SCENE).symlink_to(pristine / "scans" / SCENE)
    scene = read_scene(root, SCENE, ReaderOptions(use_sens=False))
    assert len(scene.frames) == FRAMES and scene.skipped_frames == {}


def test_a_broken_colour_payload_in_a_sens_is_skipped(pristine, tmp_path):
    root = copy_of(pristine, tmp_path)
    sens = root / "scans" / SCENE / f"{SCENE}.sens"
    index = read_sens_index(sens)
    data = bytearray(sens.read_bytes())
    at, size = int(index.color_offsets[30]), int(index.color_sizes[30])  # source frame 30
    data[at + size // 2 : at + size] = b"\x00" * (size - size // 2)  # the second half zeroed: no end marker
    sens.write_bytes(bytes(data))
    scene = read_scene(root, SCENE, ReaderOptions(use_sens=True))
    facts = compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))
    assert 30 not in [f.index for f in facts.frames] and len(facts.frames) == FRAMES - 1
    assert scene.skipped_frames.get("color_truncated") == 1


@pytest.mark.slow
def test_no_sample_refers_to_a_broken_frame_and_media_holds_only_whole_jpegs(pristine, tmp_path):
    root = copy_of(pristine, tmp_path)
    break_frames(root, tmp_path / "elsewhere.txt")
    out = tmp_path / "out"
    cfg = BuildConfig(root=root, out=out, frames={"max_frames": 8})
    record = process_scene(cfg, 0, SCENE, device="cpu")
    assert record.get("status") != "failed", record
    for reason, count in EXPECTED_SKIPS.items():
        assert record["skipped_frames"][reason] == count
    copied = sorted(p.name for p in (media_dir(out) / "scannet" / SCENE).iterdir())
    assert copied and set(copied) <= {"000000.jpg", "000090.jpg", "000105.jpg"}
    for name in copied:
        image = cv2.imread(str(media_dir(out) / "scannet" / SCENE / name))
        assert image is not None and image.shape[:2] == (480, 640)
    samples = [json.loads(line) for line in _sample_lines(out)]
    assert samples and all(ref.split("/")[-1] in copied for s in samples for ref in s["images"])


def _sample_lines(out: Path):
    import tarfile

    for tar in (out / "shards").glob("*.tar"):
        with tarfile.open(tar) as handle:
            for member in handle.getmembers():
                if member.name.endswith(".json"):
                    yield handle.extractfile(member).read().decode()
