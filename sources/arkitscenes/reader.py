"""read_scene: one ARKitScenes 3DOD video (`3dod/<fold>/<video>/`) -> Scene, or SceneError with a one-line reason.

The mesh, boxes and poses share one z-up metric world frame, so nothing is transformed except the frames,
which are turned upright. Objects are boxes only: every vertex has instance -1 and each object's points are
the mesh vertices inside its box, taken by the geometry stage (pipeline/geometry/boxes.py).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np

from sources.arkitscenes.annotation import read_annotation
from sources.arkitscenes.frames import read_lowres
from sources.arkitscenes.upright import turns_for
from sources.scannet.mesh import read_mesh
from sources.scannet.ply import element_counts
from sources.scene import POINTS_BOX, ObjectAnnotation, Scene, SceneError
from sources.splits import arkit_sky_direction

FOLDS = ("Training", "Validation")


def _base(root: Path) -> Path:
    """ROOT/3dod when present (the download's layout), else ROOT itself (pointed at 3dod/)."""
    root = Path(root)
    return root / "3dod" if (root / "3dod").is_dir() else root


def list_scenes(root: Path) -> list[str]:
    base = _base(root)
    found = []
    for fold in FOLDS:
        if (base / fold).is_dir():
            found += [p.name for p in (base / fold).iterdir() if p.is_dir()]
    return sorted(set(found))


def _video_dir(root: Path, video_id: str) -> Path:
    for fold in FOLDS:
        path = _base(root) / fold / video_id
        if path.is_dir():
            return path
    raise SceneError(f"video folder not found: {video_id} under {_base(root)}/Training or Validation")


def scene_inputs(root: Path, video_id: str, labels: Path | None = None) -> list[Path]:
    """What a video is read from: its folder and the metadata.csv that gives its sky direction (cache key)."""
    del labels  # not read by this source
    return [_video_dir(root, video_id), _base(root) / "metadata.csv", Path(root) / "metadata.csv"]


def mesh_size(root: Path, video_id: str) -> tuple[int, int] | None:
    try:
        counts = element_counts(_video_dir(root, video_id) / f"{video_id}_3dod_mesh.ply")
    except (OSError, SceneError, KeyError, ValueError, IndexError):
        return None
    return counts.get("vertex", 0), counts.get("face", 0)


@lru_cache(maxsize=4)
def _metadata_sky(path: str, mtime_ns: int) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return {r["video_id"]: r["sky_direction"] for r in csv.DictReader(handle) if r.get("sky_direction")}


def sky_direction(root: Path, video_id: str) -> str | None:
    """From the download's metadata.csv when it has one, else the vendored copy (sources/splits.py)."""
    for path in (_base(root) / "metadata.csv", Path(root) / "metadata.csv"):
        if path.is_file():
            sky = _metadata_sky(str(path), path.stat().st_mtime_ns).get(video_id)
            if sky and sky != "NA":
                return sky
    return arkit_sky_direction().get(video_id)


def read_scene(
    root: Path, video_id: str, frame_step: int = 1, max_frames: int | None = None, labels: Path | None = None
) -> Scene:
    del labels  # the 17 ARKitScenes classes map through annotation.CLASS_NAMES
    video_dir = _video_dir(root, video_id)
    annotation_path = video_dir / f"{video_id}_3dod_annotation.json"
    mesh_path = video_dir / f"{video_id}_3dod_mesh.ply"
    if not annotation_path.is_file():
        raise SceneError(f"not annotated: missing {annotation_path.name}")
    if not mesh_path.is_file():
        raise SceneError(f"missing mesh {mesh_path.name}")
    boxes = read_annotation(annotation_path)
    if not boxes:
        raise SceneError(f"not annotated: {annotation_path.name} has no object")
    mesh = read_mesh(mesh_path)

    warnings = []
    sky = sky_direction(root, video_id)
    if sky is None:
        warnings.append("no sky_direction in metadata.csv: frames taken as stored (Up)")
        sky = "Up"
    stream = read_lowres(video_dir / f"{video_id}_frames", video_id, turns_for(sky), frame_step, max_frames)
    objects = [
        ObjectAnnotation(b.position, b.label, b.raw_label, points_from=POINTS_BOX, box=b.box, uid=b.uid)
        for b in boxes
    ]
    return Scene(
        source="arkitscenes", scene_id=video_id,
        vertices=mesh.vertices.astype(np.float32), faces=mesh.faces.astype(np.int32),
        vertex_instance=np.full(len(mesh.vertices), -1, dtype=np.int32), objects=objects, frames=stream.frames,
        depth_camera=stream.camera, color_camera=stream.camera, store=stream.store, colors=mesh.colors,
        floor_vertex_mask=None, skipped_frames=stream.skipped, warnings=warnings + stream.warnings,
    )  # fmt: skip
