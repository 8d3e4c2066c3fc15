"""`sicorpus ingest` end to end on small files: shards like a build's, drops counted, duplicates removed across
inputs, benchmark files dropped whole, resumable and deterministic; stats, query, export and audit read it."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from pipeline.ingest import run_ingest
from schemas.errors import UserError
from shards.index import query
from shards.writer import read_shard


def _jpg(path: Path, shade: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (shade, shade, shade)).save(path)


def _rec(i: int, image: str, qtype: str = "object_rel_distance", answer: str = "B") -> dict:
    return {
        "id": f"r{i}",
        "image": [image],
        "type": qtype,
        "conversations": [
            {
                "from": "human",
                "value": f"<image>\nWhich is closest to the bed {i}?\nA. chair\nB. desk\nC. lamp",
            },
            {"from": "gpt", "value": answer},
        ],
    }


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, list[Path]]:
    media = tmp_path / "media"
    for k in range(6):
        _jpg(media / f"scannet/scene000{k}_00/0.jpg", 40 * k)
    _jpg(media / "scannet/scene0251_00/0.jpg", 10)  # a VSI-Bench val scan
    a = [_rec(i, f"scannet/scene000{i}_00/0.jpg") for i in range(6)]
    a.append(_rec(6, "scannet/scene0003_00/missing.jpg"))
    a.append(_rec(7, "scannet/scene0251_00/0.jpg"))
    a.append(_rec(0, "scannet/scene0000_00/0.jpg"))  # an exact duplicate within the file
    b = [_rec(1, "scannet/scene0001_00/0.jpg"), _rec(8, "scannet/scene0002_00/0.jpg", "no_such_type")]
    files = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    for f, recs in zip(files, (a, b), strict=True):
        f.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return media, files


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for p in sorted((out / "shards").glob("*")):
        if p.suffix in (".tar", ".parquet"):
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
def test_ingest_end_to_end(ray_cluster, inputs, tmp_path):
    media, files = inputs
    out = tmp_path / "out"
    result = run_ingest("internvl", files, out, media, workers=2, chunk_bytes=600)
    totals = result.manifest["totals"]
    assert totals["written"] == 6
    assert totals["dropped"] == {"benchmark room": 1, "duplicate": 2, "missing media": 1, "unmapped type": 1}
    assert result.summary().startswith("ingested 6 samples; dropped 5 (duplicate 2,")
    assert len(result.manifest["scenes"]) > 2  # several chunks, one shard each

    cols, rows = query(
        out, 'SELECT source, scene_source, scene_id, subtask, answer FROM qa ORDER BY shard, "offset"'
    )
    assert {r[0] for r in rows} == {"internvl"} and {r[1] for r in rows} == {"scannet"}
    assert sorted(r[2] for r in rows) == [f"scene000{k}_00" for k in range(6)]
    assert {r[3] for r in rows} == {"relative_distance"}
    _, reasons = query(out, "SELECT reason FROM rejects")
    assert any(r[0].startswith("benchmark room: VSI-Bench") for r in reasons)
    samples = [s for p in sorted((out / "shards").glob("*.tar")) for s in read_shard(p)]
    assert all((out / "media" / ref).is_file() for s in samples for ref in s["images"])
    assert (
        samples[0]["provenance"]["file"] == str(files[0]) and samples[0]["provenance"]["original_id"] == "r0"
    )

    # resumable and deterministic: a rerun does nothing; a shard lost to a kill is redone byte for byte; a fresh
    # run with other workers gives the same bytes
    before = _digest(out)
    again = run_ingest("internvl", files, out, media, workers=1, chunk_bytes=600)
    assert again.ran == 0 and _digest(out) == before
    (out / "shards" / "qa-000001.done.json").unlink()
    (out / "shards" / "qa-000001.tar").unlink()
    resumed = run_ingest("internvl", files, out, media, workers=2, chunk_bytes=600)
    assert resumed.ran == 1 and _digest(out) == before
    other = tmp_path / "other"
    run_ingest("internvl", files, other, media, workers=1, chunk_bytes=600)
    assert _digest(other) == before
    with pytest.raises(UserError, match="another ingest or build"):
        run_ingest("internvl", files[:1], out, media, workers=1, chunk_bytes=600)

    from shards.audit import audit
    from shards.export import export
    from shards.stats import corpus_stats

    stats = corpus_stats(out)
    assert stats["totals"]["samples"] == 6 and stats["by_source"][0]["source"] == "internvl"
    counts = export(out, "internvl", tmp_path / "exp")
    assert counts["samples"] == 6 and counts["skipped"] == 0
    line = json.loads((tmp_path / "exp" / "out.jsonl").read_text().splitlines()[0])
    assert line["conversations"][0]["value"].startswith("<image>\nWhich is closest")
    audit(out)  # runs on an ingested corpus (6 samples: too few to judge, but no error)

    from shards.decontaminate import decontaminate

    assert decontaminate(out, []).ok  # benchmark rooms were dropped on the way in
    kept = run_ingest(
        "internvl", files, tmp_path / "kept", media, workers=2, chunk_bytes=600, keep_benchmark=True
    )
    assert "benchmark room" not in kept.manifest["totals"]["dropped"]
    found = decontaminate(tmp_path / "kept", [])
    assert (
        not found.ok and ("scannet", "scene0251_00") in found.findings
    )  # judged by scene_source, not source


@pytest.mark.slow
def test_benchmark_question_file_yields_nothing_and_sat_parquet(ray_cluster, tmp_path):
    bench = tmp_path / "eval" / "ViewSpatial-Bench.json"
    bench.parent.mkdir()
    bench.write_text(json.dumps([{"question_type": "Camera perspective - Relative Direction",
                                  "image_path": ["ViewSpatial-Bench/scannetv2_val/scene0011_00/original_images/280.jpg"],
                                  "question": "Where is the counter?", "answer": "A. right",
                                  "choices": "A. right\nB. left"}]))  # fmt: skip
    logged: list[str] = []
    result = run_ingest("viewspatial", [bench], tmp_path / "vs", tmp_path, log=logged.append)
    assert result.manifest["totals"]["written"] == 0 and not list((tmp_path / "vs").glob("shards/*.tar"))
    assert logged and "ViewSpatial-Bench" in logged[0] and "dropped whole" in logged[0]
    assert result.summary().endswith("1 benchmark file(s) dropped whole")

    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 0, 0)).save(buf, format="PNG")
    table = pa.table(
        {
            "image_bytes": [[buf.getvalue()], [buf.getvalue()]],
            "question": ["Is the red box left or right of the chair?", "Which object is nearer the camera?"],
            "answers": [["left", "right"], ["box", "chair"]],
            "question_type": ["spatial", "depth"],
            "correct_answer": ["right", "box"],
        }
    )
    pq.write_table(table, tmp_path / "sat.parquet")
    result = run_ingest("sat", [tmp_path / "sat.parquet"], tmp_path / "sat", None, workers=1)
    assert result.manifest["totals"]["written"] == 2
    _, rows = query(tmp_path / "sat", "SELECT subtask, answer, images FROM qa ORDER BY id")
    assert [(r[0], r[1]) for r in rows] == [("object_spatial_relation", "B"), ("depth_comparison", "A")]
    assert rows[0][2] == rows[1][2]  # the same embedded image is stored once

    from shards.mix import run_mix

    recipe = tmp_path / "recipe.toml"  # community subtasks are mixed like generated ones
    recipe.write_text(
        f'target = 2\nseed = 0\ninputs = ["{tmp_path / "sat"}"]\n[category]\nspatial_relations = 1.0\n'
    )
    run_mix(recipe, tmp_path / "mixed", dry_run=False, allow_shortfall=False)
    _, mixed = query(tmp_path / "mixed", "SELECT subtask FROM qa ORDER BY subtask")
    assert mixed == [("depth_comparison",), ("object_spatial_relation",)]
