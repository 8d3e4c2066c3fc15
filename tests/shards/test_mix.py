"""`sicorpus mix` on synthetic corpora written by the real shard writer: counts, shares, determinism, shortfall."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from schemas.errors import UserError
from schemas.sample import validate_sample
from shards.index import connect
from shards.mix import fair_split, largest_remainder, load_recipe, run_mix
from shards.writer import read_shard
from tests.shards.corpus_factory import Plan, build_corpus

REPO = Path(__file__).resolve().parents[2]
A = Plan(
    scenes=3, frames=5, per_scene={"relative_distance": 30, "camera_left_right": 20, "object_height": 10}
)
B = Plan(scenes=2, frames=5, per_scene={"allocentric_direction": 40, "frame_order": 15, "object_size": 20})
SHARES = {
    "spatial_relations": 0.4,
    "perspective_taking": 0.3,
    "metric_measurement": 0.2,
    "mental_reconstruction": 0.1,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two corpora over the same frames with disjoint subtasks (so disjoint ids): A has 180 samples, B 150."""
    root = tmp_path_factory.mktemp("inputs")
    build_corpus(root / "a", A)
    build_corpus(root / "b", B)
    return root


def recipe(root: Path, name: str = "r.toml", inputs: tuple[str, ...] = ("a", "b"), **extra: object) -> Path:
    body = {"target": 200, "seed": 3, **extra}
    lines = [f"{k} = {json.dumps(v)}" for k, v in body.items() if not isinstance(v, dict)]
    lines.append(f"inputs = {json.dumps(list(inputs))}")
    tables = {"category": SHARES} | {k: v for k, v in body.items() if isinstance(v, dict)}
    for table, values in tables.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {v!r}" for k, v in values.items()]
    path = root / name
    path.write_text("\n".join(lines) + "\n")
    return path


def samples_of(out: Path) -> list[dict]:
    return [s for tar in sorted((out / "shards").glob("qa-*.tar")) for s in read_shard(tar)]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_fair_split_gives_small_cells_all_and_the_rest_evenly() -> None:
    assert fair_split(100, [10, 60, 60], [1, 1, 1]) == [10, 45, 45]
    assert fair_split(10, [100, 100, 100], [1, 1, 1]) == [4, 3, 3]  # remainder to the lower index
    assert fair_split(100, [10, 20], [1, 1]) == [10, 20]  # short: everything there is
    assert fair_split(90, [100, 100], [2, 1]) == [60, 30]  # weights
    assert fair_split(50, [100, 100], [1, 0]) == [50, 0]
    assert sum(largest_remainder(7, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}).values()) == 7


def test_mix_meets_target_and_every_category_share(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "mix"
    result = run_mix(recipe(inputs), out)
    samples = samples_of(out)
    assert result.written == len(samples) == 200
    shares = Counter(s["category"] for s in samples)
    for cat, share in SHARES.items():
        assert abs(shares[cat] / 200 - share) <= 0.01, (cat, shares[cat])
    # balanced within a category: both metric subtasks (30 and 60 available) give 20 each
    subtasks = Counter(s["subtask"] for s in samples)
    assert subtasks["object_height"] == subtasks["object_size"] == 20
    assert subtasks["relative_distance"] == subtasks["camera_left_right"] == 40
    # every sample is an input's sample, unchanged and still valid; ids unique; media hard-linked, not copied
    originals = {s["id"]: s for s in samples_of(inputs / "a") + samples_of(inputs / "b")}
    assert len({s["id"] for s in samples}) == 200
    for s in samples:
        assert s == originals[s["id"]]
        model, reason = validate_sample(s, media_exists=lambda ref: (out / "media" / ref).is_file())
        assert model is not None, reason
        for ref in s["images"]:
            assert os.path.samefile(out / "media" / ref, inputs / "a" / "media" / ref) or os.path.samefile(
                out / "media" / ref, inputs / "b" / "media" / ref
            )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["recipe"]["target"] == 200 and manifest["totals"]["samples"] == 200
    digest = hashlib.sha256((inputs / "a" / "manifest.json").read_bytes()).hexdigest()
    assert manifest["inputs"][0] == {"path": "a", "manifest_sha256": digest, "samples": 180}
    # a mixed corpus is a corpus: the same DuckDB views read it
    con = connect(out)
    assert con.execute("select count(*) from qa").fetchone()[0] == 200
    con.close()


def test_selection_is_the_smallest_keys_of_each_cell(inputs: Path, tmp_path: Path) -> None:
    """md5(seed/id) decides: adding an input cannot reorder the candidates already there."""
    out = tmp_path / "mix"
    run_mix(recipe(inputs), out)
    chosen = {s["id"] for s in samples_of(out)}
    by_cell: dict[tuple, list[str]] = {}
    for s in samples_of(inputs / "a") + samples_of(inputs / "b"):
        by_cell.setdefault((s["category"], s["subtask"], s["source"]), []).append(s["id"])
    for ids in by_cell.values():
        keyed = sorted(
            ids, key=lambda i: (int.from_bytes(hashlib.md5(f"3/{i}".encode()).digest(), "little"), i)
        )
        k = sum(i in chosen for i in ids)
        assert set(keyed[:k]) == chosen & set(ids)


def test_adding_an_input_keeps_the_others_choices(inputs: Path, tmp_path: Path) -> None:
    fixed = {"relative_distance": 0.2, "camera_left_right": 0.2, "object_height": 0.1}
    alone = tmp_path / "alone"
    run_mix(recipe(inputs, "one.toml", ("a",), subtask=fixed, target=100), alone, allow_shortfall=True)
    both = tmp_path / "both"
    run_mix(recipe(inputs, "two.toml", ("a", "b"), subtask=fixed, target=100), both)
    from_a = {s["id"] for s in samples_of(both) if s["subtask"] in fixed}
    assert from_a == {s["id"] for s in samples_of(alone)}


def test_rerun_is_byte_identical(inputs: Path, tmp_path: Path) -> None:
    path = recipe(inputs)
    first, second = tmp_path / "one", tmp_path / "two"
    run_mix(path, first)
    run_mix(path, second)
    run_mix(path, first)  # again into the same folder
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
    assert not (first / ".mix-tmp").exists()


def test_shortfall_is_one_line_and_exit_1_unless_allowed(inputs: Path, tmp_path: Path) -> None:
    path = recipe(inputs, target=400)
    dry = run_cli("mix", str(path), "--out", str(tmp_path / "x"), "--dry-run")
    assert dry.returncode == 1
    assert "cell" in dry.stdout and "shortfall" in dry.stdout and "perspective_taking" in dry.stdout
    errors = [line for line in dry.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "perspective_taking wants 120, only 80" in errors[0], dry.stderr
    assert not (tmp_path / "x").exists()
    allowed = run_cli("mix", str(path), "--out", str(tmp_path / "y"), "--allow-shortfall")
    assert allowed.returncode == 0, allowed.stderr
    assert len(samples_of(tmp_path / "y")) == 330  # everything there is
    assert "TOTAL" in allowed.stdout.splitlines()[-1]
    refused = run_cli("mix", str(path), "--out", str(tmp_path / "z"))
    assert refused.returncode == 1 and not (tmp_path / "z").exists()  # nothing written when not met
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    busy = run_cli("mix", str(recipe(inputs)), "--out", str(tmp_path / "busy"))
    assert busy.returncode == 2 and "not empty" in busy.stderr


def test_max_repeat_repeats_evenly_under_new_ids(inputs: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    run_mix(recipe(inputs, target=500, max_repeat=2), out, allow_shortfall=True)
    samples = samples_of(out)
    assert len({s["id"] for s in samples}) == len(samples)
    base = Counter(re.sub(r"-r\d+$", "", s["id"]) for s in samples)
    assert max(base.values()) <= 2
    # perspective_taking wants 150 of 80 samples: each once, 70 of them twice
    persp = Counter(v for k, v in base.items() if "allocentric" in k)
    assert persp == {2: 70, 1: 10}


def test_subtask_share_and_caps(inputs: Path, tmp_path: Path) -> None:
    path = recipe(inputs, target=100, subtask={"camera_left_right": 0.3, "object_size": 5})
    run_mix(path, tmp_path / "caps")
    counts = Counter(s["subtask"] for s in samples_of(tmp_path / "caps"))
    assert counts["camera_left_right"] == 30 and counts["relative_distance"] == 10  # the share is fixed
    assert counts["object_size"] == 5 and counts["object_height"] == 15  # the cap's rest goes to its sibling
    assert sum(counts.values()) == 100
    # a source cap thins the source evenly over its cells; what is then missing is a shortfall
    capped = recipe(inputs, "cap.toml", target=100, source={"synth": 50})
    result = run_mix(capped, tmp_path / "src", allow_shortfall=True)
    assert result.written <= 50 and result.plan.shortfall_line() is not None


def test_dry_run_writes_nothing(inputs: Path, tmp_path: Path) -> None:
    result = run_mix(recipe(inputs), tmp_path / "dry", dry_run=True)
    assert not (tmp_path / "dry").exists()
    assert result.plan.taken == 200 and "TOTAL" in result.plan.table()


@pytest.mark.parametrize(
    "body, message",
    [
        ("target = 10\ninputs = ['a']\n[category]\nspatial_relations = 0.5\n", "sum to 0.5, not 1"),
        ("target = 10\ninputs = ['a']\n[category]\nflying = 1.0\n", "unknown category 'flying'"),
        ("target = 0\ninputs = ['a']\n[category]\nspatial_relations = 1.0\n", "target"),
        ("target = 10\ninputs = ['a']\ncolour = 1\n[category]\nspatial_relations = 1.0\n", "colour"),
        ("target = 10\ninputs = ['nowhere']\n[category]\nspatial_relations = 1.0\n", "no corpus index"),
        (
            "target = 10\ninputs = ['a']\n[category]\nspatial_relations = 1.0\n[subtask]\nobject_size = 0.2\n",
            "more than its category share",
        ),
        ("target = 10\ninputs = ['a'\n", "not valid TOML"),
    ],
)
def test_bad_recipes(inputs: Path, body: str, message: str) -> None:
    path = inputs / "bad.toml"
    path.write_text(body)
    with pytest.raises(UserError, match=message):
        load_recipe(path)


def test_bad_recipe_from_the_cli_is_one_error_line(inputs: Path, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"target = 10\ninputs = ['{inputs / 'a'}']\n[category]\nspatial_relations = 0.7\n")
    result = run_cli("mix", str(path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: recipe bad.toml: category shares sum to 0.7, not 1")
    assert len(result.stderr.strip().splitlines()) == 1


def test_colliding_media_of_different_inputs_is_refused(tmp_path: Path) -> None:
    build_corpus(tmp_path / "a", Plan(scenes=1, frames=3, per_scene={"object_height": 5}))
    build_corpus(tmp_path / "b", Plan(scenes=1, frames=3, per_scene={"object_size": 5}))
    ref = tmp_path / "b" / "media" / "synth" / "scene0000_00" / "000000.jpg"
    ref.write_bytes(ref.read_bytes()[:-10] + b"0123456789")  # same path, other content
    path = tmp_path / "r.toml"
    path.write_text("target = 10\ninputs = ['a', 'b']\n[category]\nmetric_measurement = 1.0\n")
    with pytest.raises(UserError, match="different files under media/synth/scene0000_00/000000.jpg"):
        run_mix(path, tmp_path / "out")


def test_plan_weights_sources_within_each_subtask() -> None:
    from shards.mix import Recipe, make_plan

    available = {
        ("spatial_relations", "relative_distance", "scannet"): 100,
        ("spatial_relations", "relative_distance", "vsi590k"): 100,
        ("spatial_relations", "closer_of_two", "scannet"): 100,
    }
    recipe = Recipe(
        target=100,
        inputs=["x"],
        category={"spatial_relations": 1.0},
        source={"scannet": 0.75, "vsi590k": 0.25},
    )
    plan = make_plan(recipe, available)
    assert plan.alloc[("spatial_relations", "relative_distance", "scannet")][0] == 38
    assert plan.alloc[("spatial_relations", "relative_distance", "vsi590k")][0] == 12
    assert plan.alloc[("spatial_relations", "closer_of_two", "scannet")][0] == 50
    rows = {r.cell: r for r in plan.source_rows}
    assert rows["source:scannet"].wanted == 75 and rows["source:scannet"].taken == 88
    assert rows["source:vsi590k"].shortfall == 13 and plan.shortfall_line() is not None  # 13 > 1 % of target


def test_plan_reports_a_category_nothing_can_fill() -> None:
    from shards.mix import Recipe, make_plan

    available = {("spatial_relations", "relative_distance", "synth"): 100}
    recipe = Recipe(
        target=50, inputs=["x"], category={"spatial_relations": 0.5, "comprehensive_reasoning": 0.5}
    )
    plan = make_plan(recipe, available)
    assert plan.taken == 25
    assert plan.shortfall_line().startswith("recipe cannot be met: comprehensive_reasoning wants 25, only 0")


def test_a_mix_of_a_mix_and_its_input_takes_each_sample_once(inputs: Path, tmp_path: Path) -> None:
    first = inputs / "first-mix"
    run_mix(recipe(inputs), first)
    nested = recipe(inputs, "nested.toml", ("first-mix", "a"), target=150)
    out = tmp_path / "nested"
    run_mix(nested, out, allow_shortfall=True)
    ids = [s["id"] for s in samples_of(out)]
    assert len(ids) == len(set(ids))
    assert json.loads((out / "manifest.json").read_text())["inputs"][0]["samples"] == 200
