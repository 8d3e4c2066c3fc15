"""One scene -> one webdataset shard, its parquet index, its rejects, and a commit marker written last.

Shard numbers follow the sorted scene list of the build, so names never depend on worker order, and a resumed
build recognises finished scenes by their marker. JSON is serialised with sorted keys and tar members carry
mtime 0 (shards/tar_members.py writes exactly webdataset's TarWriter(mtime=0) bytes), so bytes are reproducible.
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shards.atomic import atomic_file, atomic_write, atomic_write_with
from shards.layout import done_marker, index_path, rejects_path, shard_name, tar_path
from shards.tar_members import TarMembers

INDEX_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("category", pa.string()),
        ("subtask", pa.string()),
        ("source", pa.string()),
        ("scene_id", pa.string()),
        (
            "scene_source",
            pa.string(),
        ),  # the scan's dataset (scannet, arkitscenes, ...): an ingest's `source` is its dataset
        ("answer_type", pa.string()),
        ("answer", pa.string()),
        ("answer_text", pa.string()),  # the correct option's text (MC) or the answer itself
        ("value", pa.float64()),  # unrounded numeric ground truth, when numeric
        ("unit", pa.string()),
        ("n_options", pa.int32()),
        ("n_images", pa.int32()),
        ("question_len", pa.int32()),
        ("answer_len", pa.int32()),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),
        ("images", pa.list_(pa.string())),
        ("frames", pa.list_(pa.int64())),
        ("labels", pa.list_(pa.string())),  # labels of facts.objects, in rule order
        ("shard", pa.string()),
        ("offset", pa.int64()),  # position of the sample in its shard
        ("byte_offset", pa.int64()),  # tar offset of the sample's .json member header
    ]
)

REJECT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("category", pa.string()),
        ("subtask", pa.string()),
        ("source", pa.string()),
        ("scene_id", pa.string()),
        ("reason", pa.string()),
        ("sample", pa.string()),
    ]
)


def sample_bytes(sample: dict[str, Any]) -> bytes:
    return json.dumps(sample, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def write_scene_shard(
    out: Path,
    shard_no: int,
    samples: list[dict[str, Any]],
    rejects: list[dict[str, Any]],
    record: dict[str, Any],
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Write tar, index and rejects of one scene, then its marker (the commit). Returns the marker record.
    `timings` (the scene's stage seconds, carried by `record`) gets "write" before the marker is written, so
    the marker reports the write stage too."""
    started = time.perf_counter()
    name = f"{shard_name(shard_no)}.tar"
    rows: list[dict[str, Any]] = []
    with atomic_file(tar_path(out, shard_no)) as f:
        sink = TarMembers(f)
        for offset, sample in enumerate(samples):
            # The tar's own position, not a count of 512-byte headers: a name over 100 characters gets an
            # extended (PAX) header first, and the member then starts where that header does.
            byte_offset = sink.offset
            sink.add(f"{sample['id']}.json", sample_bytes(sample))
            rows.append(index_row(sample, name, offset, byte_offset))
        sink.close()
    table = pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)
    atomic_write_with(index_path(out, shard_no), lambda p: pq.write_table(table, p, compression="zstd"))
    reject_rows = [
        {
            "id": r["sample"].get("id", ""),
            "category": r["sample"].get("category", ""),
            "subtask": r["sample"].get("subtask", ""),
            "source": r["sample"].get("source", ""),
            "scene_id": r["sample"].get("scene_id", ""),
            "reason": r["reason"],
            "sample": sample_bytes(r["sample"]).decode(),
        }
        for r in rejects
    ]
    rtable = pa.Table.from_pylist(reject_rows, schema=REJECT_SCHEMA)
    atomic_write_with(rejects_path(out, shard_no), lambda p: pq.write_table(rtable, p, compression="zstd"))
    if timings is not None:
        timings["write"] = round(timings.get("write", 0.0) + time.perf_counter() - started, 4)
    marker = {**record, "shard": name, "n_samples": len(samples), "n_rejects": len(rejects), "status": "ok"}
    atomic_write(done_marker(out, shard_no), json.dumps(marker, sort_keys=True, indent=1).encode())
    return marker


def index_row(sample: dict[str, Any], shard: str, offset: int, byte_offset: int) -> dict[str, Any]:
    options = sample.get("options")
    answer = sample["answer"]
    answer_text = answer
    if options:
        answer_text = next((o[3:] for o in options if o.startswith(f"{answer}. ")), answer)
    facts = sample.get("facts", {})
    return {
        "id": sample["id"],
        "category": sample["category"],
        "subtask": sample["subtask"],
        "source": sample["source"],
        "scene_id": sample["scene_id"],
        "scene_source": sample.get("scene_source", sample["source"]),
        "answer_type": sample["answer_type"],
        "answer": answer,
        "answer_text": answer_text,
        "value": facts.get("value"),
        "unit": facts.get("unit"),
        "n_options": len(options) if options else 0,
        "n_images": len(sample["images"]),
        "question_len": len(sample["question"]),
        "answer_len": len(answer),
        "question": sample["question"],
        "options": options,
        "images": sample["images"],
        "frames": facts.get("frames", []),
        "labels": [o["label"] for o in facts.get("objects", [])],
        "shard": shard,
        "offset": offset,
        "byte_offset": byte_offset,
    }


def read_member_at(path: Path, byte_offset: int) -> tuple[str, dict[str, Any]]:
    """(member name, sample) of the tar member whose headers start at `byte_offset` (the index's
    `byte_offset`); tarfile reads any extended headers, so long names resolve too."""
    with open(path, "rb") as f:
        f.seek(byte_offset)
        with tarfile.open(fileobj=f, mode="r:") as tar:  # a TarFile starts reading where its file is
            member = tar.next()
            if member is None:
                raise tarfile.ReadError(f"no tar member at byte {byte_offset} of {path.name}")
            data = tar.extractfile(member)
            if data is None:
                raise tarfile.ReadError(f"{member.name} in {path.name} is not a file")
            return member.name, json.load(io.TextIOWrapper(data, encoding="utf-8"))


def read_shard(path: Path) -> list[dict[str, Any]]:
    """Samples of one tar shard in order (used by checks and tests; training reads with webdataset)."""
    samples = []
    with tarfile.open(path) as tar:
        for member in tar:
            data = tar.extractfile(member)
            if data is not None and member.name.endswith(".json"):
                samples.append(json.load(io.TextIOWrapper(data, encoding="utf-8")))
    return samples
