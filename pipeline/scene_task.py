"""One scene, start to finish, in one worker: read -> geometry -> generate -> validate -> write.

Runs as a Ray task (pipeline.build) or directly. Every failure of the scene itself becomes a failed-scene
record with its stage and a one-line reason, so one bad scene never stops a build. The shard is committed by
its marker, written last; a task that dies half-way leaves no marker and is redone by a resumed build.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from generators.base import GenerationConfig
from generators.registry import SCENE_CAP_DROP, generate_scene
from pipeline import facts_cache
from pipeline.config import BuildConfig
from pipeline.numerics import blas_kernel
from schemas import validate_sample
from schemas.facts import SceneFacts
from shards.atomic import atomic_write
from shards.layout import failed_marker, media_dir, media_path
from sources import SceneError, get_source
from sources.images import jpeg_problem
from sources.scene import Scene


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - start, 4)


def read_scene(cfg: BuildConfig, scene_id: str) -> Scene:
    """One scene as a build reads it: the build's source, frame step, frame limit and label map."""
    return get_source(cfg.source).read_scene(
        cfg.root,
        scene_id,
        frame_step=cfg.frames.frame_step,
        max_frames=cfg.frames.max_source_frames,
        labels=cfg.labels,
    )


def load_facts(
    cfg: BuildConfig,
    scene_id: str,
    timings: dict[str, float] | None = None,
    device: str | None = None,
    threads: int = 0,
    need_scene: bool = True,
) -> tuple[Scene | None, SceneFacts]:
    """Read a scene and compute its facts (shared by the build and `sicorpus generate`). With a facts-cache hit
    the geometry stage is skipped, and with `need_scene=False` (generate) the scene is not even read: None."""
    from pipeline.geometry import GeometryConfig

    timings = {} if timings is None else timings
    source = get_source(cfg.source)
    geometry = GeometryConfig(max_frames=cfg.frames.max_frames, device=device or cfg.device, threads=threads)
    key = _cache_key(cfg, source, scene_id, geometry)
    cached = facts_cache.load(key) if key else None
    scene = None
    if cached is None or need_scene:
        with _timed(timings, "read"):
            scene = read_scene(cfg, scene_id)
    if cached is None:
        # scipy and Open3D, not imported on a cache hit. Timed apart: a worker pays them once, not per scene.
        with _timed(timings, "imports"):
            from pipeline.geometry import compute_facts
            from sources.open3d_import import open3d

            open3d()
        with _timed(timings, "geometry"):
            facts = compute_facts(scene, geometry)  # also counts the frames it skips into the scene
        cached = facts_cache.CachedFacts(facts, dict(scene.skipped_frames), list(scene.warnings))
        if key:
            facts_cache.store(key, cached)
    elif scene is not None:  # the scene as the geometry stage left it
        scene.skipped_frames, scene.warnings = dict(cached.skipped_frames), list(cached.warnings)
    if not cached.facts.frames:
        skipped = ", ".join(f"{k}={v}" for k, v in sorted(cached.skipped_frames.items())) or "no frames"
        raise SceneError(f"no usable frame (every selected frame was skipped: {skipped})")
    return scene, cached.facts


def _cache_key(cfg: BuildConfig, source: Any, scene_id: str, geometry: Any) -> str | None:
    if source.scene_inputs is None or facts_cache.cache_root() is None:
        return None
    reader = {
        "frame_step": cfg.frames.frame_step,
        "max_source_frames": cfg.frames.max_source_frames,
        "labels": cfg.labels,
    }
    inputs = source.scene_inputs(cfg.root, scene_id, cfg.labels)
    return facts_cache.facts_key(
        cfg.source, scene_id, inputs, facts_cache.geometry_settings(geometry, reader)
    )


def generation_config(cfg: BuildConfig) -> GenerationConfig:
    return GenerationConfig(seed=cfg.seed, quotas=dict(cfg.quotas), video_frames=cfg.frames.video_frames)


def process_scene(
    cfg: BuildConfig, shard_no: int, scene_id: str, device: str | None = None, threads: int = 0
) -> dict[str, Any]:
    from shards.writer import write_scene_shard  # pyarrow + webdataset: not needed by `sicorpus generate`

    timings: dict[str, float] = {}
    record: dict[str, Any] = {
        "shard_no": shard_no,
        "source": cfg.source,
        "scene_id": scene_id,
        "timings": timings,
        "blas": blas_kernel(),  # a build whose scenes saw several kernels is reported (pipeline/numerics.py)
    }
    stage = "read"
    try:
        scene, facts = load_facts(cfg, scene_id, timings, device, threads)
        record["skipped_frames"] = dict(sorted(scene.skipped_frames.items()))
        record["warnings"] = list(scene.warnings)
        record["facts_cached"] = "geometry" not in timings
        record["n_frames"] = len(facts.frames)
        record["n_objects"] = len(facts.objects)
        stage = "generate"
        with _timed(timings, "generate"):
            drops: dict[str, dict[str, int]] = {}  # subtask -> reason -> candidates dropped (sicorpus stats)
            generated = generate_scene(facts, generation_config(cfg), drops=drops)
            samples = cap_samples(generated, cfg.scene_cap)
            count_capped(drops, generated, samples)
            record["drops"] = drops
        stage = "media"
        with _timed(timings, "media"):
            write_media(cfg.out, scene, facts, samples)
        stage = "validate"
        with _timed(timings, "validate"):
            valid, rejects = validate_all(cfg.out, samples, {o.instance_id for o in scene.objects})
        stage = "write"
        record["peak_rss_mb"] = _peak_rss_mb()
        return write_scene_shard(cfg.out, shard_no, valid, rejects, record, timings)
    except SceneError as e:
        return record_failure(cfg.out, record, stage, str(e))
    except Exception as e:  # a deterministic application error: recorded, not retried forever
        return record_failure(cfg.out, record, stage, f"{type(e).__name__}: {e}")


def _peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux reports KiB


def record_failure(out: Path, record: dict[str, Any], stage: str, reason: str) -> dict[str, Any]:
    failed = {
        **record,
        "status": "failed",
        "stage": stage,
        "reason": reason.splitlines()[0] if reason else stage,
    }
    atomic_write(
        failed_marker(out, record["shard_no"]), json.dumps(failed, sort_keys=True, indent=1).encode()
    )
    return failed


def cap_samples(samples: list[dict[str, Any]], cap: int | None) -> list[dict[str, Any]]:
    """Per-scene cap: keep samples round-robin over subtasks, so every subtask keeps its share."""
    if cap is None or len(samples) <= cap:
        return samples
    by_subtask: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in samples:
        by_subtask[s["subtask"]].append(s)
    kept: list[dict[str, Any]] = []
    depth = 0
    while len(kept) < cap:
        row = [group[depth] for group in by_subtask.values() if depth < len(group)]
        if not row:
            break
        kept.extend(row[: cap - len(kept)])
        depth += 1
    keep_ids = {s["id"] for s in kept}
    return [s for s in samples if s["id"] in keep_ids]


def count_capped(
    drops: dict[str, dict[str, int]], generated: list[dict[str, Any]], kept: list[dict[str, Any]]
) -> None:
    """Samples the scene cap removed, as a drop reason of their subtask."""
    if len(kept) == len(generated):
        return
    lost: dict[str, int] = defaultdict(int)
    for s in generated:
        lost[s["subtask"]] += 1
    for s in kept:
        lost[s["subtask"]] -= 1
    for subtask, n in lost.items():
        if n:
            drops.setdefault(subtask, {})[SCENE_CAP_DROP] = n


def write_media(out: Path, scene: Scene, facts: SceneFacts, samples: list[dict[str, Any]]) -> None:
    """Copy the colour JPEG of every referenced frame once (original bytes: no re-encoding). Each was decoded
    and size-checked by the geometry stage (frames that failed never reach facts); the copy is looked at again
    (header, size, end marker), so a file changed since then fails the scene instead of entering media/."""
    by_ref = {f.image: f.index for f in facts.frames}
    wanted = sorted({ref for s in samples for ref in s["images"]})
    size = (scene.color_camera.width, scene.color_camera.height)
    for ref in wanted:
        path = media_path(out, ref)  # never outside OUT/media
        if path.exists():  # an earlier, interrupted run of this scene wrote it (atomically)
            continue
        data = scene.store.color_jpeg(by_ref[ref])
        problem = jpeg_problem(data, size, decode=False)
        if problem is not None:
            raise SceneError(f"frame {by_ref[ref]} changed during the build ({problem})")
        atomic_write(path, data)


def validate_all(
    out: Path, samples: list[dict[str, Any]], instance_ids: set[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    root = media_dir(out)
    seen: dict[str, bool] = {}  # a frame is shared by hundreds of samples: look at the disk once per frame

    def media_exists(ref: str) -> bool:
        if ref not in seen:
            seen[ref] = (root / ref).is_file()
        return seen[ref]

    valid, rejects = [], []
    for sample in samples:
        _, reason = validate_sample(sample, instance_ids, media_exists)
        if reason is None:
            valid.append(sample)
        else:
            rejects.append({"sample": sample, "reason": reason})
    return valid, rejects
