"""Mix and export planning on a synthetic index (the index only: no tar or frame is written or read).

`python -m pipeline.bench_mix --rows 8000000` writes a corpus-shaped folder of parquet index shards (8,000 rows per
shard, like a large scene; 300 frames per scene; video subtasks refer to 16 frames, others to 1-4), then times,
each in a fresh process so peak memory is its own: `mix --dry-run` (the plan), the full selection a real mix
materialises (every chosen row with its output order), and the export planner (records and distinct frames).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROWS_PER_SHARD = 8_000
FRAMES_PER_SCENE = 300


def write_index(out: Path, rows: int, seed: int = 0) -> None:
    """Index shards with the writer's columns that mix and export read, plus commit markers."""
    from shards.layout import done_marker, index_path
    from taxonomy import SUBTASKS

    names = list(SUBTASKS)
    cats = np.array([SUBTASKS[s].category for s in names], dtype=object)
    video = np.array([SUBTASKS[s].media == "video" for s in names])
    rng = np.random.default_rng(seed)
    shards = -(-rows // ROWS_PER_SHARD)
    for shard_no in range(shards):
        n = min(ROWS_PER_SHARD, rows - shard_no * ROWS_PER_SHARD)
        scene = f"scene{shard_no:06d}_00"
        source = "scannet" if shard_no % 3 else "ingested"
        sub = rng.integers(0, len(names), n)
        per = np.where(video[sub], 16, rng.integers(1, 5, n))
        offsets = np.concatenate([[0], np.cumsum(per)]).astype(np.int32)
        frames = rng.integers(0, FRAMES_PER_SCENE, int(offsets[-1]))
        refs = pa.array([f"{source}/{scene}/{f:06d}.jpg" for f in range(FRAMES_PER_SCENE)]).take(
            pa.array(frames)
        )
        subtask = np.array(names, dtype=object)[sub]
        table = pa.table(
            {
                "id": pa.array([f"{source}-{scene}-{s}-{k:05d}" for k, s in enumerate(subtask)]),
                "category": pa.array(cats[sub]),
                "subtask": pa.array(subtask),
                "source": pa.array([source] * n),
                "scene_id": pa.array([scene] * n),
                "n_images": pa.array(per.astype(np.int32)),
                "images": pa.ListArray.from_arrays(pa.array(offsets), refs),
                "shard": pa.array([f"qa-{shard_no:06d}.tar"] * n),
                "offset": pa.array(np.arange(n, dtype=np.int64)),
                "byte_offset": pa.array(np.arange(n, dtype=np.int64) * 2048),
            }
        )
        path = index_path(out, shard_no)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        done_marker(out, shard_no).write_text("{}")
    (out / "manifest.json").write_text(json.dumps({"totals": {"samples": rows}}))


def _peak_mib() -> tuple[float, float]:
    """(peak resident MiB, CPU seconds) of this process so far."""
    # VmHWM, not ru_maxrss: ru_maxrss survives exec, so a spawned child would report its parent's peak
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return hwm / 1024, usage.ru_utime + usage.ru_stime


def _dry_run(recipe: str) -> tuple[float, tuple[float, float], int]:
    from shards.mix import load_recipe, plan_mix

    start = time.perf_counter()
    rec, inputs = load_recipe(Path(recipe))
    plan, con = plan_mix(rec, inputs)
    con.close()
    return time.perf_counter() - start, _peak_mib(), plan.taken


def _selection(recipe: str) -> tuple[float, tuple[float, float], int]:
    from shards.mix import load_recipe, plan_mix, register_alloc, select_sql

    start = time.perf_counter()
    rec, inputs = load_recipe(Path(recipe))
    spill = Path(recipe).parent / "spill"
    plan, con = plan_mix(rec, inputs, spill)
    register_alloc(con, plan)
    con.execute(f"CREATE TEMP TABLE selection AS {select_sql(rec.seed)}")
    # the order the writer streams in, and the distinct frames it links
    n = con.execute("SELECT count(*) FROM (SELECT id FROM selection ORDER BY o, id, rep)").fetchone()[0]
    con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT unnest(a.images) FROM allrows a SEMI JOIN selection s "
        "ON a.input_no = s.input_no AND a.id = s.id)"
    ).fetchone()
    con.close()
    shutil.rmtree(spill, ignore_errors=True)
    return time.perf_counter() - start, _peak_mib(), int(n)


def _export_plan(out: str) -> tuple[float, tuple[float, float], int]:
    from shards.export import plan_export

    start = time.perf_counter()
    plan = plan_export(Path(out), video="mp4")
    return time.perf_counter() - start, _peak_mib(), plan["samples"]


def measure(rows: int, work: Path) -> dict[str, dict[str, float]]:
    corpus = work / "index"
    marker = corpus / f".rows-{rows}"
    if not marker.exists():
        shutil.rmtree(corpus, ignore_errors=True)
        start = time.perf_counter()
        write_index(corpus, rows)
        marker.touch()
        print(f"wrote a synthetic {rows:,}-row index in {time.perf_counter() - start:.1f} s", flush=True)
    recipe = work / "recipe.toml"
    recipe.write_text(
        f"target = {rows // 2}\nseed = 0\ninputs = ['index']\nmax_repeat = 2\n[category]\n"
        "perspective_taking = 0.4\nspatial_relations = 0.25\nmetric_measurement = 0.15\n"
        "mental_reconstruction = 0.1\ncomprehensive_reasoning = 0.1\n[source]\nscannet = 0.6\ningested = 0.4\n"
    )
    results = {}
    for name, fn, arg in (
        ("mix --dry-run", _dry_run, str(recipe)),
        ("mix selection", _selection, str(recipe)),
        ("export planner", _export_plan, str(corpus)),
    ):
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
            seconds, (peak, cpu), n = pool.submit(fn, arg).result()
        results[name] = {
            "seconds": seconds,
            "cpu_s": cpu,
            "rows_per_s": rows / seconds,
            "peak_mib": peak,
            "n": n,
        }
    return results


def report(rows: int, work: Path) -> None:
    results = measure(rows, work)
    print(f"\nmix / export planning on a synthetic {rows:,}-row index")
    for name, r in results.items():
        print(
            f"  {name:<16} {r['seconds']:7.2f} s ({r['cpu_s']:6.1f} CPU s)   {r['rows_per_s'] / 1e6:6.2f} M index rows/s   "
            f"peak {r['peak_mib']:6.0f} MiB   ({r['n']:,} rows out)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--work", type=Path, default=Path("bench/mix"))
    args = parser.parse_args()
    report(args.rows, args.work)


if __name__ == "__main__":
    main()
