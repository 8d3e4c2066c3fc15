"""Benchmark-clean by default: a root holding a train scan, a VSI-Bench val scan, a val scan in a VSI-Bench room
and a user's own scan, built with the default split and with `--split all`, then checked by `decontaminate`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.build import benchmark_warnings, plan_scenes, run_build
from pipeline.config import BuildConfig
from schemas.errors import UserError
from shards.stats import corpus_stats, format_stats

REPO = Path(__file__).resolve().parents[2]
TRAIN, VSI, VSI_ROOM, OWN = "scene0000_00", "scene0251_00", "scene0701_01", "scene9000_00"
# scene0251_00 is a VSI-Bench and a ViewSpatial-Bench scan; scene0701_01 is in neither list, but VSI-Bench
# evaluates on scene0701_00, the same room; scene9000_00 is on no official list (a user's own scan).


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


@pytest.fixture(scope="module")
def mixed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sources.demo import make_demo

    root = tmp_path_factory.mktemp("mixed")
    make_demo(root, scenes=4, seed=0, frames=10, vertices=6000, ids=[TRAIN, VSI, VSI_ROOM, OWN])
    return root


def test_plan_per_split(mixed_root: Path, tmp_path: Path):
    def plan(split: str, **kw) -> tuple[list[str], list[str]]:
        scenes, excluded = plan_scenes(BuildConfig(root=mixed_root, out=tmp_path, split=split, **kw))
        return scenes, [e["scene_id"] for e in excluded]

    assert plan("train") == ([TRAIN, OWN], [VSI, VSI_ROOM])
    assert plan("val") == ([VSI, VSI_ROOM], [TRAIN, OWN])
    assert plan("all") == ([TRAIN, VSI, VSI_ROOM, OWN], [])
    assert plan("train", limit=1) == ([TRAIN], [VSI, VSI_ROOM])  # the limit counts kept scans
    assert plan("train", scenes=[VSI, OWN]) == ([OWN], [VSI])  # named scans obey the split too
    with pytest.raises(UserError, match=r"no test scans .* all 4 excluded .*--split"):
        plan("test")


def test_the_split_and_the_lists_are_part_of_the_build_identity(tmp_path: Path):
    train = BuildConfig(root=tmp_path, out=tmp_path).corpus_identity()
    assert train["split"] == "train" and len(train["lists_version"]) == 16
    assert BuildConfig(root=tmp_path, out=tmp_path, split="all").corpus_identity() != train


def test_an_unknown_split_is_one_error_line():
    result = cli("build", "--root", ".", "--out", "/tmp/sicorpus-never", "--split", "dev")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.startswith("error: setting split = 'dev' (from --split):")
        and len(result.stderr.strip().splitlines()) == 1
    )


@pytest.mark.slow
def test_default_build_keeps_train_and_unlisted_scans_and_names_the_others(
    mixed_root: Path, ray_cluster, tmp_path: Path
):
    out = tmp_path / "train"
    manifest = run_build(BuildConfig(root=mixed_root, out=out), workers=2, show_progress=False).manifest
    assert {s["scene_id"]: (s["status"], s["split"]) for s in manifest["scenes"]} == {
        TRAIN: ("ok", "train"),
        OWN: ("ok", "unlisted"),
    }
    excluded = {e["scene_id"]: e for e in manifest["split"]["excluded"]}
    assert set(excluded) == {VSI, VSI_ROOM}
    assert excluded[VSI]["benchmarks"] == ["VSI-Bench", "ViewSpatial-Bench"]
    assert excluded[VSI_ROOM]["benchmarks"] == ["VSI-Bench"] and excluded[VSI_ROOM]["room"] == "scene0701"
    assert all(e["reason"] == "split: val, not train" for e in excluded.values())
    assert manifest["totals"]["excluded"] == 2 and manifest["totals"]["unlisted"] == 1
    assert manifest["split"]["benchmark_rooms_held"] == {} and benchmark_warnings(manifest) == []

    stats = corpus_stats(out)
    assert stats["totals"]["excluded_scenes"] == 2 and stats["excluded"]["by_kind"] == {"split": 2}
    text = format_stats(stats)
    assert f"{VSI_ROOM}: split: val, not train (its room is in VSI-Bench)" in text

    check = cli("decontaminate", str(out))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout == "" and "clean" in check.stderr

    with pytest.raises(UserError, match="other settings"):  # a resume with another split is another corpus
        run_build(BuildConfig(root=mixed_root, out=out, split="all"), workers=2, show_progress=False)


@pytest.mark.slow
def test_split_all_builds_every_scan_warns_and_fails_decontamination(
    mixed_root: Path, ray_cluster, tmp_path: Path
):
    out = tmp_path / "all"
    manifest = run_build(
        BuildConfig(root=mixed_root, out=out, split="all"), workers=2, show_progress=False
    ).manifest
    assert [(s["scene_id"], s["status"]) for s in manifest["scenes"]] == [
        (s, "ok") for s in (TRAIN, VSI, VSI_ROOM, OWN)
    ]
    assert manifest["split"]["excluded"] == []
    assert manifest["split"]["benchmark_rooms_held"] == {
        "VSI-Bench": {"held": 2, "rooms": 88},
        "ViewSpatial-Bench": {"held": 1, "rooms": 131},
    }
    warnings = benchmark_warnings(manifest)
    assert len(warnings) == 2 and "2 of the 88 scannet rooms VSI-Bench" in warnings[0]

    check = cli("decontaminate", str(out))
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        f"{VSI}: VSI-Bench, ViewSpatial-Bench (room scene0251)",
        f"{VSI_ROOM}: VSI-Bench (room scene0701)",
    ]
    assert "2 scans overlap" in check.stderr
    only = cli("decontaminate", str(out), "--benchmark", "viewspatial-bench", "--benchmark", "MMSI-Bench")
    assert only.returncode == 2 and "ships images" in only.stderr  # MMSI-Bench: only by its image parquet
    only = cli("decontaminate", str(out), "--benchmark", "ViewSpatial-Bench")
    assert only.returncode == 1 and only.stdout.splitlines() == [f"{VSI}: ViewSpatial-Bench (room scene0251)"]
    assert json.loads((out / "plan.json").read_text())["identity"]["split"] == "all"
