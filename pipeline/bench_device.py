"""The geometry stage on each device, side by side: end-to-end time, time per kernel, and whether the facts agree.

The one script to run when a machine with an NVIDIA GPU is at hand (`make bench-device`, about a minute on
the `make bench` scans): every device computes the facts of the same scenes; times are the best of
`--repeats` plain runs, kernels come from one profiled run; the facts of each device are compared with the CPU's
(exit 1 past the tolerances below). Without a GPU, "cpu-tensor" runs the CUDA path's code (Open3D tensors) on the
CPU device, so the comparison itself is exercised everywhere. Raycasting (Embree) is CPU-only on every device.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from schemas.facts import SceneFacts

# (what, function name in pipeline/geometry): the kernels a device choice can change, and the big CPU-only parts
KERNELS = [
    ("projection + depth test, kept frames", "depth_test"),
    ("projection, all views", "project"),
    ("depth comparison, all views", "compare_depth"),
    ("culling (cube selection)", "select"),
    ("per-object reductions", "summarise"),
    ("occlusion raycasts (Embree)", "hidden_by_other"),
    ("virtual-view raycasts (Embree)", "depth"),
    ("closest distances (KD-trees)", "closest_distances"),
    ("room footprint (alpha shape)", "room_footprint"),
]

DEVICES = ("cpu", "cuda", "cpu-tensor")  # cpu-tensor: the CUDA path's code (Open3D tensors) on the CPU device

# float rounding differs between numpy (float64 arithmetic) and Open3D tensors (float32): a point on a pixel border
# or at the depth tolerance may flip; nothing else may move
MAX_FLIPPED_SHARE = 0.001  # of boolean entries (visible objects, visible track points)
MAX_FRACTION_DIFF = 0.005  # visible / in-frustum / occluded shares, virtual-view fractions
# bbox, centre, track uv (normalised units), depth, distance (metres), where both devices have them
MAX_MEASURE_DIFF = 1e-3


def _backend(device: str) -> Any:
    from pipeline.geometry.device import NumpyBackend, Open3DBackend

    return NumpyBackend() if device == "cpu" else Open3DBackend("CUDA:0" if device == "cuda" else "CPU:0")


def _flipped(a: np.ndarray, b: np.ndarray) -> float:
    return float((np.asarray(a) != np.asarray(b)).mean()) if np.size(a) else 0.0


def _max_diff(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Largest |a - b| where both are finite (a measure present on one device only shows as a flipped
    visibility); inf when one of them is missing or the shapes differ."""
    if a is None or b is None:
        return 0.0 if a is None and b is None else float("inf")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.abs(a[both] - b[both]).max()) if both.any() else 0.0


def _views_difference(a: SceneFacts, b: SceneFacts) -> tuple[float, float]:
    """(share of (frame, yaw, object) entries seen on one device only, largest fraction difference)."""
    if a.virtual_views.keys() != b.virtual_views.keys():
        return 1.0, float("inf")
    entries, one_sided, worst = 0, 0, 0.0
    for position, turns in a.virtual_views.items():
        for yaw, seen in turns.items():
            mine = {o: f for o, f, _ in seen}
            theirs = {o: f for o, f, _ in b.virtual_views[position].get(yaw, [])}
            entries += len(mine.keys() | theirs.keys())
            one_sided += len(mine.keys() ^ theirs.keys())
            worst = max([worst, *(abs(mine[o] - theirs[o]) for o in mine.keys() & theirs.keys())])
    return (one_sided / entries if entries else 0.0), worst


def _track_uv_difference(a: SceneFacts, b: SceneFacts) -> float:
    """Image positions of the track points both devices see (off-image positions of points near the camera
    plane are huge and only their visibility matters)."""
    if a.tracks is None or b.tracks is None:
        return 0.0 if a.tracks is None and b.tracks is None else float("inf")
    if a.tracks.visible.shape != b.tracks.visible.shape:
        return float("inf")
    seen = a.tracks.visible & b.tracks.visible
    return _max_diff(a.tracks.uv[seen], b.tracks.uv[seen])


def facts_differences(a: SceneFacts, b: SceneFacts) -> dict[str, float]:
    """Named differences between the facts of one scene from two devices (0 where identical)."""
    va, vb = a.visibility, b.visibility
    views_flipped, views_fraction = _views_difference(a, b)
    return {
        "frames and objects (1 when they differ)": float(
            [f.index for f in a.frames] != [f.index for f in b.frames] or len(a.objects) != len(b.objects)
        ),
        "visible: flipped share": _flipped(va.visible, vb.visible),
        "visible fraction: max diff": _max_diff(va.visible_fraction, vb.visible_fraction),
        "in-frustum fraction: max diff": _max_diff(va.in_frustum_fraction, vb.in_frustum_fraction),
        "occluded by other: max diff": _max_diff(va.occluded_by_other, vb.occluded_by_other),
        "bbox and centre: max diff": max(_max_diff(va.bbox, vb.bbox), _max_diff(va.center_x, vb.center_x)),
        "depth and min distance: max diff": max(
            _max_diff(va.depth, vb.depth), _max_diff(va.min_distance, vb.min_distance)
        ),
        "track points visible: flipped share": _flipped(a.tracks.visible, b.tracks.visible)
        if a.tracks
        else 0.0,
        "track uv where seen: max diff": _track_uv_difference(a, b),
        "view overlap: max diff": _max_diff(a.overlap, b.overlap),
        "closest distances: max diff": _max_diff(a.closest, b.closest),
        "virtual views: one-sided share": views_flipped,
        "virtual views fraction: max diff": views_fraction,
    }


def tolerance_failures(differences: dict[str, float]) -> list[str]:
    """The differences past their tolerance, as lines."""
    failures = []
    for name, value in differences.items():
        if "flipped" in name or "one-sided" in name:
            limit = MAX_FLIPPED_SHARE if "virtual" not in name else 10 * MAX_FLIPPED_SHARE
        elif "fraction" in name or "overlap" in name:
            limit = MAX_FRACTION_DIFF
        elif "max diff" in name:
            limit = MAX_MEASURE_DIFF
        else:
            limit = 0.0
        if not value <= limit:
            failures.append(f"{name}: {value:.3g} (allowed {limit:.3g})")
    return failures


def kernel_seconds(stats: pstats.Stats) -> dict[str, float]:
    """Cumulative seconds of each KERNELS function defined under pipeline/geometry."""
    found = dict.fromkeys((name for _, name in KERNELS), 0.0)
    for (path, _, function), (_, _, _, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if function in found and "pipeline/geometry" in path.replace("\\", "/"):
            found[function] += cumulative
    return found


def run_device(scenes: list[Any], device: str, repeats: int, config: Any) -> dict[str, Any]:
    from pipeline.geometry.stage import compute_facts

    backend = _backend(device)
    best = [min(_timed(compute_facts, scene, config, backend) for _ in range(repeats)) for scene in scenes]
    profile = cProfile.Profile()
    profile.enable()
    facts = [compute_facts(scene, config, backend) for scene in scenes]
    profile.disable()
    return {"seconds": float(np.mean(best)), "kernels": kernel_seconds(pstats.Stats(profile)), "facts": facts}


def _timed(fn: Any, *args: Any) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("bench/data"), help="a ScanNet-layout root")
    parser.add_argument("--scenes", type=int, default=2, help="scenes to run (the first, sorted)")
    parser.add_argument(
        "--devices",
        default="",
        help="comma list of cpu, cuda, cpu-tensor (default: cpu and "
        "cuda when Open3D sees one, else cpu and cpu-tensor)",
    )
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    from pipeline.config import BuildConfig
    from pipeline.geometry import GeometryConfig, gpu_available
    from pipeline.scene_task import read_scene
    from sources import get_source

    if not (args.data / "scans").is_dir():
        print(f"error: no ScanNet-layout scans under {args.data} (`make bench` writes bench/data once)")
        return 2
    devices = (
        args.devices.split(",") if args.devices else ["cpu", "cuda" if gpu_available() else "cpu-tensor"]
    )
    unknown = [d for d in devices if d not in DEVICES]
    if unknown:
        print(f"error: unknown device {unknown[0]!r} (one of {', '.join(DEVICES)})")
        return 2
    if "cuda" in devices and not gpu_available():
        print("error: --devices names cuda, but Open3D sees no CUDA device here")
        return 2
    cfg = BuildConfig(root=args.data, out=Path("unused"))
    source = get_source(cfg.source)
    scene_ids = source.list_scenes(cfg.root)[: args.scenes]
    scenes = [read_scene(cfg, sid) for sid in scene_ids]
    config = GeometryConfig(max_frames=cfg.frames.max_frames)
    results = {device: run_device(scenes, device, args.repeats, config) for device in devices}

    base = results[devices[0]]
    print(
        f"geometry stage on {len(scenes)} scenes of {args.data} ({', '.join(scene_ids)}), seconds per scene"
    )
    print(f"  {'':42}" + "".join(f"{d:>14}" for d in devices))
    print(
        f"  {'end to end (best of ' + str(args.repeats) + ')':42}"
        + "".join(f"{r['seconds']:10.3f} s  " for r in results.values())
    )
    for label, name in KERNELS:
        row = [r["kernels"][name] / len(scenes) for r in results.values()]
        speedups = [base["kernels"][name] / max(r["kernels"][name], 1e-9) for r in results.values()]
        print(f"  {label:42}" + "".join(f"{v:7.3f} {s:4.1f}x " for v, s in zip(row, speedups, strict=True)))
    failed = False
    for device in devices[1:]:
        for sid, a, b in zip(scene_ids, base["facts"], results[device]["facts"], strict=True):
            failures = tolerance_failures(facts_differences(a, b))
            failed |= bool(failures)
            verdict = "agree within tolerance" if not failures else "DIFFER: " + "; ".join(failures)
            print(f"  facts {devices[0]} vs {device}, {sid}: {verdict}")
            moved = {k: v for k, v in facts_differences(a, b).items() if v}
            if moved:
                print("    " + "; ".join(f"{k} {v:.3g}" for k, v in moved.items()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
