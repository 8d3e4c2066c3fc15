"""Training-ready JSONL for the trainers people use (internvl, llava, qwenvl, llamafactory, swift), and `vsibench`
(an evaluation split in VSI-Bench's columns, shards/exports/vsibench.py). Formats: shards/exports/formats.py.

The plan comes from the index alone (DuckDB): the frames to place, streamed as a distinct list, so memory stays
bounded however large the corpus. Each frame is placed once under DEST/images/<source>/<scene>/<frame>.jpg (a hard
link when DEST is on the same filesystem as OUT, a copy otherwise). Samples are then read from the committed tar
shards in index order (shard, offset), so the output is deterministic; records refer to media relative to DEST.
With `video="mp4"` a sample of a video subtask with several frames becomes one mp4 under DEST/videos/ instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from schemas.errors import UserError
from shards.atomic import atomic_file
from shards.exports.formats import FORMATS, IMAGE_TOKEN
from shards.exports.video import encode_mp4, video_ref
from shards.index import NO_CORPUS, committed_indexes, connect
from shards.layout import media_dir
from shards.writer import read_shard
from taxonomy import SUBTASKS

EXPORT_FORMATS = (*FORMATS, "vsibench")
VIDEO_ENCODINGS = ("mp4",)
VIDEO_SUBTASKS = tuple(s for s, spec in SUBTASKS.items() if spec.media == "video")

__all__ = ["EXPORT_FORMATS", "IMAGE_TOKEN", "export", "plan_export", "conversation"]


def conversation(sample: dict[str, Any], images: list[str], fmt: str) -> dict[str, Any]:
    """One record of `fmt` for a sample whose images are already placed at `images` (relative to DEST)."""
    return FORMATS[fmt].record(sample, images, None)


def _safe_ref(ref: str) -> bool:
    path = Path(ref)
    return bool(ref) and not path.is_absolute() and ".." not in path.parts


def _place(src: Path, dst: Path) -> str:
    """Hard-link src to dst, copying when linking is impossible; returns 'linked' or 'copied'."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() and os.path.samefile(src, dst):
        return "linked"  # already the same file (a re-export, or DEST/images is OUT/media): never unlink the source
    if dst.exists() or dst.is_symlink():
        dst.unlink()  # a re-export replaces what an earlier one left
    try:
        os.link(src, dst)
        return "linked"
    except OSError:
        shutil.copyfile(src, dst)
        return "copied"


def is_video(sample: dict[str, Any], video: str | None) -> bool:
    return video is not None and sample["subtask"] in VIDEO_SUBTASKS and len(sample.get("images") or []) > 1


def _filter_sql(scenes: set[tuple[str, str]] | None, video: str | None) -> str:
    """WHERE clause of the samples whose frames are placed as images."""
    clauses = ["true"]
    if scenes is not None:
        pairs = ", ".join(
            f"('{s.replace(chr(39), chr(39) * 2)}', '{c.replace(chr(39), chr(39) * 2)}')" for s, c in scenes
        )
        clauses.append(f"(source, scene_id) IN ({pairs})" if pairs else "false")
    if video is not None:
        names = ", ".join(f"'{s}'" for s in VIDEO_SUBTASKS)
        clauses.append(f"NOT (subtask IN ({names}) AND n_images > 1)")
    return " AND ".join(clauses)


def split_scenes(out: Path, split: str | None) -> set[tuple[str, str]] | None:
    """(source, scene) pairs of the corpus whose scan's official split is `split` (None: no filter)."""
    if split is None:
        return None
    from sources.splits import SPLITS, official_split

    if split not in SPLITS:
        raise UserError(f"unknown split {split!r}; one of: {', '.join(SPLITS)}")
    con = connect(out)
    try:
        pairs = con.execute("SELECT DISTINCT source, scene_id FROM qa").fetchall()
    finally:
        con.close()
    return {(s, c) for s, c in pairs if split == "all" or official_split(s, c) == split}


def plan_export(
    out: Path, scenes: set[tuple[str, str]] | None = None, video: str | None = None
) -> dict[str, int]:
    """What an export writes, from the index alone: records, distinct frames to place, video samples."""
    con = connect(out)
    try:
        images_only = _filter_sql(scenes, video)
        samples, image_samples = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {images_only}) FROM qa WHERE {_filter_sql(scenes, None)}"
        ).fetchone()
        frames = con.execute(
            f"SELECT count(DISTINCT ref) FROM (SELECT unnest(images) AS ref FROM qa WHERE {images_only})"
        ).fetchone()[0]
    finally:
        con.close()
    return {"samples": int(samples), "frames": int(frames), "videos": int(samples - image_samples)}


def _place_frames(out: Path, dest: Path, where: str, counts: dict[str, int]) -> set[str]:
    """Place every frame the image records use, once; returns the refs that are missing under OUT/media."""
    media = media_dir(out)
    missing: set[str] = set()
    con = connect(out)
    try:
        cursor = con.execute(
            f"SELECT DISTINCT ref FROM (SELECT unnest(images) AS ref FROM qa WHERE {where}) ORDER BY ref"
        )
        while batch := cursor.fetchmany(10_000):
            for (ref,) in batch:
                src = media / ref
                if _safe_ref(ref) and src.is_file():
                    counts[_place(src, dest / "images" / ref)] += 1
                else:
                    missing.add(ref)  # never export a dangling path: its samples are skipped
    finally:
        con.close()
    return missing


def export(
    out: Path,
    fmt: str,
    dest: Path,
    *,
    name: str | None = None,
    video: str | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """Write DEST/<name>.jsonl (name: the OUT folder's name), DEST/images/ (and videos/), the format's side files;
    returns the counts."""
    if fmt not in EXPORT_FORMATS:
        raise UserError(f"unknown export format {fmt!r}: use {', '.join(EXPORT_FORMATS)}")
    if video is not None and video not in VIDEO_ENCODINGS:
        raise UserError(f"unknown video encoding {video!r}: use {', '.join(VIDEO_ENCODINGS)}")
    out, dest = Path(out), Path(dest)
    if not committed_indexes(out):
        raise UserError(NO_CORPUS)
    scenes = split_scenes(out, split)
    if fmt == "vsibench":
        from shards.exports.vsibench import export_vsibench

        return export_vsibench(out, dest, scenes)
    name = name or out.resolve().name or "corpus"
    counts = {
        "samples": 0,
        "images": 0,
        "linked": 0,
        "copied": 0,
        "skipped": 0,
        "videos": 0,
        "video_records": 0,
    }
    missing = _place_frames(out, dest, _filter_sql(scenes, video), counts)
    counts["images"] = counts["linked"] + counts["copied"]
    media = media_dir(out)
    make = FORMATS[fmt].record
    jsonl = dest / f"{name}.jsonl"
    with atomic_file(jsonl) as f:
        for index in committed_indexes(out):
            for sample in read_shard(index.with_suffix(".tar")):
                if scenes is not None and (sample["source"], sample["scene_id"]) not in scenes:
                    continue
                refs = list(sample.get("images") or [])
                if not refs or any(r in missing or not _safe_ref(r) for r in refs):
                    counts["skipped"] += 1
                    continue
                if sample.get("media_type") == "video":  # an ingested video file, placed like a frame
                    record = make(sample, [], f"images/{refs[0]}")
                    counts["video_records"] += 1
                elif is_video(sample, video):
                    rel = video_ref(refs)
                    if not (dest / rel).is_file():
                        frames = [media / r for r in refs]
                        if not all(p.is_file() for p in frames):
                            counts["skipped"] += 1
                            continue
                        encode_mp4(frames, dest / rel)
                        counts["videos"] += 1
                    record = make(sample, [], rel)
                    counts["video_records"] += 1
                else:
                    record = make(sample, [f"images/{r}" for r in refs], None)
                f.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
                counts["samples"] += 1
    side = FORMATS[fmt].side_files(dest, name, jsonl, {**counts, "videos": counts["video_records"]})
    counts["jsonl"] = str(jsonl)
    if side:
        counts["side_files"] = [str(p) for p in side]
    return counts
