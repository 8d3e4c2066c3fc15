"""Training-ready JSONL (InternVL / SenseNova-SI-800K or LLaVA layout) with the frames beside it.

Samples are read from the committed tar shards in index order (shard, offset), so the output is
deterministic. Each frame is placed once under DEST/images/<source>/<scene>/<frame>.jpg (a hard link when
DEST is on the same filesystem as OUT, a copy otherwise), however many samples use it; the JSONL refers to
images relative to DEST.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Literal

from shards.atomic import atomic_file, atomic_write
from shards.index import NO_CORPUS, committed_indexes
from shards.layout import media_dir
from shards.writer import read_shard

IMAGE_TOKEN = "<image>"


def conversation(
    sample: dict[str, Any], images: list[str], fmt: Literal["internvl", "llava"]
) -> dict[str, Any]:
    """One JSONL record: one `<image>` line per image, in order, before the question. An ingested video sample
    (`media_type` video) becomes a `video` record: InternVL's `<video>` tag, LLaVA-Video's `<image>` tag."""
    if sample.get("media_type") == "video":
        tag = "<video>" if fmt == "internvl" else IMAGE_TOKEN
        return {
            "id": sample["id"],
            "video": images[0],
            "conversations": [
                {"from": "human", "value": f"{tag}\n" + sample["question"]},
                {"from": "gpt", "value": sample["answer"]},
            ],
        }
    human = "".join(f"{IMAGE_TOKEN}\n" for _ in images) + sample["question"]
    image: str | list[str] = images
    if fmt == "llava" and len(images) == 1:
        image = images[0]
    return {
        "id": sample["id"],
        "image": image,
        "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": sample["answer"]}],
    }


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


def export(
    out: Path, fmt: Literal["internvl", "llava"], dest: Path, *, name: str | None = None
) -> dict[str, Any]:
    """Write DEST/<name>.jsonl (name: the OUT folder's name) and DEST/images/; returns the counts."""
    if fmt not in ("internvl", "llava"):
        raise ValueError(f"unknown export format {fmt!r}: use internvl or llava")
    out, dest = Path(out), Path(dest)
    indexes = committed_indexes(out)
    if not indexes:
        raise ValueError(NO_CORPUS)
    name = name or out.resolve().name or "corpus"
    media = media_dir(out)
    placed: dict[str, bool] = {}  # image ref -> exists; each frame is placed once
    counts = {"samples": 0, "images": 0, "linked": 0, "copied": 0, "skipped": 0}
    jsonl = dest / f"{name}.jsonl"
    with atomic_file(jsonl) as f:
        for index in indexes:
            for sample in read_shard(index.with_suffix(".tar")):
                refs = list(sample.get("images") or [])
                for ref in refs:
                    if ref not in placed:
                        src = media / ref
                        placed[ref] = _safe_ref(ref) and src.is_file()
                        if placed[ref]:
                            counts[_place(src, dest / "images" / ref)] += 1
                if not refs or not all(placed[r] for r in refs):
                    counts["skipped"] += 1  # a frame is missing under media/: never export a dangling path
                    continue
                record = conversation(sample, [f"images/{r}" for r in refs], fmt)
                f.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
                counts["samples"] += 1
    counts["images"] = counts["linked"] + counts["copied"]
    if fmt == "internvl":
        # InternVL's fine-tuning meta file: one entry per dataset, image paths relative to `root`.
        meta = {
            name: {
                "root": str(dest.resolve()),
                "annotation": str(jsonl.resolve()),
                "data_augment": False,
                "repeat_time": 1,
                "length": counts["samples"],
            }
        }
        atomic_write(dest / "meta.json", json.dumps(meta, indent=1).encode())
    counts["jsonl"] = str(jsonl)
    return counts
