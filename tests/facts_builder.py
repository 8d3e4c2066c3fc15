"""Hand-built scene facts for generator tests: boxes and cameras placed where the answer is known."""

from __future__ import annotations

import numpy as np

from schemas.facts import FrameFacts, ObjectFacts, SceneFacts, Visibility


def box_object(
    instance_id: int,
    label: str,
    center: tuple[float, float, float],
    size: tuple[float, float, float],
    yaw_deg: float = 0.0,
    n: int = 400,
    nameable: bool = True,
) -> ObjectFacts:
    """An object whose points cover the surface of a box (deterministic grid-like sampling)."""
    rng = np.random.default_rng(instance_id)
    half = np.asarray(size, dtype=np.float64) / 2
    local = rng.uniform(-1, 1, size=(n, 3))
    axis = rng.integers(0, 3, size=n)
    local[np.arange(n), axis] = np.sign(local[np.arange(n), axis] + 1e-9)  # push each point onto a face
    local = local * half
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    points = (local @ rot.T + np.asarray(center)).astype(np.float32)
    return ObjectFacts(
        instance_id=instance_id,
        label=label,
        points=points,
        obb_center=np.asarray(center, dtype=np.float64),
        obb_extent=np.asarray(size, dtype=np.float64),
        obb_rotation=rot,
        nameable=nameable,
    )


def look_at_pose(position: tuple[float, float, float], target: tuple[float, float, float]) -> np.ndarray:
    """Camera-to-world (OpenCV axes: x right, y down, z forward) at `position` looking at `target`, z up world."""
    eye = np.asarray(position, dtype=np.float64)
    forward = np.asarray(target, dtype=np.float64) - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = right, down, forward, eye
    return pose


def frame(index: int, position, target, fps_step: float = 1.0) -> FrameFacts:
    return FrameFacts(
        index=index,
        timestamp=index * fps_step,
        pose=look_at_pose(position, target),
        image=f"test/scene/{index:06d}.jpg",
    )


def empty_visibility(n_frames: int, n_objects: int) -> Visibility:
    shape = (n_frames, n_objects)
    nan = np.full(shape, np.nan)
    return Visibility(
        visible=np.zeros(shape, dtype=bool),
        visible_fraction=np.zeros(shape),
        in_frustum_fraction=np.zeros(shape),
        bbox=np.full((*shape, 4), np.nan),
        center_x=nan.copy(),
        depth=nan.copy(),
        min_distance=nan.copy(),
    )


def closest_distances(objects: list[ObjectFacts]) -> np.ndarray:
    """Brute-force closest-point distances (fine for test-sized point sets)."""
    n = len(objects)
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            d = np.linalg.norm(objects[i].points[:, None, :] - objects[j].points[None, :, :], axis=2).min()
            out[i, j] = out[j, i] = d
    return out


def make_facts(objects: list[ObjectFacts], frames: list[FrameFacts] | None = None, **extra) -> SceneFacts:
    """SceneFacts with brute-force distances; visibility empty unless given in `extra`."""
    frames = frames if frames is not None else [frame(i * 30, (0, -3, 1.5), (0, 0, 1)) for i in range(20)]
    facts = SceneFacts(
        source="test",
        scene_id="scene_test",
        objects=objects,
        frames=frames,
        visibility=extra.pop("visibility", empty_visibility(len(frames), len(objects))),
        closest=extra.pop("closest", closest_distances(objects)),
        overlap=extra.pop("overlap", np.eye(len(frames))),
        first_appearance=extra.pop("first_appearance", np.full(len(objects), -1)),
        image_width=640,
        image_height=480,
    )
    for key, value in extra.items():
        setattr(facts, key, value)
    return facts


def run_rule(facts, subtask: str, seed: int = 3, **quotas: int) -> list[dict]:
    """Run one subtask's rule through the registry; every sample must validate and carry its taxonomy ids."""
    from generators.base import GenerationConfig
    from generators.registry import run_subtask
    from schemas import validate_sample
    from taxonomy import SUBTASKS

    samples = run_subtask(facts, subtask, GenerationConfig(seed=seed, quotas=quotas or {}))
    ids = {o.instance_id for o in facts.objects}
    for s in samples:
        model, reason = validate_sample(s, instance_ids=ids)
        assert model is not None, reason
        assert s["subtask"] == subtask and s["category"] == SUBTASKS[subtask].category
    return samples


def run_quota(facts, subtask: str, quota: int = 50, seed: int = 0) -> list[dict]:
    """`run_rule` with one quota for the subtask (seed 0)."""
    return run_rule(facts, subtask, seed, **{subtask: quota})
