"""Export: one <image> per image, every path exists, each frame placed once, deterministic bytes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import shards.export as export_module
from schemas.errors import UserError
from shards.export import export
from shards.writer import read_shard
from tests.shards.corpus_factory import Plan, build_corpus

PLAN = Plan(
    scenes=3, frames=5, per_scene={"relative_distance": 12, "camera_left_right": 8, "object_height": 6}
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    build_corpus(out, PLAN)
    return out


def tar_order(out: Path) -> list[dict]:
    return [s for tar in sorted((out / "shards").glob("qa-*.tar")) for s in read_shard(tar)]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_internvl_layout(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    placed: list[Path] = []
    real_place = export_module._place
    monkeypatch.setattr(export_module, "_place", lambda src, dst: placed.append(dst) or real_place(src, dst))
    dest = tmp_path / "internvl"
    counts = export(corpus, "internvl", dest)
    samples = tar_order(corpus)
    records = lines(dest / f"{corpus.name}.jsonl")
    assert counts["samples"] == len(records) == len(samples) == 3 * 26
    used = {ref for s in samples for ref in s["images"]}
    # each frame placed exactly once, however many samples use it
    assert len(placed) == len(set(placed)) == counts["images"] == len(used)
    assert sorted(
        p.relative_to(dest / "images").as_posix() for p in (dest / "images").rglob("*.jpg")
    ) == sorted(used)
    for record, sample in zip(records, samples, strict=True):
        assert record["id"] == sample["id"]
        assert isinstance(record["image"], list) and len(record["image"]) == len(sample["images"])
        human, gpt = record["conversations"]
        assert (human["from"], gpt["from"]) == ("human", "gpt")
        assert human["value"].count("<image>") == len(record["image"])
        assert human["value"] == "<image>\n" * len(record["image"]) + sample["question"]
        assert gpt["value"] == sample["answer"]
        for rel, ref in zip(record["image"], sample["images"], strict=True):
            assert rel == f"images/{ref}"
            assert (dest / rel).read_bytes() == (corpus / "media" / ref).read_bytes()
    meta = json.loads((dest / "meta.json").read_text())
    assert meta[corpus.name]["length"] == len(records)
    assert Path(meta[corpus.name]["root"]) == dest.resolve()


def test_llava_single_image_is_a_string(corpus: Path, tmp_path: Path) -> None:
    export(corpus, "llava", tmp_path / "llava", name="spatial")
    records = lines(tmp_path / "llava" / "spatial.jsonl")
    singles = [r for r in records if isinstance(r["image"], str)]
    multis = [r for r in records if isinstance(r["image"], list)]
    assert singles and multis and all(len(r["image"]) > 1 for r in multis)
    for r in records:
        images = [r["image"]] if isinstance(r["image"], str) else r["image"]
        assert r["conversations"][0]["value"].count("<image>") == len(images)
        assert all((tmp_path / "llava" / p).is_file() for p in images)
    assert not (tmp_path / "llava" / "meta.json").exists()


def test_deterministic_and_hard_linked(corpus: Path, tmp_path: Path) -> None:
    a = export(corpus, "internvl", tmp_path / "a", name="x")
    b = export(corpus, "internvl", tmp_path / "b", name="x")
    assert (tmp_path / "a" / "x.jsonl").read_bytes() == (tmp_path / "b" / "x.jsonl").read_bytes()
    assert a["linked"] == a["images"]  # same filesystem: links, no copies
    some = next((tmp_path / "a" / "images").rglob("*.jpg"))
    source = corpus / "media" / some.relative_to(tmp_path / "a" / "images")
    assert os.path.samefile(some, source)
    again = export(corpus, "internvl", tmp_path / "a", name="x")  # re-export into the same folder
    assert again == {**a, "jsonl": str(tmp_path / "a" / "x.jsonl")} and b["samples"] == a["samples"]


def test_sample_with_a_missing_frame_is_skipped(tmp_path: Path) -> None:
    out = tmp_path / "c"
    build_corpus(out, Plan(scenes=1, frames=3, per_scene={"object_height": 10}))
    gone = "synth/scene0000_00/000001.jpg"
    (out / "media" / gone).unlink()
    users = [s for s in tar_order(out) if gone in s["images"]]
    counts = export(out, "internvl", tmp_path / "d")
    records = lines(tmp_path / "d" / "c.jsonl")
    assert users and counts["skipped"] == len(users) and len(records) == 10 - len(users)
    assert all(f"images/{gone}" not in r["image"] for r in records)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="run `sicorpus build` first"):
        export(tmp_path, "internvl", tmp_path / "x")
    with pytest.raises(UserError, match="unknown export format"):
        export(tmp_path, "sharegpt", tmp_path / "x")  # type: ignore[arg-type]
