"""Which frames a scene keeps: subsample first (every k-th, then N uniform), read only the chosen poses.

Depth is never decoded here: the geometry stage decodes each selected depth frame once and counts empty ones.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from sources.paths import OUTSIDE, Boundary
from sources.scannet.cameras import read_matrix
from sources.scannet.sens import SensIndex
from sources.scene import FrameRef

EXPORT_FPS = 30.0


def uniform(items: Sequence[int], count: int | None) -> list[int]:
    """`count` items spread evenly over `items` (first and last included); all of them when count is None/large."""
    if count is None or count >= len(items):
        return list(items)
    positions = np.linspace(0, len(items) - 1, count).round().astype(int)
    return [items[i] for i in positions]


def pose_problem(pose: np.ndarray | None) -> str | None:
    """Why a camera-to-world matrix is unusable, or None. Real scenes have all -inf poses where tracking failed."""
    if pose is None or pose.shape != (4, 4):
        return "unreadable_pose"
    if not np.all(np.isfinite(pose)):
        return "invalid_pose"
    if not np.allclose(pose[3], [0, 0, 0, 1], atol=1e-4) or abs(np.linalg.det(pose[:3, :3]) - 1.0) > 0.05:
        return "degenerate_pose"
    return None


def _select(
    candidates: list[int],
    step: int,
    max_frames: int | None,
    problem: Callable[[int], str | None],
    make: Callable[[int], FrameRef],
) -> tuple[list[FrameRef], dict[str, int]]:
    skipped: Counter[str] = Counter()
    usable = []
    for index in candidates[::step]:
        reason = problem(index)
        if reason is None:
            usable.append(index)
        else:
            skipped[reason] += 1
    return [make(i) for i in uniform(usable, max_frames)], dict(skipped)


def _numeric_stems(folder: Path, suffix: str) -> set[int]:
    if not folder.is_dir():
        return set()
    return {int(p.stem) for p in folder.iterdir() if p.suffix.lower() == suffix and p.stem.isdigit()}


def export_frames(
    scene_dir: Path, align: np.ndarray, step: int, max_frames: int | None, boundary: Boundary | None = None
) -> tuple[list[FrameRef], dict[str, int]]:
    poses_on_disk = _numeric_stems(scene_dir / "pose", ".txt")
    depths = _numeric_stems(scene_dir / "depth", ".png")
    colors = _numeric_stems(scene_dir / "color", ".jpg")
    candidates = sorted(poses_on_disk | depths | colors)
    poses: dict[int, np.ndarray] = {}

    def problem(index: int) -> str | None:
        if index not in poses_on_disk:
            return "missing_pose"
        if index not in depths:
            return "missing_depth"
        if index not in colors:
            return "missing_color"
        path = scene_dir / "pose" / f"{index}.txt"
        if boundary is not None and not boundary.contains(path):
            return OUTSIDE
        pose = read_matrix(path)
        reason = pose_problem(pose)
        if reason is None:
            poses[index] = pose
        return reason

    def make(index: int) -> FrameRef:
        return FrameRef(index=index, timestamp=index / EXPORT_FPS, pose=align @ poses[index])

    return _select(candidates, step, max_frames, problem, make)


def sens_frames(
    index: SensIndex, align: np.ndarray, step: int, max_frames: int | None
) -> tuple[list[FrameRef], dict[str, int]]:
    stamps = index.color_timestamps.astype(np.float64)
    if len(stamps) > 1 and stamps[-1] > stamps[0] and np.all(np.diff(stamps) >= 0):
        seconds = (stamps - stamps[0]) / 1e6
    else:  # streams without usable clocks: assume the sensor's 30 Hz
        seconds = np.arange(len(stamps)) / EXPORT_FPS

    def problem(i: int) -> str | None:
        if index.depth_sizes[i] == 0:
            return "missing_depth"
        if index.color_sizes[i] == 0:
            return "missing_color"
        return pose_problem(index.poses[i])

    def make(i: int) -> FrameRef:
        return FrameRef(index=i, timestamp=float(seconds[i]), pose=align @ index.poses[i])

    frames, skipped = _select(list(range(len(index))), step, max_frames, problem, make)
    if index.truncated:
        skipped["truncated_stream"] = index.truncated
    return frames, skipped
