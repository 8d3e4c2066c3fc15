"""The demo's `.sens` layout: the same scene as the export layout, frame for frame, and the same corpus when built."""

from __future__ import annotations

import json
import math
import tarfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.build import run_build
from pipeline.config import BuildConfig
from schemas.errors import UserError
from sources.demo import make_demo
from sources.scannet import ReaderOptions, read_scene
from sources.scannet.sens import read_sens_index

KW = dict(scenes=2, seed=3, frames=8, vertices=8000)
SCENES = ("scene9000_00", "scene9001_00")
STEP = 15  # the demo keeps every 15th frame of a 30 Hz stream
FRAME_FOLDERS = ("color", "depth", "pose", "intrinsic")


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for rgbd in ("export", "sens", "both"):
        out[rgbd] = tmp_path_factory.mktemp(rgbd)
        assert make_demo(out[rgbd], rgbd=rgbd, **KW) == list(SCENES)
    return out


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_layouts_hold_the_files_they_name(roots: dict[str, Path]):
    for scene_id in SCENES:
        sens_dir, export_dir = roots["sens"] / "scans" / scene_id, roots["export"] / "scans" / scene_id
        assert (sens_dir / f"{scene_id}.sens").is_file()
        assert not any((sens_dir / sub).exists() for sub in FRAME_FOLDERS)
        assert not (export_dir / f"{scene_id}.sens").exists()
        assert all((export_dir / sub).is_dir() for sub in FRAME_FOLDERS)
    # "both" = the export tree byte for byte, plus the very .sens of the "sens" tree
    both, export, sens = tree(roots["both"]), tree(roots["export"]), tree(roots["sens"])
    sens_files = {k: v for k, v in both.items() if k.endswith(".sens")}
    assert {k: v for k, v in both.items() if not k.endswith(".sens")} == export
    assert sens_files == {k: v for k, v in sens.items() if k.endswith(".sens")} and len(sens_files) == 2
    assert {k: v for k, v in sens.items() if not k.endswith(".sens")} == {
        k: v for k, v in export.items() if not set(Path(k).parts) & set(FRAME_FOLDERS)
    }


def test_unknown_layout_is_refused_before_writing(tmp_path: Path):
    with pytest.raises(UserError, match="rgbd"):
        make_demo(tmp_path / "x", rgbd="folders", **KW)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("scene_id", SCENES)
def test_sens_stream_holds_every_slot_with_placeholders_between_kept_frames(roots, scene_id: str):
    scene_dir = roots["sens"] / "scans" / scene_id
    index = read_sens_index(scene_dir / f"{scene_id}.sens")
    kept = [k * STEP for k in range(KW["frames"])]
    meta = dict(line.split(" = ", 1) for line in (scene_dir / f"{scene_id}.txt").read_text().splitlines())
    assert len(index) == kept[-1] + 1 == int(meta["numColorFrames"]) and index.truncated == 0
    header = index.header
    assert (header.color_size, header.depth_size, header.depth_shift) == ((640, 480), (320, 240), 1000.0)
    assert (header.color_compression, header.depth_compression) == (2, 1)
    # position i is source frame i of the 30 Hz stream: i / 30 s after the first, in microseconds
    expected_us = np.rint(np.arange(len(index)) * 1e6 / 30).astype(np.uint64)
    assert np.array_equal(index.color_timestamps, expected_us)
    assert np.array_equal(index.depth_timestamps, expected_us)
    placeholder = np.ones(len(index), dtype=bool)
    placeholder[kept] = False
    assert np.isneginf(index.poses[placeholder]).all() and np.isfinite(index.poses[~placeholder]).all()
    assert (index.color_sizes[placeholder] == 0).all() and (index.color_sizes[~placeholder] > 0).all()


@pytest.mark.parametrize("scene_id", SCENES)
def test_sens_scene_reads_back_as_the_export_scene(roots, scene_id: str):
    export_dir = roots["export"] / "scans" / scene_id
    a = read_scene(roots["export"], scene_id, ReaderOptions(use_sens=False))
    b = read_scene(roots["sens"], scene_id, ReaderOptions(use_sens=True))
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)
    assert np.array_equal(a.vertex_instance, b.vertex_instance)
    assert a.objects == b.objects and np.array_equal(a.floor_vertex_mask, b.floor_vertex_mask)
    assert len(b.frames) == KW["frames"]
    assert (
        [f.index for f in b.frames] == [f.index for f in a.frames] == [k * STEP for k in range(KW["frames"])]
    )
    assert [f.timestamp for f in b.frames] == [f.timestamp for f in a.frames] == [k * 0.5 for k in range(8)]
    assert a.skipped_frames == {} and b.skipped_frames == {"missing_color": (KW["frames"] - 1) * (STEP - 1)}
    for fa, fb in zip(a.frames, b.frames, strict=True):
        png = cv2.imread(str(export_dir / "depth" / f"{fa.index}.png"), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(b.store.depth(fb.index), png.astype(np.float32) / 1000)
        assert np.array_equal(b.store.depth(fb.index), a.store.depth(fa.index))
        assert b.store.color_jpeg(fb.index) == (export_dir / "color" / f"{fa.index}.jpg").read_bytes()
        # the .sens stores float32: its pose is the float32 of the export's 6-decimal text, exactly
        text = np.loadtxt(export_dir / "pose" / f"{fa.index}.txt")
        raw = read_sens_index(roots["sens"] / "scans" / scene_id / f"{scene_id}.sens").poses[fb.index]
        assert np.array_equal(raw, text.astype(np.float32).astype(np.float64))
        # ... and ScanNet's SensReader (np.savetxt fmt="%f") would export exactly these pose files from it
        assert np.array_equal(np.char.mod("%f", raw.astype(np.float32)), np.char.mod("%f", text))
        assert np.allclose(fb.pose, fa.pose, rtol=0, atol=1e-5)
    for cam in ("depth_camera", "color_camera"):
        ca, cb = getattr(a, cam), getattr(b, cam)
        assert (cb.width, cb.height, cb.cx, cb.cy) == (ca.width, ca.height, ca.cx, ca.cy)
        assert cb.fx == float(np.float32(ca.fx)) and cb.fy == float(np.float32(ca.fy))


def test_both_layout_reads_the_export_by_default_and_the_sens_on_request(roots):
    scene_id = SCENES[0]
    default = read_scene(roots["both"], scene_id, ReaderOptions())
    sens = read_scene(roots["both"], scene_id, ReaderOptions(use_sens=True))
    assert default.skipped_frames == {} and sens.skipped_frames  # only the .sens has placeholders
    assert [f.index for f in default.frames] == [f.index for f in sens.frames]


def corpus_samples(out: Path) -> dict[str, dict]:
    samples = {}
    for shard in sorted((out / "shards").glob("*.tar")):
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                sample = json.loads(tar.extractfile(member).read())
                samples[sample["id"]] = sample
    return samples


def close(a: object, b: object) -> bool:
    """Equal, except floats that may differ by float32 rounding of poses/intrinsics (and its 4-decimal echo)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=2e-4)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def test_close_tells_float32_noise_from_a_different_answer():
    assert close({"v": [1.2810517590223778, "A"]}, {"v": [1.281051661176564, "A"]})
    assert not close({"v": [1.2810517590223778]}, {"v": [1.2820517590223778]})
    assert not close({"v": ["A"]}, {"v": ["B"]}) and not close({"v": 1}, {"v": 1.0})


def test_build_over_sens_only_scenes_matches_the_export_build(roots, ray_cluster, tmp_path: Path):
    for rgbd in ("export", "sens"):
        result = run_build(BuildConfig(root=roots[rgbd], out=tmp_path / rgbd), workers=2, show_progress=False)
        assert not result.failed
        scenes = result.manifest["scenes"]
        assert [r["scene_id"] for r in scenes] == list(SCENES) and all(r["n_samples"] > 0 for r in scenes)
        placeholders = (KW["frames"] - 1) * (STEP - 1)
        expected_skips = {} if rgbd == "export" else {"missing_color": placeholders}
        assert all(r["skipped_frames"] == expected_skips for r in scenes)
    export, sens = corpus_samples(tmp_path / "export"), corpus_samples(tmp_path / "sens")
    assert list(sens) == list(export)  # same samples in the same shard order
    answers = {(s["subtask"], s["question"]): s["answer"] for s in export.values()}
    assert answers == {(s["subtask"], s["question"]): s["answer"] for s in sens.values()}
    for sample_id, a in export.items():
        b = sens[sample_id]
        # everything a consumer sees is identical: question, options, answer, images, frame indices
        assert {k: v for k, v in a.items() if k != "facts"} == {k: v for k, v in b.items() if k != "facts"}
        assert close(a["facts"], b["facts"]), sample_id
    media = tree(tmp_path / "sens" / "media")
    assert media and media == tree(tmp_path / "export" / "media")
