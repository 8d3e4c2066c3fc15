"""The facts cache: a repeated read of an unchanged scene skips the geometry stage; any change recomputes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import BuildConfig, FramesConfig
from pipeline.scene_task import load_facts


@pytest.fixture
def scene_root(demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "root"
    (root / "scans").mkdir(parents=True)
    scene = sorted((demo_root / "scans").iterdir())[0]
    shutil.copytree(scene, root / "scans" / scene.name)
    for f in demo_root.glob("*.tsv"):
        shutil.copy(f, root / f.name)
    monkeypatch.setenv("SICORPUS_CACHE", str(tmp_path / "cache"))
    return root


def _load(root: Path, **frames) -> tuple[dict, object]:
    timings: dict[str, float] = {}
    scene_id = sorted(p.name for p in (root / "scans").iterdir())[0]
    cfg = BuildConfig(root=root, out=Path(os.devnull), frames=FramesConfig(**frames))
    _, facts = load_facts(cfg, scene_id, timings)
    return timings, facts


def test_hit_skips_geometry_and_returns_the_same_facts(scene_root: Path):
    first, facts = _load(scene_root)
    again, cached = _load(scene_root)
    assert "geometry" in first and "geometry" not in again
    # the geometry stage's imports are timed apart (a worker pays them once) and skipped on a hit
    assert "imports" in first and "imports" not in again
    assert [o.label for o in cached.objects] == [o.label for o in facts.objects]
    assert np.array_equal(cached.closest, facts.closest)
    assert np.array_equal(
        cached.visibility.visible_fraction, facts.visibility.visible_fraction, equal_nan=True
    )


def test_changed_input_file_or_geometry_setting_recomputes(scene_root: Path):
    _load(scene_root)
    pose = sorted((scene_root / "scans").glob("*/pose/*.txt"))[0]
    pose.write_text(pose.read_text() + "\n")  # same numbers, rewritten: a new size and mtime
    changed, _ = _load(scene_root)
    assert "geometry" in changed
    settings, _ = _load(scene_root, max_frames=8)
    assert "geometry" in settings
    repeat, _ = _load(scene_root, max_frames=8)
    assert "geometry" not in repeat


def test_cache_off(scene_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SICORPUS_CACHE", "off")
    _load(scene_root)
    again, _ = _load(scene_root)
    assert "geometry" in again


@pytest.mark.parametrize("layout", ["scannetpp", "arkitscenes"])
def test_other_sources_are_cached_and_invalidated(
    small_layouts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
):
    root = tmp_path / layout
    shutil.copytree(small_layouts[layout], root)
    monkeypatch.setenv("SICORPUS_CACHE", str(tmp_path / "cache"))
    from sources import get_source

    scene_id = get_source(layout).list_scenes(root)[0]
    cfg = BuildConfig(source=layout, root=root, out=Path(os.devnull))

    def geometry_ran() -> bool:
        timings: dict[str, float] = {}
        load_facts(cfg, scene_id, timings)
        return "geometry" in timings

    assert geometry_ran() and not geometry_ran()
    mesh = next(p for p in root.rglob("*.ply") if scene_id in str(p))
    os.utime(mesh, ns=(mesh.stat().st_atime_ns, mesh.stat().st_mtime_ns + 10**9))  # touched: a new mtime
    assert geometry_ran()


def test_a_hit_restores_what_the_geometry_stage_counted_and_generate_skips_the_read(scene_root: Path):
    jpg = sorted((scene_root / "scans").glob("*/color/*.jpg"))[3]
    jpg.write_bytes(jpg.read_bytes()[:200])  # truncated: the geometry stage skips and counts the frame
    scene_id = jpg.parents[1].name
    cfg = BuildConfig(root=scene_root, out=Path(os.devnull))
    computed, _ = load_facts(cfg, scene_id)
    assert computed.skipped_frames.get("color_truncated") == 1
    cached, _ = load_facts(cfg, scene_id)
    assert cached.skipped_frames == computed.skipped_frames and cached.warnings == computed.warnings
    timings: dict[str, float] = {}
    none, facts = load_facts(cfg, scene_id, timings, need_scene=False)
    assert none is None and facts.frames and "read" not in timings and "geometry" not in timings
