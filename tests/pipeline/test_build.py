"""End to end on demo scenes: a real Ray build, real webdataset tars, real parquet read by DuckDB."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.build import UserError, run_build
from pipeline.config import BuildConfig
from shards.layout import done_marker, tar_path
from shards.writer import read_shard
from taxonomy import CATEGORIES


def corpus_digest(out: Path) -> str:
    """Digest of every shard and index file: what determinism promises to keep byte-identical."""
    h = hashlib.sha256()
    for path in sorted((out / "shards").glob("qa-*.*")):
        if path.suffix in (".tar", ".parquet"):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def build(root: Path, out: Path, workers: int = 2, **fields) -> dict:
    cfg = BuildConfig(root=root, out=out, **fields)
    return run_build(cfg, workers=workers, show_progress=False).manifest


def test_build_covers_every_category_and_records_each_scene(corpus: Path):
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["totals"]["failed"] == 0
    assert manifest["totals"]["samples"] > 0
    con = duckdb.connect()
    cats = {
        r[0]
        for r in con.sql(
            f"select distinct category from read_parquet('{corpus}/shards/*.parquet')"
        ).fetchall()
    }
    assert cats == set(CATEGORIES)
    for record in manifest["scenes"]:
        assert record["status"] == "ok" and set(record["timings"]) >= {
            "read",
            "geometry",
            "generate",
            "validate",
            "media",
            "write",  # recorded before the marker that carries it
        }


def test_index_and_shards_agree_sample_for_sample(corpus: Path):
    con = duckdb.connect()
    for tar in sorted((corpus / "shards").glob("qa-*.tar")):
        samples = read_shard(tar)
        rows = con.sql(
            f'select id, answer, subtask, "offset", byte_offset from read_parquet(\'{tar.with_suffix(".parquet")}\') order by "offset"'
        ).fetchall()
        assert [(s["id"], s["answer"], s["subtask"]) for s in samples] == [r[:3] for r in rows]
        assert [r[3] for r in rows] == list(range(len(samples)))
        raw = tar.read_bytes()
        for sample, row in zip(samples, rows, strict=True):  # byte_offset points at the member's tar header
            assert raw[row[4] : row[4] + 100].rstrip(b"\0").decode() == f"{sample['id']}.json"


def test_every_image_reference_resolves_under_media(corpus: Path):
    for tar in sorted((corpus / "shards").glob("qa-*.tar")):
        for sample in read_shard(tar):
            assert len(sample["images"]) == len(sample["facts"]["frames"]) >= 1
            for ref in sample["images"]:
                assert (corpus / "media" / ref).is_file()


def test_worker_count_does_not_change_a_single_byte(
    demo_root: Path, corpus: Path, ray_cluster, tmp_path: Path
):
    build(demo_root, tmp_path / "one", workers=1)
    assert corpus_digest(tmp_path / "one") == corpus_digest(corpus)


def test_resume_finishes_only_missing_work_and_matches(
    demo_root: Path, corpus: Path, ray_cluster, tmp_path: Path
):
    out = tmp_path / "resumed"
    shutil.copytree(corpus, out)
    # A crash after scene 1's tar was written but before its marker: the marker is what commits a shard.
    done_marker(out, 1).unlink()
    tar_path(out, 1).write_bytes(b"partial")
    before = done_marker(out, 0).stat().st_mtime_ns
    build(demo_root, out)
    assert done_marker(out, 0).stat().st_mtime_ns == before  # scene 0 was not redone
    assert corpus_digest(out) == corpus_digest(corpus)


def test_a_resumed_build_must_be_the_same_build(demo_root: Path, corpus: Path, tmp_path: Path):
    out = tmp_path / "other"
    shutil.copytree(corpus, out)
    with pytest.raises(UserError, match="other settings"):
        build(demo_root, out, seed=7)


def test_broken_scene_is_recorded_and_the_others_complete(demo_root: Path, ray_cluster, tmp_path: Path):
    root = tmp_path / "root"
    shutil.copytree(demo_root, root)
    broken = sorted(p.name for p in (root / "scans").iterdir())[0]
    (root / "scans" / broken / f"{broken}.aggregation.json").write_text("{not json")
    manifest = build(root, tmp_path / "out")
    status = {r["scene_id"]: r for r in manifest["scenes"]}
    assert status[broken]["status"] == "failed" and status[broken]["reason"]
    assert all(r["status"] == "ok" and r["n_samples"] > 0 for sid, r in status.items() if sid != broken)
    assert (tmp_path / "out" / "rejects" / "scenes").is_dir()


def test_missing_root_is_a_user_error(tmp_path: Path):
    with pytest.raises(UserError, match="does not exist"):
        build(tmp_path / "nowhere", tmp_path / "out")


def test_task_memory_follows_the_mesh_size(demo_root: Path, tmp_path: Path):
    from pipeline.build import task_memory
    from sources import get_source

    source = get_source("scannet")
    scene_id = sorted(p.name for p in (demo_root / "scans").iterdir())[0]
    vertices, faces = source.mesh_size(demo_root, scene_id)
    assert vertices == len(source.read_scene(demo_root, scene_id).vertices) and faces > 0
    assert source.mesh_size(demo_root, "scene_missing") is None
    cfg = BuildConfig(root=demo_root, out=tmp_path)
    small, large = task_memory(cfg, (vertices, faces)), task_memory(cfg, (3_000_000, 6_000_000))
    assert 2**30 <= small < large
    assert task_memory(BuildConfig(root=demo_root, out=tmp_path, task_memory_gb=5), None) == 5 * 2**30
