"""Builds over the ScanNet++ and ARKitScenes demo layouts, each with one broken scene: the good scene completes,
the broken one fails with a one-line reason; ids and media are namespaced by source; stats count by source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.build import run_build
from pipeline.config import BuildConfig
from shards.stats import corpus_stats
from shards.writer import read_shard

pytestmark = pytest.mark.slow

GOOD = {"scannetpp": "de00000000", "arkitscenes": "99000000"}


def _break_scannetpp(root: Path) -> str:
    broken = root / "data" / "de000000ff"
    shutil.copytree(root / "data" / GOOD["scannetpp"], broken)
    (broken / "iphone" / "rgb.mkv").write_bytes(b"\x1aE\xdf\xa3" + b"\x00" * 2048)  # cannot be decoded
    return "rgb.mkv"


def _break_arkit(root: Path) -> str:
    traj = root / "3dod" / "Training" / "99000001" / "99000001_frames" / "lowres_wide.traj"
    traj.write_text("\n".join(" ".join(line.split()[1:]) for line in traj.read_text().splitlines()) + "\n")
    return "lowres_wide.traj line 1"  # every line lost its timestamp


@pytest.fixture(scope="module")
def builds(
    small_layouts: dict[str, Path], ray_cluster, tmp_path_factory
) -> dict[str, tuple[Path, dict, str]]:
    out = {}
    for source, breaker in (("scannetpp", _break_scannetpp), ("arkitscenes", _break_arkit)):
        root = tmp_path_factory.mktemp(f"build-{source}")
        shutil.copytree(small_layouts[source], root, dirs_exist_ok=True)
        reason = breaker(root)
        corpus = root / "out"
        manifest = run_build(
            BuildConfig(source=source, root=root, out=corpus), workers=2, show_progress=False
        ).manifest
        out[source] = (corpus, manifest, reason)
    return out


@pytest.mark.parametrize("source", sorted(GOOD))
def test_good_scene_builds_and_broken_one_fails_with_its_reason(builds, source: str) -> None:
    _, manifest, reason = builds[source]
    records = {r["scene_id"]: r for r in manifest["scenes"]}
    assert records[GOOD[source]]["status"] == "ok" and records[GOOD[source]]["n_samples"] > 0
    (failed,) = [r for r in manifest["scenes"] if r["status"] == "failed"]
    assert reason in failed["reason"] and "\n" not in failed["reason"]


@pytest.mark.parametrize("source", sorted(GOOD))
def test_ids_and_media_are_namespaced_by_source(builds, source: str) -> None:
    corpus, _, _ = builds[source]
    samples = [s for tar in (corpus / "shards").glob("*.tar") for s in read_shard(tar)]
    assert samples and all(s["source"] == source and s["id"].startswith(f"{source}-") for s in samples)
    for image in {i for s in samples for i in s["images"]}:
        assert image.startswith(f"{source}/{GOOD[source]}/") and (corpus / "media" / image).is_file()
    stats = corpus_stats(corpus)
    assert [(r["source"], r["n"]) for r in stats["by_source"]] == [(source, len(samples))]


def test_arkit_samples_name_the_box_uid(builds) -> None:
    corpus, _, _ = builds["arkitscenes"]
    annotation = json.loads(
        (corpus.parent / "3dod" / "Training" / "99000000" / "99000000_3dod_annotation.json").read_text()
    )
    uids = [d["uid"] for d in annotation["data"]]
    named = [
        o for tar in (corpus / "shards").glob("*.tar") for s in read_shard(tar) for o in s["facts"]["objects"]
    ]
    assert named and all(o["uid"] == uids[o["instance_id"]] for o in named)
