"""The build driver: plan the scenes, run one Ray task per pending scene, then write the manifest.

Shard numbers are positions in the sorted scene list, so the corpus never depends on worker count or finishing
order. A scene is done when its marker exists; a rerun of the same command only runs the rest (resume).
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import BuildConfig
from pipeline.progress import BuildProgress
from pipeline.ray_session import start_ray, stop_ray
from pipeline.scene_task import process_scene, record_failure
from schemas.errors import UserError
from shards.atomic import atomic_write, is_temporary
from shards.layout import done_marker, failed_marker, manifest_path, media_dir, shards_dir
from shards.lock import BuildLock
from sources import SceneError, get_source
from sources.splits import lists_version, official_split, partition, rooms_held

PLAN = "plan.json"


@dataclass
class BuildResult:
    manifest: dict[str, Any]
    ran: int  # scenes processed in this run (the rest were already done)
    seconds: float
    failed: list[dict[str, Any]] = field(default_factory=list)
    ray_start_seconds: float = 0.0  # of `seconds`, spent starting or joining Ray
    ray_stop_seconds: float = 0.0  # of `seconds`, spent shutting down the Ray instance this build started
    not_retried: list[str] = field(default_factory=list)  # scenes that failed before and were skipped now


# A scene id is one folder name: it must not reach another folder (separators, `..`) of the root or of OUT.
SCENE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def plan_scenes(cfg: BuildConfig) -> tuple[list[str], list[dict[str, Any]]]:
    """(the scenes to build, the scans the split excludes, with the reason: docs/benchmark-hygiene.md)."""
    source = get_source(cfg.source)
    if not cfg.root.is_dir():
        raise UserError(f"source root {cfg.root} does not exist. {source.hint}")
    if cfg.scenes:
        bad = [s for s in cfg.scenes if not SCENE_ID.fullmatch(s) or ".." in s]
        if bad:
            raise UserError(
                f"scene id {bad[0]!r} is not a scene name (letters, digits, '_', '-', '.'; no '..')"
            )
        # Named scenes may live outside the default listing (ScanNet: scans_test/), never outside the source.
        known = set(source.known_scenes(cfg.root))
        unknown = sorted(set(cfg.scenes) - known)
        if unknown:
            more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
            raise UserError(f"no scene {unknown[0]!r}{more} under {cfg.root} (it lists {len(known)} scenes)")
        scenes = sorted(set(cfg.scenes))
    else:
        scenes = source.list_scenes(cfg.root)
    scenes, excluded = partition(cfg.source, scenes, cfg.split)
    if not scenes and excluded:
        first = excluded[0]
        raise UserError(
            f"no {cfg.split} scans under {cfg.root}: all {len(excluded)} excluded "
            f"({first['scene_id']}: {first['reason']}); choose another --split (train, val, test, all)"
        )
    if cfg.limit:
        scenes = scenes[: cfg.limit]
    if not scenes:
        raise UserError(f"no {cfg.source} scenes found under {cfg.root}. {source.hint}")
    return scenes, excluded


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
    """Temporaries of a killed run (never visible under a final name) are deleted before resuming: only the
    names our atomic writes make (`shards.atomic.is_temporary`), only in the folders a build writes."""
    folders = [out, shards_dir(out), out / "rejects", out / "rejects" / "scenes"]
    candidates = [p for folder in folders if folder.is_dir() for p in folder.iterdir()]
    if media_dir(out).is_dir():
        candidates += media_dir(out).rglob(".*")
    for path in candidates:
        if is_temporary(path.name) and path.is_file():
            path.unlink(missing_ok=True)


def preflight(cfg: BuildConfig) -> None:
    """What would fail every scene fails once, up front, before any scene runs."""
    try:
        get_source(cfg.source).preflight(cfg.root, cfg.labels)
    except SceneError as e:
        raise UserError(str(e)) from None


def run_build(
    cfg: BuildConfig, workers: int | None = None, address: str | None = None, show_progress: bool = True
) -> BuildResult:
    """The build; `workers` and `address` override the config's (the Python API's flags)."""
    start = time.perf_counter()
    updates = {k: v for k, v in (("workers", workers), ("address", address)) if v is not None}
    if updates:
        from pipeline.config import validated

        cfg = validated(BuildConfig, {**cfg.model_dump(), **updates})
    scenes, excluded = plan_scenes(cfg)
    preflight(cfg)
    with BuildLock(cfg.out):  # also the check that OUT is writable
        check_plan(cfg, scenes)
        todo = pending_scenes(cfg, scenes)
        running = {n for n, _ in todo}
        not_retried = [
            s for n, s in enumerate(scenes) if n not in running and failed_marker(cfg.out, n).exists()
        ]
        remove_stale_temporaries(cfg.out)
        for shard_no, _ in todo:
            failed_marker(cfg.out, shard_no).unlink(missing_ok=True)
        progress = BuildProgress(total=len(scenes), already=len(scenes) - len(todo), enabled=show_progress)
        try:
            ray_start, ray_stop = _run_tasks(cfg, todo, progress) if todo else (0.0, 0.0)
        finally:
            progress.close()
        # Again at the end: a worker orphaned by a killed run may still have been writing (under a hidden
        # temporary name) when this run started; its files are never visible under a final name either way.
        remove_stale_temporaries(cfg.out)
        manifest = write_manifest(cfg, scenes, excluded)
    failed = [s for s in manifest["scenes"] if s["status"] != "ok"]
    return BuildResult(
        manifest, len(todo), time.perf_counter() - start, failed, ray_start, ray_stop, not_retried
    )


def _run_tasks(cfg: BuildConfig, todo: list[tuple[int, str]], progress: BuildProgress) -> tuple[float, float]:
    """Runs the scenes; returns the seconds spent starting (or joining) Ray and shutting it down."""
    import ray

    from pipeline.geometry.device import NO_CUDA

    workers = cfg.workers
    ray_start = time.perf_counter()
    started_here = start_ray(workers, cfg.address)
    ray_start = time.perf_counter() - ray_start
    try:
        has_gpu = ray.cluster_resources().get("GPU", 0) > 0
        if cfg.device == "cuda" and not has_gpu:
            raise UserError(NO_CUDA)  # the rule of pipeline.geometry.device, for the whole cluster
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
        stopping = time.perf_counter()
        if started_here:
            stop_ray()
        ray_stop = time.perf_counter() - stopping
    return ray_start, ray_stop


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

    from pipeline.geometry.device import task_device
    from pipeline.worker_gc import freeze_survivors

    freeze_survivors()
    cfg = BuildConfig.model_validate(config)
    device = task_device(cfg.device, bool(ray.get_gpu_ids()))  # "cuda" without a GPU granted: an error
    return process_scene(cfg, shard_no, scene_id, device=device, threads=1)  # the task holds one CPU


def write_manifest(
    cfg: BuildConfig, scenes: list[str], excluded: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
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
    for record in records:  # the scan's official split; `unlisted` when no official list names it
        record["split"] = official_split(cfg.source, record["scene_id"])
    ok = [r for r in records if r["status"] == "ok"]
    manifest = {
        "sicorpus_version": _version(),
        "config": cfg.model_dump(mode="json"),
        "seed": cfg.seed,
        "versions": _versions(),
        "scenes": records,
        "split": split_summary(cfg, scenes, excluded or []),
        "totals": {
            "scenes": len(records),
            "ok": len(ok),
            "failed": len(records) - len(ok),
            "samples": sum(r.get("n_samples", 0) for r in ok),
            "rejects": sum(r.get("n_rejects", 0) for r in ok),
            "excluded": len(excluded or []),
            "unlisted": sum(r["split"] == "unlisted" for r in records),
        },
    }
    atomic_write(manifest_path(cfg.out), json.dumps(manifest, sort_keys=True, indent=1).encode())
    return manifest


def split_summary(cfg: BuildConfig, scenes: list[str], excluded: list[dict[str, Any]]) -> dict[str, Any]:
    """The split built, the lists' version, every excluded scan with its reason, and the benchmark rooms the
    corpus holds (only a val, test or all build can hold any)."""
    held = rooms_held([(cfg.source, s) for s in scenes])
    return {
        "name": cfg.split,
        "lists_version": lists_version(),
        "excluded": excluded,
        "benchmark_rooms_held": {name: {"held": n, "rooms": total} for name, (n, total) in held.items()},
    }


def benchmark_warnings(manifest: dict[str, Any]) -> list[str]:
    """One line per benchmark whose rooms the corpus holds."""
    split = manifest.get("split") or {}
    source = (manifest.get("config") or {}).get("source")
    return [
        f"the corpus holds {v['held']} of the {v['rooms']} {source} rooms {name} evaluates on "
        f"(--split {split.get('name')}): do not evaluate a model trained on it on {name}"
        for name, v in (split.get("benchmark_rooms_held") or {}).items()
    ]


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
