"""`make bench`: the build against the time to merely read its inputs, on ScanNet-scale demo scenes.

Prints, from one run: the processor (seconds compare only on the same one), build wall time (the better of two
builds), read-only floor (every mesh, JSON, depth png and colour jpg decoded once, same number of processes), their
ratio, samples per scene, samples/s per core, time by stage and its ratio to the floor, peak memory per worker, and
the geometry stage alone per scene (CPU, and CUDA when Open3D sees a GPU).
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


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor, as /proc/cpuinfo names it (with its family and model: cloud CPUs often say only "Intel(R)
    Xeon(R) Processor"). Figures of two runs compare only on the same processor."""
    import platform

    fields: dict[str, str] = {}
    try:
        for line in cpuinfo.read_text().splitlines():
            if not line.strip():  # the first processor's block is enough
                break
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown processor"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name


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


def read_needed(scene_dir: str, max_frames: int = 64) -> int:
    """The tight floor: only what a build keeping `max_frames` frames cannot avoid (mesh, annotation, metadata,
    and the depth and colour images of `max_frames` uniformly chosen frames)."""
    scene = Path(scene_dir)
    total = 0
    for path in sorted(scene.glob("*")):
        if path.is_file() and path.suffix in (".ply", ".json", ".txt"):
            total += path.stat().st_size
            path.read_bytes() if path.suffix != ".json" else json.loads(path.read_text())
    depth = sorted((scene / "depth").glob("*.png"), key=lambda p: int(p.stem))
    keep = np.unique(np.linspace(0, len(depth) - 1, min(max_frames, len(depth))).round().astype(int))
    for i in keep if depth else []:
        d = depth[i]
        cv2.imread(str(d), cv2.IMREAD_UNCHANGED)
        c = scene / "color" / f"{d.stem}.jpg"
        cv2.imread(str(c), cv2.IMREAD_COLOR)
        total += d.stat().st_size + c.stat().st_size
    return total


def timed_floor(fn, scene_dirs: list[str], workers: int) -> tuple[float, int, list[float]]:
    """Best of two runs (the floor is noisy: page cache, other load), so a ratio to it errs on the high side."""
    runs, nbytes = [], 0
    for _ in range(2):
        start = time.perf_counter()
        with ProcessPoolExecutor(workers) as pool:
            nbytes = sum(pool.map(fn, scene_dirs))
        runs.append(time.perf_counter() - start)
    return min(runs), nbytes, runs


def timed_generate(root: Path, scene_id: str, subtask: str) -> float:
    """Wall time of one `sicorpus generate` process on one scene (start-up and imports included)."""
    import subprocess
    import sys

    from taxonomy import SUBTASKS

    category = SUBTASKS[subtask].category
    argv = [sys.executable, "-m", "pipeline.cli", "generate", category, "--root", str(root)]
    argv += ["--scene", scene_id, "--subtask", subtask]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def build_once(data: Path, out: Path, workers: int):
    from pipeline.build import run_build
    from pipeline.config import BuildConfig

    shutil.rmtree(out, ignore_errors=True)
    return run_build(BuildConfig(root=data, out=out), workers=workers, show_progress=False)


def cold_cache(path: Path) -> None:
    """An empty facts cache for the next build (set before Ray starts: its workers inherit it)."""
    shutil.rmtree(path, ignore_errors=True)
    os.environ["SICORPUS_CACHE"] = str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("bench/data"))
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--vertices", type=int, default=150_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--index-rows", type=int, default=8_000_000, help="rows of the synthetic index (0: skip)"
    )
    parser.add_argument("--skip-cluster", action="store_true", help="skip the simulated two-node cluster")
    parser.add_argument(
        "--ingest-records",
        type=int,
        default=1_000_000,
        help="records of the generated ingest input (0: skip)",
    )
    args = parser.parse_args()

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
    scene_ids = [Path(d).name for d in scene_dirs]

    floor, nbytes, floors = timed_floor(read_everything, scene_dirs, args.workers)
    tight, tight_bytes, _ = timed_floor(read_needed, scene_dirs, args.workers)

    # Cold: an empty facts cache, so the geometry stage runs; the better of two builds, as the floor is the better
    # of two reads (one build against the best read would charge the build with the machine's noise). Warm: the
    # rebuild after a rule-only change, on the cache the second cold build filled.
    colds = []
    for _ in range(2):
        cold_cache(args.out.with_name(args.out.name + "-cache"))
        colds.append(build_once(args.data, args.out, args.workers))
    result = min(colds, key=lambda r: r.seconds)
    warm = build_once(args.data, args.out.with_name(args.out.name + "-warm"), args.workers)
    wall = result.seconds
    scenes = [s for s in result.manifest["scenes"] if s["status"] == "ok"]
    samples = sum(s["n_samples"] for s in scenes)
    stages: dict[str, float] = {}
    for s in scenes:
        for k, v in s["timings"].items():
            stages[k] = stages.get(k, 0.0) + v

    cfg = BuildConfig(root=args.data, out=args.out)
    geometry = geometry_alone(cfg, scene_ids[:1])
    cold_cache(args.out.with_name(args.out.name + "-gen-cache"))
    gen_cold = timed_generate(args.data, scene_ids[0], "camera_rotation")
    gen_warm = min(timed_generate(args.data, scene_ids[0], "camera_rotation") for _ in range(2))
    cluster_wall = (
        None
        if args.skip_cluster
        else simulated_cluster(args.data, args.out.with_name(args.out.name + "-cluster"), args.workers)
    )

    n = max(len(scenes), 1)
    print(
        f"\nsicorpus bench: {len(scene_dirs)} scenes, {args.vertices} vertices, {args.frames} frames, {args.workers} workers on {os.cpu_count()} cores"
    )
    print(f"  processor: {cpu_model()}")
    print(
        f"  read-only floor        {floor:8.2f} s   ({nbytes / 2**20:.0f} MiB decoded once; best of {floors[0]:.2f}, {floors[1]:.2f})"
    )
    print(
        f"  tight floor            {tight:8.2f} s   ({tight_bytes / 2**20:.0f} MiB: mesh, annotation, 64 frames)"
    )
    steady = wall - result.ray_start_seconds
    print(
        f"  build wall time        {wall:8.2f} s   (best of {colds[0].seconds:.2f}, {colds[1].seconds:.2f}; incl. "
        f"{result.ray_start_seconds:.1f} s Ray start, {result.ray_stop_seconds:.1f} s Ray shutdown)"
    )
    print(f"  build / floor          {wall / floor:8.2f} x   ({steady / floor:.2f} x without the Ray start)")
    print(f"  build / tight floor    {wall / tight:8.2f} x")
    print(f"  rebuild, facts cached  {warm.seconds:8.2f} s   (a rule-only change: geometry skipped)")
    print(f"  samples per scene      {samples / n:8.0f}")
    print(f"  samples/s per core     {samples / wall / args.workers:8.1f}")
    # A worker's first scene imports scipy and Open3D ("imports"): paid once per worker, so it counts with the
    # start-up below, not with every scan.
    imports = stages.pop("imports", 0.0)
    in_task = sum(stages.values())
    total = in_task or 1.0
    print(f"  core-seconds per scan  {in_task / n:8.2f} s   inside the scene task, by stage:")
    for k, v in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"    {k:<20} {v / n:8.2f} s   {100 * v / total:5.1f} %")
    # The floor's share of one scan in core-seconds: the same decode work on any machine, so this ratio, unlike
    # the seconds, compares runs on different processors (roughly: the floor is I/O and libpng/libjpeg).
    floor_per_scan = floor * args.workers / max(len(scene_dirs), 1)
    print(
        f"  scan task / floor      {in_task / n / floor_per_scan:8.2f} x   (in-task core-seconds over the floor's "
        f"{floor_per_scan:.2f} core-s per scan: compares processors)"
    )
    print(
        f"  imports, once a worker {imports / args.workers:8.2f} s   (scipy, Open3D: a worker's first scene)"
    )
    end_to_end = wall * args.workers / n
    print(f"  core-seconds per scan  {end_to_end:8.2f} s   end to end (build wall x workers / scans)")
    # What a long build pays once: Ray's start and shutdown, imports, planning, the last wave's idle worker. Each
    # further scan adds its in-task seconds (dispatching a task between two scans takes milliseconds).
    fixed = max(wall - in_task / args.workers, 0.0)
    print(f"  start-up, paid once    {fixed:8.2f} s   (build wall - scene-task seconds / workers)")
    rss = [s.get("peak_rss_mb", 0) for s in scenes]
    print(f"  peak memory per worker {max(rss, default=0):8.0f} MiB")
    for device, seconds in geometry.items():
        print(
            f"  geometry alone ({device:<4})  {seconds:8.2f} s per scene (raycasts, KD-trees on every core)"
        )
    if "cuda" not in geometry:
        print("  geometry alone (cuda)  not measured: Open3D sees no CUDA device here")
    print(
        f"  generate, one scene    {gen_cold:8.2f} s   cold cache; {gen_warm:.2f} s repeated (facts cached)"
    )
    if cluster_wall is not None:
        print(
            f"  simulated {args.workers}-node cluster {cluster_wall:6.2f} s   ({cluster_wall / wall:.2f} x the local build, 1 CPU per node)"
        )
    full_scan_seconds = 1513 * in_task / n  # core-seconds of 1,513 scans' scene tasks
    print(
        f"  estimate, 1,513 scans: {(fixed + full_scan_seconds / args.workers) / 60:.0f} min on these "
        f"{args.workers} cores (start-up once + {full_scan_seconds / args.workers / 60:.1f} min of scene tasks); "
        f"{(fixed + full_scan_seconds / 64) / 60:.1f} min on 64 cores"
    )
    if args.index_rows:
        from pipeline.bench_mix import report as mix_report
        from pipeline.bench_tools import tools_at_scale

        print(f"\ncorpus tools on a synthetic {args.index_rows:,}-row index (rows of this build, repeated):")
        for line in tools_at_scale(args.out, args.out.with_name(args.out.name + "-index"), args.index_rows):
            print(line)
        mix_report(args.index_rows, args.out.with_name("mix"))  # mix and export planning, index only

    if not args.ingest_records:
        return
    from pipeline.bench_ingest import bench_ingest

    ing = bench_ingest(args.out.parent / "ingest", records=args.ingest_records, workers=args.workers)
    print("\ningest of a generated InternVL jsonl (pipeline/bench_ingest.py):")
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
    from pipeline.scene_task import read_scene

    devices = ["cpu"] + (["cuda"] if gpu_available() else [])
    out: dict[str, float] = {}
    for device in devices:
        times = []
        for sid in scene_ids:
            scene = read_scene(cfg, sid)
            start = time.perf_counter()
            compute_facts(scene, GeometryConfig(max_frames=cfg.frames.max_frames, device=device))
            times.append(time.perf_counter() - start)
        out[device] = float(np.mean(times))
    return out


if __name__ == "__main__":
    main()
