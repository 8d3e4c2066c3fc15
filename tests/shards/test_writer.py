"""The index's byte offsets come from the tar itself: long keys (extended headers) included."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import webdataset as wds

from schemas.sample import validate_sample
from shards.layout import index_path, media_dir, tar_path
from shards.report import read_sample
from shards.writer import read_member_at, write_scene_shard
from tests.shards.corpus_factory import mc_sample, write_frames


def samples_with_ids(out: Path, ids: list[str]) -> list[dict]:
    refs = write_frames(out, "scene0000_00", 2)
    samples = []
    for k, sample_id in enumerate(ids):
        s = mc_sample(
            "scene0000_00",
            "relative_distance",
            k,
            [0],
            refs,
            "Which one is nearer, really?",
            ["a", "b"],
            0,
            ["a"],
        )
        s["id"] = sample_id
        model, reason = validate_sample(s, media_exists=lambda ref: (media_dir(out) / ref).is_file())
        assert model is not None, reason
        samples.append(s)
    return samples


def test_a_120_character_id_reads_back_through_the_index_offset(tmp_path: Path) -> None:
    long_id = "scannet-" + "x" * 100 + "-long-000001"
    assert len(long_id) == 120
    ids = ["short-0", long_id, "short-1", "y" * 300]
    samples = samples_with_ids(tmp_path, ids)
    write_scene_shard(tmp_path, 0, samples, [], {"source": "synth", "scene_id": "scene0000_00"})
    rows = pq.read_table(index_path(tmp_path, 0)).to_pylist()
    assert [r["id"] for r in rows] == ids
    with tarfile.open(tar_path(tmp_path, 0)) as tar:
        starts = [m.offset for m in tar.getmembers()]  # where each member's headers begin
    assert [r["byte_offset"] for r in rows] == starts
    assert starts[2] - starts[1] > 512 + 512 * -(-len(samples[1]) // 512)  # the long key's extra header
    for row, sample in zip(rows, samples, strict=True):
        name, read = read_member_at(tar_path(tmp_path, 0), row["byte_offset"])
        assert (name, read) == (f"{sample['id']}.json", sample)
        assert read_sample(tmp_path, "qa-000000.tar", row["byte_offset"], row["id"]) == sample
    # webdataset sees the same keys in the same order
    keys = [s["__key__"] for s in wds.WebDataset(str(tar_path(tmp_path, 0)), shardshuffle=False)]
    assert keys == ids


def test_an_offset_that_is_not_a_member_start_does_not_read_back(tmp_path: Path) -> None:
    samples = samples_with_ids(tmp_path, ["a" * 120, "b-1"])
    write_scene_shard(tmp_path, 0, samples, [], {"source": "synth", "scene_id": "scene0000_00"})
    assert read_sample(tmp_path, "qa-000000.tar", 512, "a" * 120) is None  # inside the PAX header chain
