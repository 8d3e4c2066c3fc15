"""A build over a root that mixes good and broken scenes: the good ones complete, each broken one is reported
with its reason, and no sample references a frame the reader or the geometry stage skipped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.build import run_build
from pipeline.config import BuildConfig
from shards.writer import read_shard


def clone_scene(root: Path, source: Path, scene_id: str) -> Path:
    """Copy a demo scene under a new id, renaming its files the way ScanNet names them."""
    target = root / "scans" / scene_id
    shutil.copytree(source, target)
    for path in list(target.iterdir()):
        if path.name.startswith(source.name):
            path.rename(target / path.name.replace(source.name, scene_id))
    return target


def break_every_pose(scene: Path) -> None:
    for pose in (scene / "pose").glob("*.txt"):
        pose.write_text("\n".join(["-inf -inf -inf -inf"] * 4) + "\n")


def empty_every_depth(scene: Path) -> None:
    for depth in (scene / "depth").glob("*.png"):
        cv2.imwrite(str(depth), np.zeros((240, 320), dtype=np.uint16))


BREAKS = {
    "scene9100_00": (
        lambda s: (s / "scene9100_00_vh_clean_2.ply").write_bytes(
            (s / "scene9100_00_vh_clean_2.ply").read_bytes()[:5000]
        ),
        "truncated",
    ),
    "scene9101_00": (lambda s: (s / "scene9101_00.aggregation.json").write_text('{"segGroups": ['), "json"),
    "scene9102_00": (break_every_pose, "no usable frame"),
    "scene9103_00": (empty_every_depth, "no usable frame"),
    "scene9104_00": (
        lambda s: [
            (s / f).unlink()
            for f in ("scene9104_00.aggregation.json", "scene9104_00_vh_clean_2.0.010000.segs.json")
        ],
        "not annotated",
    ),
}


@pytest.fixture(scope="module")
def mixed_build(demo_root: Path, ray_cluster, tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(demo_root, root, dirs_exist_ok=True)
    good = sorted(p for p in (root / "scans").iterdir())
    for scene_id, (breaker, _) in BREAKS.items():
        breaker(clone_scene(root, good[0], scene_id))
    # A scene that is fine overall but has a few bad frames: they are skipped, counted, never referenced.
    partial = clone_scene(root, good[1], "scene9105_00")
    frames = sorted(int(p.stem) for p in (partial / "pose").glob("*.txt"))
    bad_pose, bad_depth = frames[3], frames[7]
    (partial / "pose" / f"{bad_pose}.txt").write_text("\n".join(["nan nan nan nan"] * 4) + "\n")
    cv2.imwrite(str(partial / "depth" / f"{bad_depth}.png"), np.zeros((240, 320), dtype=np.uint16))
    out = root / "out"
    manifest = run_build(BuildConfig(root=root, out=out), workers=2, show_progress=False).manifest
    return out, {"manifest": manifest, "bad_frames": {bad_pose, bad_depth}, "good": [p.name for p in good]}


def test_each_broken_scene_is_reported_with_its_reason(mixed_build):
    out, info = mixed_build
    records = {r["scene_id"]: r for r in info["manifest"]["scenes"]}
    for scene_id, (_, reason) in BREAKS.items():
        assert records[scene_id]["status"] == "failed", scene_id
        assert reason in records[scene_id]["reason"].lower(), (scene_id, records[scene_id]["reason"])
        assert "\n" not in records[scene_id]["reason"]
    failed_files = {
        json.loads(p.read_text())["scene_id"] for p in (out / "rejects" / "scenes").glob("*.json")
    }
    assert failed_files == set(BREAKS)
    assert info["manifest"]["totals"]["failed"] == len(BREAKS)


def test_good_scenes_complete_and_only_they_have_samples(mixed_build):
    out, info = mixed_build
    records = {r["scene_id"]: r for r in info["manifest"]["scenes"]}
    for scene_id in [*info["good"], "scene9105_00"]:
        assert records[scene_id]["status"] == "ok" and records[scene_id]["n_samples"] > 0
    scenes_with_samples = {s["scene_id"] for tar in (out / "shards").glob("*.tar") for s in read_shard(tar)}
    assert scenes_with_samples == {*info["good"], "scene9105_00"}


def test_skipped_frames_are_counted_and_never_referenced(mixed_build):
    out, info = mixed_build
    record = next(r for r in info["manifest"]["scenes"] if r["scene_id"] == "scene9105_00")
    assert record["skipped_frames"].get("invalid_pose", 0) >= 1
    assert record["skipped_frames"].get("empty_depth", 0) >= 1
    samples = [
        s
        for tar in (out / "shards").glob("*.tar")
        for s in read_shard(tar)
        if s["scene_id"] == "scene9105_00"
    ]
    referenced = {f for s in samples for f in s["facts"]["frames"]}
    assert referenced and not referenced & info["bad_frames"]
