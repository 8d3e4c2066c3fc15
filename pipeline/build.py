"""The build driver: plan the scenes, run one Ray task per pending scene, then write the manifest.

Shard numbers are positions in the sorted scene list, so the corpus never depends on worker count or finishing
order. A scene is done when its marker exists; a rerun of the same command only runs the rest (resume).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import BuildConfig
from pipeline.progress import BuildProgress
from pipeline.scene_task import process_scene, record_failure
from schemas.errors import UserError
from shards.atomic import atomic_write
from shards.layout import done_marker, failed_marker, manifest_path
from sources import get_source

PLAN = "plan.json"


@dataclass
class BuildResult:
    manifest: dict[str, Any]
    ran: int  # scenes processed in this run (the rest were already done)
    seconds: float
    failed: list[dict[str, Any]] = field(default_factory=list)
    ray_start_seconds: float = 0.0  # of `seconds`, spent starting or joining Ray


def plan_scenes(cfg: BuildConfig) -> list[str]:
    source = get_source(cfg.source)
    if not cfg.root.is_dir():
        raise UserError(f"source root {cfg.root} does not exist. {source.hint}")
    available = source.list_scenes(cfg.root)
    if cfg.scenes:
        # Named scenes may live outside the default listing (scans_test/); the reader says if one is missing.
        scenes = sorted(set(cfg.scenes))
    else:
        scenes = available
    if cfg.limit:
        scenes = scenes[: cfg.limit]
    if not scenes:
        raise UserError(f"no {cfg.source} scenes found under {cfg.root}. {source.hint}")
    return scenes


def check_plan(cfg: BuildConfig, scenes: list[str]) -> None:
    """A resumed build must be the same build: same scenes, seed and corpus settings."""
    plan = {"scenes": scenes, "identity": cfg.corpus_identity()}
    path = cfg.out / PLAN
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != plan:
            raise UserError(
                f"{cfg.out} holds a build with other settings or scenes; use a new --out or delete it to start over"
            )
        return
    atomic_write(path, json.dumps(plan, sort_keys=True, indent=1).encode())


def pending_scenes(cfg: BuildConfig, scenes: list[str]) -> list[tuple[int, str]]:
    todo = []
    for shard_no, scene_id in enumerate(scenes):
        if done_marker(cfg.out, shard_no).exists():
            continue
        if failed_marker(cfg.out, shard_no).exists() and not cfg.retry_failed:
            continue
        todo.append((shard_no, scene_id))
    return todo


def remove_stale_temporaries(out: Path) -> None:
    """Temporaries of a killed run (never visible under a final name) are deleted before resuming."""
    for path in out.rglob(".*.tmp-*"):
        path.unlink(missing_ok=True)


def run_build(
    cfg: BuildConfig, workers: int | None = None, address: str | None = None, show_progress: bool = True
) -> BuildResult:
    start = time.perf_counter()
    scenes = plan_scenes(cfg)
    cfg.out.mkdir(parents=True, exist_ok=True)
    check_plan(cfg, scenes)
    todo = pending_scenes(cfg, scenes)
    remove_stale_temporaries(cfg.out)
    for shard_no, _ in todo:
        failed_marker(cfg.out, shard_no).unlink(missing_ok=True)
    progress = BuildProgress(total=len(scenes), already=len(scenes) - len(todo), enabled=show_progress)
    ray_start = _run_tasks(cfg, todo, workers, address, progress) if todo else 0.0
    # Again at the end: a worker orphaned by a killed run may still have been writing (under a hidden
    # temporary name) when this run started; its files are never visible under a final name either way.
    remove_stale_temporaries(cfg.out)
    progress.close()
    manifest = write_manifest(cfg, scenes)
    failed = [s for s in manifest["scenes"] if s["status"] != "ok"]
    return BuildResult(manifest, len(todo), time.perf_counter() - start, failed, ray_start)


def _run_tasks(
    cfg: BuildConfig,
    todo: list[tuple[int, str]],
    workers: int | None,
    address: str | None,
    progress: BuildProgress,
) -> float:
    """Runs the scenes; returns the seconds spent starting or joining Ray."""
    import ray

    ray_start = time.perf_counter()
    started_here = not ray.is_initialized()
    if started_here:
        address = address or os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            # "local": a fresh instance even when another Ray runs on this machine (never join one by accident)
            ray.init(
                address="local",
                num_cpus=workers or os.cpu_count() or 1,
                include_dashboard=False,
                log_to_driver=False,
            )
    ray_start = time.perf_counter() - ray_start
    try:
        has_gpu = ray.cluster_resources().get("GPU", 0) > 0
        task = ray.remote(_remote_scene)
        options = {
            "num_cpus": 1,
            "num_gpus": cfg.gpu_fraction if has_gpu else 0,
            "max_retries": 3,  # lost workers and nodes are retried; application errors come back as records
            "retry_exceptions": False,
        }
        source = get_source(cfg.source)
        config_ref = ray.put(cfg.model_dump(mode="json"))
        # At most `workers` scenes in flight (also on a shared cluster), submitted in scene order.
        limit = workers or int(ray.cluster_resources().get("CPU", 1))
        queue = list(todo)
        pending: dict[Any, tuple[int, str]] = {}
        while queue or pending:
            while queue and len(pending) < limit:
                shard_no, scene_id = queue.pop(0)
                memory = task_memory(cfg, source.mesh_size(cfg.root, scene_id))
                pending[task.options(**options, memory=memory).remote(config_ref, shard_no, scene_id)] = (
                    shard_no,
                    scene_id,
                )
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                shard_no, scene_id = pending.pop(ref)
                try:
                    record = ray.get(ref)
                except Exception as e:  # the task died on every retry (lost node, out of memory)
                    base = {"shard_no": shard_no, "source": cfg.source, "scene_id": scene_id}
                    cause = getattr(e, "cause", None) or e  # a RayTaskError's own text is only the task name
                    record = record_failure(cfg.out, base, "worker", f"{type(cause).__name__}: {cause}")
                progress.scene_finished(record)
    finally:
        if started_here:
            ray.shutdown()
    return ray_start


def task_memory(cfg: BuildConfig, mesh: tuple[int, int] | None) -> int:
    """Bytes Ray reserves for one scene, so large scenes are never co-scheduled into an out-of-memory kill:
    the user's fixed figure, or twice the geometry stage's estimate for this mesh (the loaded scene, samples and
    libraries come on top of the stage's own peak), at least 1 GiB."""
    if cfg.task_memory_gb is not None:
        return int(cfg.task_memory_gb * 2**30)
    from pipeline.geometry import memory_estimate

    vertices, faces = mesh or (300_000, 600_000)  # unknown: plan for a large ScanNet scene
    return max(2**30, 2 * memory_estimate(vertices, faces))


def _remote_scene(config: dict[str, Any], shard_no: int, scene_id: str) -> dict[str, Any]:
    import ray

    cfg = BuildConfig.model_validate(config)
    device = "cuda" if cfg.device != "cpu" and ray.get_gpu_ids() else "cpu"
    return process_scene(cfg, shard_no, scene_id, device=device, threads=1)  # the task holds one CPU


def write_manifest(cfg: BuildConfig, scenes: list[str]) -> dict[str, Any]:
    records = []
    for shard_no, scene_id in enumerate(scenes):
        path = done_marker(cfg.out, shard_no)
        if not path.exists():
            path = failed_marker(cfg.out, shard_no)
        if path.exists():
            records.append(json.loads(path.read_text()))
        else:
            records.append(
                {"shard_no": shard_no, "source": cfg.source, "scene_id": scene_id, "status": "missing"}
            )
    ok = [r for r in records if r["status"] == "ok"]
    manifest = {
        "sicorpus_version": _version(),
        "config": cfg.model_dump(mode="json"),
        "seed": cfg.seed,
        "versions": _versions(),
        "scenes": records,
        "totals": {
            "scenes": len(records),
            "ok": len(ok),
            "failed": len(records) - len(ok),
            "samples": sum(r.get("n_samples", 0) for r in ok),
            "rejects": sum(r.get("n_rejects", 0) for r in ok),
        },
    }
    atomic_write(manifest_path(cfg.out), json.dumps(manifest, sort_keys=True, indent=1).encode())
    return manifest


def _version() -> str:
    from importlib.metadata import version

    return version("sicorpus")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from generators.base import GENERATOR_VERSION
    from taxonomy import TAXONOMY_VERSION

    out = {"python": sys.version.split()[0], "generators": GENERATOR_VERSION, "taxonomy": TAXONOMY_VERSION}
    for pkg in ("numpy", "open3d", "ray", "webdataset", "pyarrow", "duckdb", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out
