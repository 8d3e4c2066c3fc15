"""`make bench`: the build against the time to merely read its inputs, on ScanNet-scale demo scenes.

Prints, from one run: build wall time, read-only floor (every mesh, JSON, depth png and colour jpg decoded once,
same number of processes), their ratio, samples per scene, samples/s per core, time by stage, peak memory per
worker, and the geometry stage alone per scene (CPU, and CUDA when Open3D sees a GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np


def demo_code_digest() -> str:
    """Changes whenever the demo writer's code changes, so stale benchmark scenes are rewritten."""
    import hashlib

    import sources.demo

    h = hashlib.sha256()
    for path in sorted(Path(sources.demo.__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def read_everything(scene_dir: str) -> int:
    """Decode every input file of one scene once; returns bytes read (the I/O + decode floor)."""
    total = 0
    for path in sorted(Path(scene_dir).rglob("*")):
        if not path.is_file():
            continue
        total += path.stat().st_size
        if path.suffix == ".png":
            cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        elif path.suffix == ".jpg":
            cv2.imread(str(path), cv2.IMREAD_COLOR)
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".ply":
            np.frombuffer(path.read_bytes(), dtype=np.uint8).sum()
        else:
            path.read_bytes()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--vertices", type=int, default=150_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from pipeline.build import run_build
    from pipeline.config import BuildConfig
    from sources.demo import make_demo

    marker = args.data / f".bench-{args.scenes}-{args.frames}-{args.vertices}-{demo_code_digest()}"
    if not marker.exists():
        shutil.rmtree(args.data, ignore_errors=True)
        print(
            f"writing {args.scenes} ScanNet-scale demo scenes ({args.vertices} vertices, {args.frames} frames) ...",
            flush=True,
        )
        make_demo(
            args.data,
            scenes=args.scenes,
            seed=0,
            frames=args.frames,
            vertices=args.vertices,
            depth_size=(640, 480),
            color_size=(1296, 968),
        )
        marker.touch()
    scene_dirs = sorted(str(p) for p in (args.data / "scans").iterdir() if p.is_dir())

    # The floor is noisy (page cache, other load): the best of two reads, so the ratio errs on the high side.
    floors = []
    for _ in range(2):
        start = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            nbytes = sum(pool.map(read_everything, scene_dirs))
        floors.append(time.perf_counter() - start)
    floor = min(floors)

    shutil.rmtree(args.out, ignore_errors=True)
    cfg = BuildConfig(root=args.data, out=args.out)
    result = run_build(cfg, workers=args.workers, show_progress=False)
    wall = result.seconds
    scenes = [s for s in result.manifest["scenes"] if s["status"] == "ok"]
    samples = sum(s["n_samples"] for s in scenes)
    stages: dict[str, float] = {}
    for s in scenes:
        for k, v in s["timings"].items():
            stages[k] = stages.get(k, 0.0) + v

    geometry = geometry_alone(cfg, [Path(d).name for d in scene_dirs[:1]])
    cluster_wall = simulated_cluster(args.data, args.out.with_name(args.out.name + "-cluster"), args.workers)

    print(
        f"\nsicorpus bench: {len(scene_dirs)} scenes, {args.vertices} vertices, {args.frames} frames, {args.workers} workers on {os.cpu_count()} cores"
    )
    print(
        f"  read-only floor        {floor:8.2f} s   ({nbytes / 2**20:.0f} MiB decoded once; best of {floors[0]:.2f}, {floors[1]:.2f})"
    )
    steady = wall - result.ray_start_seconds
    print(f"  build wall time        {wall:8.2f} s   (incl. {result.ray_start_seconds:.1f} s Ray start)")
    print(f"  build / floor          {wall / floor:8.2f} x   ({steady / floor:.2f} x without the Ray start)")
    print(f"  samples per scene      {samples / max(len(scenes), 1):8.0f}")
    print(f"  samples/s per core     {samples / wall / args.workers:8.1f}")
    total = sum(stages.values()) or 1.0
    for k, v in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  stage {k:<16} {v:8.2f} s   {100 * v / total:5.1f} %")
    rss = [s.get("peak_rss_mb", 0) for s in scenes]
    print(f"  peak memory per worker {max(rss, default=0):8.0f} MiB")
    for device, seconds in geometry.items():
        print(f"  geometry alone ({device:<4})  {seconds:8.2f} s per scene")
    print(
        f"  simulated {args.workers}-node cluster {cluster_wall:6.2f} s   ({cluster_wall / wall:.2f} x the local build, 1 CPU per node)"
    )
    per_scene_cpu = wall * args.workers / max(len(scenes), 1)
    print(
        f"  estimate, 1,513 scenes: {1513 * per_scene_cpu / args.workers / 3600:.1f} h on these {args.workers} cores; "
        f"{1513 * per_scene_cpu / 64 / 3600:.2f} h on 64 cores (e.g. 4 nodes x 16)"
    )

    from pipeline.bench_ingest import bench_ingest

    ing = bench_ingest(args.out.parent / "ingest", records=1_000_000, workers=args.workers)
    print(
        f"  ingest {ing['records']:,} records ({ing['input_mib']} MiB jsonl): {ing['wall_s']:.1f} s, "
        f"{ing['records_per_s_per_core']:.0f} records/s per core ({ing['records_per_s_per_core_incl_ray_start']:.0f} "
        f"incl. Ray start); peak memory {ing['peak_rss_mb_worker']:.0f} MiB per worker, {ing['peak_rss_mb_driver']:.0f} MiB driver"
    )


def simulated_cluster(data: Path, out: Path, nodes: int) -> float:
    """The same build on a Ray cluster of `nodes` one-CPU nodes simulated on this machine."""
    import ray
    from ray.cluster_utils import Cluster

    from pipeline.build import run_build
    from pipeline.config import BuildConfig

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()  # the cluster's start counts, as ray.init counts in the local build
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        run_build(BuildConfig(root=data, out=out), workers=nodes, show_progress=False)
        return time.perf_counter() - start
    finally:
        ray.shutdown()
        cluster.shutdown()


def geometry_alone(cfg, scene_ids: list[str]) -> dict[str, float]:
    from pipeline.geometry import GeometryConfig, compute_facts, gpu_available
    from sources import get_source

    source = get_source(cfg.source)
    devices = ["cpu"] + (["cuda"] if gpu_available() else [])
    out: dict[str, float] = {}
    for device in devices:
        times = []
        for sid in scene_ids:
            scene = source.read_scene(
                cfg.root, sid, frame_step=cfg.frames.frame_step, max_frames=cfg.frames.max_source_frames
            )
            start = time.perf_counter()
            compute_facts(scene, GeometryConfig(max_frames=cfg.frames.max_frames, device=device))
            times.append(time.perf_counter() - start)
        out[device] = float(np.mean(times))
    return out


if __name__ == "__main__":
    main()
