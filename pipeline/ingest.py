"""`sicorpus ingest`: community spatial-QA datasets into the corpus layout of a build (docs/ingest.md).

Inputs are cut into chunks (byte ranges, row groups, whole JSON arrays); chunk k becomes shard k, so the output
never depends on worker count or finishing order. Stage 1 tasks normalise each chunk into staged drafts and their
duplicate keys; the driver then marks every draft whose key appeared earlier in input order (8 bytes per draft
in memory; everything else streams); stage 2 tasks write the shards. A rerun of the same command resumes: shards
with a marker are kept, staged chunks are not staged again.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.ingest_task import keys_path, stage_chunk, staged_path, write_chunk
from pipeline.ray_session import start_ray, stop_ray
from pipeline.worker_gc import freeze_survivors
from schemas.errors import UserError
from shards.atomic import atomic_write
from shards.layout import done_marker, failed_marker, manifest_path
from sources.community import FORMATS, benchmark_file
from sources.community.inputs import Chunk, expand, plan_chunks
from sources.community.normalise import INGEST_VERSION
from sources.splits import lists_version

PLAN = "plan.json"
CHUNK_BYTES = 8 * 2**20  # ~30k InternVL records: a write task holds one shard's samples (~250 MB)
PARQUET_ROWS = 5000


@dataclass
class IngestResult:
    manifest: dict[str, Any]
    seconds: float
    ran: int  # chunks processed in this run
    benchmark_files: list[tuple[str, str]] = field(default_factory=list)  # (file, benchmark) dropped whole
    ray_start_seconds: float = 0.0

    def summary(self) -> str:
        t = self.manifest["totals"]
        dropped = ", ".join(
            f"{k} {v}" for k, v in sorted(t["dropped"].items(), key=lambda kv: (-kv[1], kv[0]))
        )
        line = f"ingested {t['written']} samples; dropped {t['dropped_total']}" + (
            f" ({dropped})" if dropped else ""
        )
        if self.benchmark_files:
            line += f"; {len(self.benchmark_files)} benchmark file(s) dropped whole"
        return line


def _identity(fmt: str, files: list[Path], media_root: Path | None, keep_benchmark: bool, chunk_bytes: int):
    return {
        "format": fmt,
        "inputs": [{"file": str(f), "bytes": f.stat().st_size} for f in files],
        "media_root": str(media_root.resolve()) if media_root else None,
        "keep_benchmark": keep_benchmark,
        "chunk_bytes": chunk_bytes,
        "ingest_version": INGEST_VERSION,
        "lists_version": lists_version(),
    }


def plan_ingest(
    fmt: str, paths: list[Path], media_root: Path | None, chunk_bytes: int = CHUNK_BYTES
) -> tuple[list[Path], list[tuple[str, str]], list[Chunk]]:
    """(files to read, benchmark files dropped whole, chunks)."""
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")
    if not paths:
        raise UserError("name at least one input file or folder")
    if media_root is not None and not media_root.is_dir():
        raise UserError(f"--media-root {media_root} is not a folder")
    if media_root is None and fmt != "sat":
        raise UserError(
            f"{fmt} records refer to media files: give --media-root (the folder they are relative to)"
        )
    files, benchmarks = [], []
    for f in expand(paths, FORMATS[fmt].suffixes):
        bench = benchmark_file(f)
        if bench:
            benchmarks.append((str(f), bench))
        else:
            files.append(f)
    return files, benchmarks, plan_chunks(files, chunk_bytes, PARQUET_ROWS)


def _check_plan(out: Path, plan: dict[str, Any]) -> None:
    path = out / PLAN
    if path.exists():
        if json.loads(path.read_text()) != plan:
            raise UserError(
                f"{out} holds another ingest or build; use a new --out or delete it to start over"
            )
        return
    if (out / "shards").exists():
        raise UserError(f"{out} already holds a corpus; ingest into a new --out")
    atomic_write(path, json.dumps(plan, sort_keys=True, indent=1).encode())


def first_occurrences(out: Path, n_chunks: int) -> list[list[int]]:
    """Per chunk, the positions of drafts whose key an earlier draft (in input order) already has."""
    keys = [np.load(keys_path(out, k)) for k in range(n_chunks)]
    if not keys:
        return []
    flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    repeat = np.ones(len(flat), dtype=bool)
    repeat[np.unique(flat, return_index=True)[1]] = False
    out_lists, start = [], 0
    for k in keys:
        out_lists.append(np.flatnonzero(repeat[start : start + len(k)]).tolist())
        start += len(k)
    return out_lists


def run_ingest(
    fmt: str,
    paths: list[Path],
    out: Path,
    media_root: Path | None = None,
    workers: int | None = None,
    address: str | None = None,
    keep_benchmark: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
    log: Callable[[str], None] | None = None,
) -> IngestResult:
    start = time.perf_counter()
    files, benchmarks, chunks = plan_ingest(fmt, paths, media_root, chunk_bytes)
    for file, bench in benchmarks:
        if log:
            log(f"dropped whole: {file} is {bench}'s own question file (a benchmark is never training data)")
    if not chunks and not benchmarks:
        raise UserError("no input records to ingest")
    out.mkdir(parents=True, exist_ok=True)
    plan = {
        "identity": _identity(fmt, files, media_root, keep_benchmark, chunk_bytes),
        "chunks": [c.as_dict() for c in chunks],
        "benchmark_files": [list(b) for b in benchmarks],
    }
    _check_plan(out, plan)
    for path in out.rglob(".*.tmp-*"):  # temporaries of a killed run, never visible under a final name
        path.unlink(missing_ok=True)
    todo = [k for k in range(len(chunks)) if not done_marker(out, k).exists()]
    stage = [k for k in todo if not (staged_path(out, k).exists() and keys_path(out, k).exists())]
    ray_seconds = 0.0
    staged: dict[int, dict[str, Any]] = {}
    if todo:
        ray_seconds = _with_ray(
            workers,
            address,
            lambda run: _run_all(run, fmt, chunks, out, media_root, keep_benchmark, stage, todo, staged),
        )
    manifest = write_manifest(out, fmt, chunks, benchmarks, plan["identity"])
    return IngestResult(manifest, time.perf_counter() - start, len(todo), benchmarks, ray_seconds)


def _run_all(run, fmt, chunks, out, media_root, keep_benchmark, stage, todo, staged) -> None:
    results = run(_stage_remote, [(fmt, chunks[k], k, out, media_root, keep_benchmark) for k in stage])
    for k, res in zip(stage, results, strict=True):
        if isinstance(res, BaseException):
            raise res
        staged[k] = res
    repeats = first_occurrences(out, len(chunks))
    records = []
    for k in todo:
        record = {"shard_no": k, "source": fmt, "scene_id": chunks[k].label(), "chunk": chunks[k].as_dict()}
        if k in staged:  # staged in this run (a resumed run staged it before: no figures for that part)
            record["timings"] = {"stage": staged[k]["seconds"]}
            record["peak_rss_mb"] = staged[k]["peak_rss_mb"]
        records.append(record)
    results = run(_write_remote, [(out, k, repeats[k], r) for k, r in zip(todo, records, strict=True)])
    for res in results:
        if isinstance(res, BaseException):
            raise res


def _stage_remote(*args: Any) -> dict[str, Any]:
    freeze_survivors()
    return stage_chunk(*args)


def _write_remote(*args: Any) -> dict[str, Any]:
    freeze_survivors()
    return write_chunk(*args)


def _with_ray(workers: int | None, address: str | None, body: Callable[[Callable], None]) -> float:
    """Runs `body(run)`, where run(fn, argument tuples) maps fn over Ray tasks (at most `workers` in flight,
    results in argument order). Returns the seconds spent starting Ray."""
    import ray

    t0 = time.perf_counter()
    started_here = start_ray(workers, address)
    ray_seconds = time.perf_counter() - t0
    limit = workers or int(ray.cluster_resources().get("CPU", 1))

    def run(fn: Callable[..., Any], calls: list[tuple[Any, ...]]) -> list[Any]:
        task = ray.remote(num_cpus=1, max_retries=3, retry_exceptions=False)(fn)
        results: list[Any] = [None] * len(calls)
        pending: dict[Any, int] = {}
        queue = list(enumerate(calls))
        while queue or pending:
            while queue and len(pending) < limit:
                i, args = queue.pop(0)
                pending[task.remote(*args)] = i
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                try:
                    results[i] = ray.get(ref)
                except Exception as e:  # a bug in a task: surfaced with its cause, after the others finish
                    results[i] = getattr(e, "cause", None) or e
        return results

    try:
        body(run)
    finally:
        if started_here:
            stop_ray()
    return ray_seconds


def write_manifest(
    out: Path, fmt: str, chunks: list[Chunk], benchmarks: list[tuple[str, str]], identity: dict[str, Any]
) -> dict[str, Any]:
    from pipeline.build import _version, _versions

    records = []
    for k, chunk in enumerate(chunks):
        path = done_marker(out, k) if done_marker(out, k).exists() else failed_marker(out, k)
        if path.exists():
            records.append(json.loads(path.read_text()))
        else:
            records.append({"shard_no": k, "source": fmt, "scene_id": chunk.label(), "status": "missing"})
    dropped: Counter[str] = Counter()
    for r in records:
        dropped.update(r.get("dropped", {}))
    ok = [r for r in records if r.get("status") == "ok"]
    written = sum(r.get("n_samples", 0) for r in ok)
    manifest = {
        "kind": "ingest",
        "sicorpus_version": _version(),
        "config": identity,
        "seed": 0,
        "versions": _versions(),
        "benchmark_files": [{"file": f, "benchmark": b} for f, b in benchmarks],
        "scenes": records,  # one record per chunk (= shard), the build manifest's layout
        "totals": {
            "scenes": len(records),
            "ok": len(ok),
            "failed": len(records) - len(ok),
            "samples": written,
            "rejects": sum(r.get("n_rejects", 0) for r in ok),
            "written": written,
            "dropped": dict(sorted(dropped.items())),
            "dropped_total": sum(dropped.values()),
        },
    }
    atomic_write(manifest_path(out), json.dumps(manifest, sort_keys=True, indent=1).encode())
    return manifest
