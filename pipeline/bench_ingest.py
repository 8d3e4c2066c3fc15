"""Ingest throughput: records/s per core and peak memory on a generated InternVL jsonl (part of `make bench`).

The file holds `records` SenseNova-SI-style records over a few hundred small images (most records share
media, as real sets do: many questions per frame), with options inline, a mix of task types, ~1 % exact
duplicates and ~1 % missing images, so every stage (parse, normalise, dedup, media links, validation, shard
writing) does its real work. Run alone: `python -m pipeline.bench_ingest --records 100000`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import time
from pathlib import Path
from typing import Any

TYPES = [
    ("object_rel_distance", "Measuring from the closest point of each object, which is closest to the {a}?", True),
    ("object_counting", "How many {a}(s) are in this room?", False),
    ("object_abs_distance", "What is the distance between the {a} and the {b} (in meters)?", False),
    ("object_rel_direction_medium", "If I am standing by the {a} and facing the {b}, is the {c} to my left, right, or back?", True),
]  # fmt: skip
LABELS = ["chair", "table", "lamp", "sofa", "bed", "door", "window", "desk", "shelf", "tv", "sink", "toilet"]


def write_input(path: Path, media: Path, records: int, images: int = 300, seed: int = 0) -> None:
    """The generated jsonl and its images (one tiny JPEG copied under many names)."""
    from PIL import Image

    rng = random.Random(seed)
    media.mkdir(parents=True, exist_ok=True)
    first = media / "scannet" / "scene0000_00" / "0.jpg"
    first.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (120, 120, 120)).save(first)
    refs = []
    for i in range(images):
        ref = f"scannet/scene{i:04d}_00/{i % 7}.jpg"
        dst = media / ref
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            shutil.copyfile(first, dst)
        refs.append(ref)
    previous: dict[str, Any] | None = None
    with open(path, "w", encoding="utf-8") as f:
        for i in range(records):
            if previous is not None and rng.random() < 0.01:
                f.write(json.dumps(previous) + "\n")  # an exact duplicate
                continue
            qtype, template, mc = TYPES[i % len(TYPES)]
            a, b, c, *rest = rng.sample(LABELS, 7)
            question = template.format(a=a, b=b, c=c) + f" (view {i})"
            if qtype == "object_rel_distance":
                question += "\n" + "\n".join(f"{chr(65 + k)}. {o}" for k, o in enumerate(rest[:4]))
                answer = rng.choice("ABCD")
            elif qtype == "object_rel_direction_medium":
                question += "\nA. left\nB. right\nC. back"
                answer = rng.choice("ABC")
            elif qtype == "object_counting":
                answer = str(rng.randint(1, 9))
            else:
                answer = f"{rng.uniform(0.3, 6):.1f}"
            image = refs[rng.randrange(images)] if rng.random() > 0.01 else "scannet/scene9999_00/missing.jpg"
            previous = {
                "id": i,
                "image": [image],
                "type": qtype,
                "conversations": [
                    {"from": "human", "value": "<image>\n" + question},
                    {"from": "gpt", "value": answer},
                ],
            }
            f.write(json.dumps(previous) + "\n")


def bench_ingest(work: Path, records: int = 1_000_000, workers: int | None = None) -> dict[str, Any]:
    """Generate the input (once per size), ingest it, and report throughput and memory."""
    from pipeline.ingest import run_ingest

    workers = workers or os.cpu_count() or 1
    data = work / f"ingest-{records}"
    jsonl, media = data / "records.jsonl", data / "media"
    if not jsonl.exists():
        write_input(jsonl.with_suffix(".tmp"), media, records)
        jsonl.with_suffix(".tmp").rename(jsonl)
    out = work / f"ingest-out-{records}"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    result = run_ingest("internvl", [jsonl], out, media, workers=workers)
    wall = time.perf_counter() - start
    scenes = result.manifest["scenes"]
    work_s = wall - result.ray_start_seconds
    return {
        "records": records,
        "input_mib": round(jsonl.stat().st_size / 2**20, 1),
        "workers": workers,
        "chunks": len(scenes),
        "written": result.manifest["totals"]["written"],
        "dropped": result.manifest["totals"]["dropped"],
        "wall_s": round(wall, 2),
        "ray_start_s": round(result.ray_start_seconds, 2),
        "records_per_s_per_core": round(records / work_s / workers, 1),
        "records_per_s_per_core_incl_ray_start": round(records / wall / workers, 1),
        "peak_rss_mb_worker": max((s.get("peak_rss_mb") or 0.0) for s in scenes),
        "peak_rss_mb_driver": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("bench/ingest"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    print(json.dumps(bench_ingest(args.work, args.records, args.workers), indent=1))


if __name__ == "__main__":
    main()
