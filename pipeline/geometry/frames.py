"""Frame selection and the per-frame observation pass (each selected depth image decoded exactly once)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from pipeline.geometry.culling import CulledCloud
from pipeline.geometry.device import Backend
from pipeline.geometry.occlusion import SurfaceOwners
from pipeline.geometry.projection import depth_test, normalised_uv, world_to_camera
from pipeline.geometry.visibility import PointOwners, stack_visibility, summarise
from schemas.facts import FrameFacts, Visibility
from sources.images import jpeg_problem
from sources.scene import FrameError, FrameRef, Scene


def uniform_positions(n: int, keep: int) -> np.ndarray:
    """`keep` positions spread evenly over 0..n-1, first and last included (all when n <= keep)."""
    if n <= keep:
        return np.arange(n)
    return np.unique(np.round(np.linspace(0, n - 1, max(keep, 1))).astype(np.int64))


def count_skip(scene: Scene, reason: str) -> None:
    scene.skipped_frames[reason] = scene.skipped_frames.get(reason, 0) + 1


def frame_problem(scene: Scene, ref: FrameRef) -> tuple[str | None, np.ndarray | None]:
    """(skip reason, None) or (None, depth in metres): the colour image must be a whole JPEG of the colour
    camera's size (decoded once here, before anything refers to it), the depth of the depth camera's size."""
    try:
        problem = jpeg_problem(
            scene.store.color_jpeg(ref.index), (scene.color_camera.width, scene.color_camera.height)
        )
        if problem is not None:
            return problem, None
        depth = np.asarray(scene.store.depth(ref.index), dtype=np.float32)
    except FrameError as exc:  # unreadable, outside the dataset root, short read
        return exc.reason, None
    if depth.shape != (scene.depth_camera.height, scene.depth_camera.width):
        return "depth_size_mismatch", None
    return None, depth


def decoded_frames(scene: Scene, max_frames: int) -> Iterator[tuple[FrameRef, np.ndarray]]:
    """Uniform subsample chosen BEFORE decoding; frames with an invalid pose, a broken colour image, a depth of
    the wrong size or an empty depth are counted (`scene.skipped_frames`) and dropped."""
    for position in uniform_positions(len(scene.frames), max_frames):
        ref = scene.frames[position]
        pose = np.asarray(ref.pose, dtype=np.float64)
        if pose.shape != (4, 4) or not np.isfinite(pose).all():
            count_skip(scene, "invalid_pose")
            continue
        problem, depth = frame_problem(scene, ref)
        if problem is not None:
            count_skip(scene, problem)
            continue
        if not np.isfinite(
            depth
        ).all():  # the check is 10x cheaper than the copy that nan_to_num always makes
            depth = np.nan_to_num(depth, nan=0.0, posinf=0.0)
        if not (depth > 0).any():
            count_skip(scene, "empty_depth")
            continue
        yield ref, depth


@dataclass
class Observations:
    frames: list[FrameFacts]
    visibility: Visibility
    track_uv: np.ndarray  # (F, P, 2)
    track_visible: np.ndarray  # (F, P)


def observe_frames(
    scene: Scene,
    max_frames: int,
    backend: Backend,
    points: Any,
    cloud: CulledCloud,
    surface: SurfaceOwners | None = None,
) -> Observations:
    """Project the cloud (`points`: `cloud.points` as a backend array; objects' points, then the track points)
    into every kept frame, skipping the cubes of object points outside the frame's frustum. With `surface`,
    each in-frustum object point is raycast for occlusion by another object (occlusion.py)."""
    n_tracks = len(cloud.points) - cloud.n_object_points
    frames, rows, track_uv, track_visible = [], [], [], []
    for ref, depth in decoded_frames(scene, max_frames):
        world_to_cam = world_to_camera(ref.pose)
        selected = cloud.select(world_to_cam, scene.depth_camera, depth.shape)
        projection = depth_test(
            backend, backend.take(points, selected), world_to_cam, scene.depth_camera, depth
        )
        objects = slice(0, len(selected) - n_tracks)
        owner = np.take(cloud.owner, selected[objects])
        hidden = None
        if surface is not None:  # a point the depth map sees is in plain sight: only the others are cast
            inside = np.flatnonzero(projection.in_frustum[objects] & ~projection.hit[objects])
            hidden = np.zeros(len(owner), dtype=bool)
            hidden[inside] = surface.hidden_by_other(
                ref.pose[:3, 3],
                cloud.points[selected[inside]],
                owner[inside],
                projection.cam[inside],
            )
        rows.append(
            summarise(
                PointOwners(owner, cloud.counts),
                projection.hit[objects],
                projection.in_frustum[objects],
                projection.cam[objects],
                scene.color_camera,
                hidden=hidden,
            )
        )
        tracks = slice(objects.stop, None)
        track_uv.append(normalised_uv(projection.cam[tracks], scene.color_camera))
        track_visible.append(projection.hit[tracks])
        image = f"{scene.source}/{scene.scene_id}/{ref.index:06d}.jpg"
        frames.append(
            FrameFacts(
                index=int(ref.index),
                timestamp=float(ref.timestamp),
                pose=np.array(ref.pose, dtype=np.float64),
                image=image,
            )
        )
    return Observations(
        frames=frames,
        visibility=stack_visibility(rows, len(cloud.counts)),
        track_uv=np.stack(track_uv) if frames else np.zeros((0, n_tracks, 2)),
        track_visible=np.stack(track_visible) if frames else np.zeros((0, n_tracks), dtype=bool),
    )
