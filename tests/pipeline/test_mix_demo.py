"""Two real demo builds (disjoint scenes) mixed to a target with category shares, then exported for every trainer."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.build import run_build
from pipeline.config import BuildConfig
from shards.export import export
from shards.mix import run_mix
from shards.writer import read_shard
from tests.shards.test_export_formats import qwen_messages

SHARES = {
    "perspective_taking": 0.35,
    "spatial_relations": 0.25,
    "metric_measurement": 0.2,
    "mental_reconstruction": 0.1,
    "comprehensive_reasoning": 0.1,
}


def samples_of(out: Path) -> list[dict]:
    return [s for tar in sorted((out / "shards").glob("qa-*.tar")) for s in read_shard(tar)]


@pytest.mark.slow
def test_two_demo_builds_mixed_and_exported(demo_root: Path, ray_cluster, tmp_path: Path) -> None:
    for name, scenes in (("first", ["scene9000_00"]), ("second", ["scene9001_00"])):
        cfg = BuildConfig(root=demo_root, out=tmp_path / name, scenes=scenes)
        run_build(cfg, workers=2, show_progress=False)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(
        "target = 300\nseed = 7\ninputs = ['first', 'second']\n[category]\n"
        + "".join(f"{k} = {v}\n" for k, v in SHARES.items())
    )
    out = tmp_path / "mix"
    result = run_mix(recipe, out)
    samples = samples_of(out)
    assert result.written == len(samples) == 300
    counts = Counter(s["category"] for s in samples)
    for cat, share in SHARES.items():
        assert abs(counts[cat] / 300 - share) <= 0.01, (cat, counts[cat])
    assert {s["scene_id"] for s in samples} == {"scene9000_00", "scene9001_00"}  # both inputs contribute
    again = tmp_path / "again"
    run_mix(recipe, again)
    for path in sorted((out / "shards").iterdir()):
        assert path.read_bytes() == (again / "shards" / path.name).read_bytes(), path.name
    assert (out / "manifest.json").read_bytes() == (again / "manifest.json").read_bytes()

    too_big = tmp_path / "big.toml"
    too_big.write_text(recipe.read_text().replace("target = 300", "target = 1000000"))
    short = run_mix(too_big, tmp_path / "big", dry_run=True)
    assert short.plan.shortfall_line() and "recipe cannot be met" in short.plan.shortfall_line()

    by_id = {s["id"]: s for s in samples}
    for fmt in ("internvl", "llava", "qwenvl", "llamafactory", "swift"):
        dest = tmp_path / fmt
        export(out, fmt, dest, name="mix", video="mp4")
        records = [json.loads(line) for line in (dest / "mix.jsonl").read_text().splitlines()]
        assert len(records) == 300
        for r in records:
            sample = by_id[r["id"]]
            if fmt == "qwenvl":
                media = [c for c in qwen_messages(r, dest)[0]["content"] if c["type"] != "text"]
                assert all(Path(c.get("image") or c.get("video")).is_file() for c in media)
            elif fmt in ("llamafactory", "swift"):
                files = r.get("images", []) + r.get("videos", [])
                prompt = r["messages"][0]["content"]
                assert prompt.count("<image>") + prompt.count("<video>") == len(files)
                assert (
                    all((dest / p).is_file() for p in files)
                    and r["messages"][1]["content"] == sample["answer"]
                )
            else:
                files = (
                    [r["video"]]
                    if "video" in r
                    else r["image"]
                    if isinstance(r["image"], list)
                    else [r["image"]]
                )
                tags = r["conversations"][0]["value"].count("<image>") + r["conversations"][0]["value"].count(
                    "<video>"
                )
                assert tags == len(files) and all((dest / p).is_file() for p in files)

    counts = export(out, "vsibench", tmp_path / "vsi")
    rows = pq.read_table(tmp_path / "vsi" / "vsibench.parquet").to_pylist()
    assert rows and len(rows) == counts["samples"]
    for row in rows:
        sample = by_id[row["sample_id"]]
        assert row["ground_truth"] == sample["answer"] and row["options"] == sample["options"]
        assert (tmp_path / "vsi" / "hf" / "vsibench" / row["dataset"] / f"{row['scene_name']}.mp4").is_file()
