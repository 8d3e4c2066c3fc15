"""The two stages of one ingest chunk, each run as a Ray task (pipeline.ingest) or directly.

Stage 1 (`stage_chunk`) reads the chunk's records, normalises each into a draft sample or a counted drop, and
writes them to `OUT/ingest/qa-N.staged.jsonl` with the drafts' duplicate keys in `qa-N.keys.npy`. Stage 2
(`write_chunk`), given which drafts repeat an earlier one (decided over all keys, in input order), places the
media (hard links, else copies; SPAR markers drawn), validates, and writes the shard like a build's, committed by
its marker. Staged files are written under temporary names and renamed, so either stage can be killed and redone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from schemas import validate_sample
from shards.atomic import atomic_file, atomic_write
from shards.layout import media_dir, shard_name
from shards.writer import sample_bytes, write_scene_shard
from sources.community import FORMATS
from sources.community.inputs import Chunk, iter_objects
from sources.community.markers import render
from sources.community.normalise import Draft, normalise
from sources.community.record import Drop, reason_key

RAW_LIMIT = 2000  # characters of a dropped record kept in rejects/ (enough to see why, never the whole file)


def staging_dir(out: Path) -> Path:
    return out / "ingest"


def staged_path(out: Path, shard_no: int) -> Path:
    return staging_dir(out) / f"{shard_name(shard_no)}.staged.jsonl"


def keys_path(out: Path, shard_no: int) -> Path:
    return staging_dir(out) / f"{shard_name(shard_no)}.keys.npy"


def _image_ext(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise Drop("malformed record: an embedded image is neither PNG, JPEG nor WebP")


def place_embedded(out: Path, dataset: str, images: list[bytes]) -> list[str]:
    """Images carried in the input file, written once by content (the same bytes in two rows: one file)."""
    refs = []
    for data in images:
        digest = hashlib.sha256(data).hexdigest()
        ref = f"{dataset}/{digest[:2]}/{digest}.{_image_ext(data)}"
        path = media_dir(out) / ref
        if not path.exists():
            atomic_write(path, data)
        refs.append(ref)
    return refs


def _drop_row(dataset: str, sample_id: str, reason: str, raw: Any, subtask: str = "") -> dict[str, Any]:
    text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, ensure_ascii=False, default=repr)
    return {
        "drop": reason,
        "sample": {"id": sample_id, "source": dataset, "subtask": subtask, "raw": text[:RAW_LIMIT]},
    }


def stage_chunk(
    fmt: str, chunk: Chunk, shard_no: int, out: Path, media_root: Path | None, keep_benchmark: bool
) -> dict[str, Any]:
    """Stage 1; returns {"staged": n drafts, "seconds": s, "peak_rss_mb": m} (drops are in the staged file)."""
    start = time.perf_counter()
    parse = FORMATS[fmt].parse
    keys: list[int] = []
    dropped: Counter[str] = Counter()
    position = 0
    with atomic_file(staged_path(out, shard_no)) as f:
        for index, obj in iter_objects(chunk):
            base = f"{fmt}-{shard_no:06d}-{position:06d}"
            position += 1
            if isinstance(obj, str):
                row = _drop_row(fmt, base, obj, obj)
                dropped[reason_key(obj)] += 1
                f.write(sample_bytes(row) + b"\n")
                continue
            try:
                records = parse(obj, chunk.file, index)
            except Drop as d:
                dropped[reason_key(d.reason)] += 1
                f.write(sample_bytes(_drop_row(fmt, base, d.reason, obj)) + b"\n")
                continue
            for record in records:
                sample_id = base if record.turn == 0 else f"{base}-t{record.turn}"
                try:
                    draft = normalise(record, sample_id, media_root, keep_benchmark)
                    if record.embedded:
                        draft.sample["images"] = place_embedded(out, fmt, record.embedded)
                        draft.sample["facts"]["frames"] = list(range(len(record.embedded)))
                        draft.sources = [None] * len(record.embedded)
                    _, reason = validate_sample(draft.sample)
                    if reason is not None:
                        raise Drop(f"invalid: {reason}")
                except Drop as d:
                    dropped[reason_key(d.reason)] += 1
                    f.write(sample_bytes(_drop_row(fmt, sample_id, d.reason, obj)) + b"\n")
                    continue
                keys.append(draft.key())
                line = {"sample": draft.sample, "sources": draft.sources, "draws": draft.draws}
                f.write(sample_bytes(line) + b"\n")
    with atomic_file(keys_path(out, shard_no)) as kf:
        np.save(kf, np.asarray(keys, dtype=np.int64))
    return {
        "staged": len(keys),
        "seconds": round(time.perf_counter() - start, 4),
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


def _place(src: str, dst: Path) -> None:
    """Hard-link the original file into media/ (a copy across filesystems); written under a temporary name."""
    if dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    try:
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        if tmp.exists():
            tmp.unlink()


def _media(out: Path, draft: Draft, placed: set[str]) -> None:
    sample = draft.sample
    root = media_dir(out)
    for ref, src in zip(sample["images"], draft.sources, strict=True):
        if src is not None and ref not in placed:
            _place(src, root / ref)
            placed.add(ref)
    by_image: dict[int, list[Any]] = {}
    for d in draft.draws:
        by_image.setdefault(int(d[0]), []).append(d)
    for index, draws in sorted(by_image.items()):
        marked = f"{sample['source']}/_marked/{sample['id']}-{index}.jpg"
        path = root / marked
        if not path.exists():
            atomic_write(path, render((root / sample["images"][index]).read_bytes(), draws))
        sample["images"][index] = marked


def write_chunk(out: Path, shard_no: int, duplicates: list[int], record: dict[str, Any]) -> dict[str, Any]:
    """Stage 2; `duplicates`: positions (among the chunk's drafts) that repeat an earlier draft."""
    start = time.perf_counter()
    repeat = set(duplicates)
    root = media_dir(out)
    seen: dict[str, bool] = {}

    def media_exists(ref: str) -> bool:
        if ref not in seen:
            seen[ref] = (root / ref).is_file()
        return seen[ref]

    samples: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    placed: set[str] = set()
    position = 0
    with open(staged_path(out, shard_no), encoding="utf-8") as f:
        for line in f:
            item = json.loads(line)
            if "drop" in item:
                dropped[reason_key(item["drop"])] += 1
                rejects.append({"sample": item["sample"], "reason": item["drop"]})
                continue
            draft = Draft(item["sample"], item["sources"], [tuple(d) for d in item["draws"]])
            position += 1
            if position - 1 in repeat:
                dropped["duplicate"] += 1
                rejects.append(
                    {"sample": draft.sample, "reason": "duplicate: same question, answer and media"}
                )
                continue
            _media(out, draft, placed)
            # the schema was checked when staged; what changed since is where the media are
            absent = [ref for ref in draft.sample["images"] if not media_exists(ref)]
            reason = f"semantic: images {absent[:3]} do not exist under media/" if absent else None
            if reason is not None:
                dropped["invalid"] += 1
                rejects.append({"sample": draft.sample, "reason": f"invalid: {reason}"})
                continue
            samples.append(draft.sample)
    record = {
        **record,
        "dropped": dict(sorted(dropped.items())),
        "timings": {**record.get("timings", {}), "write": round(time.perf_counter() - start, 4)},
        "peak_rss_mb": max(peak_rss_mb(), float(record.get("peak_rss_mb") or 0.0)),
    }
    marker = write_scene_shard(out, shard_no, samples, rejects, record)
    staged_path(out, shard_no).unlink(missing_ok=True)  # the shard holds it now; the keys stay for resumes
    return marker
