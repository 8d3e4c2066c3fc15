"""Corpus statistics, hand-checked on a ten-sample corpus, and fast on 200k index rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from shards.layout import done_marker, index_path, manifest_path
from shards.stats import corpus_stats, format_stats
from shards.writer import INDEX_SCHEMA, write_scene_shard
from taxonomy import SUBTASKS
from tests.shards.corpus_factory import mc_sample, numeric_sample, write_frames

RD, LR, OH = "relative_distance", "camera_left_right", "object_height"
LABELS4 = ["chair", "lamp", "sofa", "desk"]


def four(correct: str, slot: int) -> list[str]:
    rest = [t for t in LABELS4 if t != correct]
    return rest[:slot] + [correct] + rest[slot:]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scene 0: relative_distance right answers A (chair), B (chair), A (lamp); heights 10, 20 cm.
    Scene 1: relative_distance D (sofa); camera_left_right B (right) twice; heights 30, 40 cm.
    Rejects: two distance reasons in scene 0, one schema reason in scene 1. Scene 2 failed."""
    out = tmp_path_factory.mktemp("small")
    q = "Which of these objects is closest to the bed?"
    a = write_frames(out, "scene0000_00", 2)
    s0 = [
        mc_sample("scene0000_00", RD, 0, [0], a, q, four("chair", 0), 0, ["bed", "chair"]),
        mc_sample("scene0000_00", RD, 1, [1], a, q, four("chair", 1), 1, ["bed", "chair"]),
        mc_sample("scene0000_00", RD, 2, [0, 1], a, q, four("lamp", 0), 0, ["bed", "lamp"]),
        numeric_sample("scene0000_00", OH, 0, [0], a, "chair", 10.0),
        numeric_sample("scene0000_00", OH, 1, [1], a, "lamp", 20.0),
    ]
    r0 = [
        {"sample": {**s0[0], "id": "r0"}, "reason": "semantic: distance 0.15 below 0.2"},
        {"sample": {**s0[1], "id": "r1"}, "reason": "semantic: distance 0.11 below 0.2"},
    ]
    b = write_frames(out, "scene0001_00", 2)
    lr = "Is the chair left or right of the lamp in this image?"
    s1 = [
        mc_sample("scene0001_00", RD, 0, [0], b, q, four("sofa", 3), 3, ["bed", "sofa"]),
        mc_sample("scene0001_00", LR, 0, [0], b, lr, ["left", "right"], 1, ["chair", "lamp"]),
        mc_sample("scene0001_00", LR, 1, [1], b, lr, ["left", "right"], 1, ["chair", "lamp"]),
        numeric_sample("scene0001_00", OH, 0, [0], b, "chair", 30.0),
        numeric_sample("scene0001_00", OH, 1, [1], b, "chair", 40.0),
    ]
    r1 = [{"sample": {**s1[0], "id": "r2"}, "reason": "schema: options: bad"}]
    write_scene_shard(out, 0, s0, r0, {"source": "synth", "scene_id": "scene0000_00"})
    write_scene_shard(out, 1, s1, r1, {"source": "synth", "scene_id": "scene0001_00"})
    failed = out / "rejects" / "scenes" / "qa-000002.failed.json"
    failed.parent.mkdir(parents=True)
    failed.write_text(
        json.dumps({"source": "synth", "scene_id": "scene0002_00", "stage": "geometry", "reason": "no floor"})
    )
    manifest_path(out).write_text(
        json.dumps(
            {
                "seed": 3,
                "totals": {"samples": 10},
                "scenes": [{"timings": {"read": 1.5}}, {"timings": {"read": 2}}],
            }
        )
    )
    return out


def test_counts(small: Path) -> None:
    s = corpus_stats(small)
    assert s["totals"] == {
        "samples": 10,
        "scenes": 2,
        "sources": 1,
        "subtasks": 3,
        "rejects": 3,
        "failed_scenes": 1,
        "excluded_scenes": 0,  # the manifest names no split (a corpus from before splits)
    }
    cats = {r["category"]: r["n"] for r in s["by_category"]}
    assert cats == {
        "metric_measurement": 4,
        "spatial_relations": 6,
        "mental_reconstruction": 0,
        "perspective_taking": 0,
        "comprehensive_reasoning": 0,
    }
    assert [(r["subtask"], r["n"], r["scenes"]) for r in s["by_subtask"]] == [
        (OH, 4, 2),
        (RD, 4, 2),
        (LR, 2, 1),
    ]
    assert len(s["missing_subtasks"]) == len(SUBTASKS) - 3
    assert s["by_source"] == [{"source": "synth", "n": 10, "scenes": 2}]
    assert [(r["scene_id"], r["n"]) for r in s["by_scene"]] == [("scene0000_00", 5), ("scene0001_00", 5)]
    assert s["samples_per_scene"] == {"min": 5, "median": 5.0, "max": 5}
    assert s["answer_types"] == [
        {"answer_type": "multiple_choice", "n": 6},
        {"answer_type": "numeric", "n": 4},
    ]
    assert s["build"] == {"seed": 3, "totals": {"samples": 10}, "timings_s": {"read": 3.5}}


def test_letter_balance_and_answer_texts(small: Path) -> None:
    s = corpus_stats(small)
    rows = {r["subtask"]: r for r in s["letter_balance"]}
    assert rows[RD]["shares"] == {"A": 0.5, "B": 0.25, "C": 0.0, "D": 0.25}
    assert rows[RD]["chance"] == 0.25 and rows[RD]["max_excess"] == pytest.approx(0.25)
    assert rows[LR]["shares"] == {"A": 0.0, "B": 1.0} and rows[LR]["max_excess"] == pytest.approx(0.5)
    texts = {g["subtask"]: g for g in s["answer_texts"]}
    assert texts[RD]["distinct"] == 3
    assert [(a["answer_text"], a["n"]) for a in texts[RD]["top"]] == [("chair", 2), ("lamp", 1), ("sofa", 1)]
    assert texts[LR]["top"] == [{"answer_text": "right", "n": 2, "share": 1.0}]
    assert s["labels"][:3] == [
        {"label": "chair", "n": 7},
        {"label": "bed", "n": 4},
        {"label": "lamp", "n": 4},
    ]


def test_numeric_values(small: Path) -> None:
    (row,) = corpus_stats(small)["numeric_values"]
    assert row["subtask"] == OH and row["unit"] == "cm" and row["n"] == 4
    assert (row["min"], row["p25"], row["median"], row["p75"], row["max"]) == (10.0, 17.5, 25.0, 32.5, 40.0)


def test_rejects_failures_and_blind_baseline(small: Path) -> None:
    s = corpus_stats(small)
    assert s["rejects_by_reason"] == [
        {"reason": "semantic: distance N below N", "n": 2},
        {"reason": "schema: options: bad", "n": 1},
    ]
    assert s["rejects_by_subtask"] == [{"subtask": RD, "n": 3}]
    assert s["failed_scenes"] == [
        {"source": "synth", "scene_id": "scene0002_00", "stage": "geometry", "reason": "no floor"}
    ]
    assert s["blind_baseline"] is None
    assert "not run" in format_stats(s)
    audit_json = {
        "ok": False,
        "failures": ["relative_distance: text-only baseline too good"],
        "subtasks": [
            {"subtask": RD, "n": 4, "chance": 0.25, "blind_accuracy": 0.75, "blind_best": "option_prior"},
            {"subtask": LR, "n": 2},
        ],
    }
    (small / "audit.json").write_text(json.dumps(audit_json))
    try:
        blind = corpus_stats(small)["blind_baseline"]
    finally:
        (small / "audit.json").unlink()
    assert blind == {
        "ok": False,
        "failures": ["relative_distance: text-only baseline too good"],
        "subtasks": [
            {"subtask": RD, "n": 4, "chance": 0.25, "blind_accuracy": 0.75, "blind_best": "option_prior"}
        ],
    }


def test_excluded_scans_are_counted_from_the_manifest(tmp_path: Path) -> None:
    from tests.shards.corpus_factory import Plan, build_corpus

    build_corpus(tmp_path, Plan(scenes=1, per_scene={OH: 2}))
    manifest = json.loads(manifest_path(tmp_path).read_text())
    excluded = [
        {"scene_id": f"scene{i:04d}_00", "kind": "split", "reason": "split: val, not train", "benchmarks": []}
        for i in range(25)
    ] + [
        {
            "scene_id": "41159521",
            "kind": "benchmark room",
            "reason": "benchmark room: VSI-Bench",
            "benchmarks": ["VSI-Bench"],
        }
    ]
    manifest["split"] = {"name": "train", "excluded": excluded, "benchmark_rooms_held": {}}
    manifest_path(tmp_path).write_text(json.dumps(manifest))
    s = corpus_stats(tmp_path)
    assert s["totals"]["excluded_scenes"] == 26
    assert s["excluded"]["by_kind"] == {"benchmark room": 1, "split": 25}
    text = format_stats(s)
    assert "== excluded scans (--split train): benchmark room 1, split 25" in text
    assert "scene0019_00: split: val, not train" in text and "scene0020_00" not in text
    assert "... 6 more in manifest.json" in text


def test_format_stats_is_readable(small: Path) -> None:
    text = format_stats(corpus_stats(small))
    assert "samples 10  scenes 2" in text
    assert "A:50 B:25 C:0 D:25" in text
    assert "synth/scene0002_00 [geometry]: no floor" in text
    assert "relative_distance (3 distinct): chair 50%, lamp 25%, sofa 25%" in text


def _list_array(values: np.ndarray, width: int) -> pa.ListArray:
    offsets = pa.array(np.arange(0, len(values) + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(values))


def write_synthetic_index(out: Path, rows: int, shards: int) -> None:
    rng = np.random.default_rng(0)
    subtasks = np.array(list(SUBTASKS))
    per = rows // shards
    for shard in range(shards):
        sub = subtasks[rng.integers(len(subtasks), size=per)]
        numeric = np.array([SUBTASKS[s].answer_type == "numeric" for s in sub])
        letters = np.array(list("ABCD"))[rng.integers(4, size=per)]
        words = np.array(["left", "right", "back", "chair", "table", "lamp"])
        columns = {
            "id": pa.array([f"synth-s{shard}-{i:06d}" for i in range(per)]),
            "category": pa.array([SUBTASKS[s].category for s in sub]),
            "subtask": pa.array(sub),
            "source": pa.array(np.full(per, "synth")),
            "scene_id": pa.array(
                np.char.add("scene", (shard * 100 + rng.integers(100, size=per)).astype(str))
            ),
            "scene_source": pa.array(np.full(per, "synth")),
            "answer_type": pa.array(np.where(numeric, "numeric", "multiple_choice")),
            "answer": pa.array(np.where(numeric, "1.5", letters)),
            "answer_text": pa.array(np.where(numeric, "1.5", words[rng.integers(len(words), size=per)])),
            "value": pa.array(np.where(numeric, rng.uniform(0, 5, per), np.nan), mask=~numeric),
            "unit": pa.array(np.where(numeric, "m", ""), mask=~numeric),
            "n_options": pa.array(np.where(numeric, 0, 4).astype(np.int32)),
            "n_images": pa.array(np.ones(per, dtype=np.int32)),
            "question_len": pa.array(np.full(per, 120, dtype=np.int32)),
            "answer_len": pa.array(np.ones(per, dtype=np.int32)),
            "question": pa.array(
                np.full(per, "If I stand by the sofa facing the door, where is the lamp? " * 2)
            ),
            "options": _list_array(np.tile(np.array(["A. left", "B. right", "C. back", "D. front"]), per), 4),
            "images": _list_array(np.full(per, "synth/scene/000000.jpg"), 1),
            "frames": _list_array(np.zeros(per, dtype=np.int64), 1),
            "labels": _list_array(words[rng.integers(len(words), size=2 * per)], 2),
            "shard": pa.array(np.full(per, f"qa-{shard:06d}.tar")),
            "offset": pa.array(np.arange(per, dtype=np.int64)),
            "byte_offset": pa.array(np.arange(per, dtype=np.int64) * 1024),
        }
        table = pa.Table.from_pydict(columns).cast(INDEX_SCHEMA)
        pq.write_table(table, index_path(out, shard), compression="zstd")
        done_marker(out, shard).write_text("{}")


def test_stats_on_200k_rows(tmp_path: Path) -> None:
    # its speed at 8M rows is a `make bench` figure, not a timed test
    (tmp_path / "shards").mkdir()
    write_synthetic_index(tmp_path, 200_000, 10)
    s = corpus_stats(tmp_path)
    assert s["totals"]["samples"] == 200_000
    assert sum(r["n"] for r in s["by_subtask"]) == 200_000


def test_drops_are_summed_over_scene_markers_and_shown(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    q = "Which of these objects is closest to the bed?"
    for shard_no, (scene, drops) in enumerate(
        [
            ("scene0000_00", {RD: {"gap < 0.15 m": 5, "label not single-instance": 2}}),
            ("scene0001_00", {RD: {"gap < 0.15 m": 1}, LR: {"centres < 5% of the image width apart": 7}}),
        ]
    ):
        refs = write_frames(tmp_path, scene, 1)
        sample = mc_sample(scene, RD, 0, [0], refs, q, four("chair", 0), 0, ["bed", "chair"])
        write_scene_shard(
            tmp_path, shard_no, [sample], [], {"source": "synth", "scene_id": scene, "drops": drops}
        )
    want = {
        RD: {"gap < 0.15 m": 6, "label not single-instance": 2},
        LR: {"centres < 5% of the image width apart": 7},
    }
    stats = corpus_stats(tmp_path)
    assert stats["drops"] == want
    assert list(stats["drops"]) == [RD, LR]  # taxonomy order
    assert list(stats["drops"][RD]) == ["gap < 0.15 m", "label not single-instance"]  # most frequent first
    text = format_stats(stats)
    assert "candidates dropped" in text and "label not single-instance" in text
    result = CliRunner().invoke(app, ["stats", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["drops"] == want
