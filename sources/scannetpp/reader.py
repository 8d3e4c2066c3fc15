"""read_scene: one ScanNet++ scene (`data/<id>/scans/`, `data/<id>/iphone/`) -> Scene, or SceneError.

The laser mesh `mesh_aligned_0.05.ply` is already z-up and metric (the aligned frame), so nothing is
transformed. `segments.json` gives each vertex its segment (in the release: the vertex itself) and each group
of `segments_anno.json` is one object (`objectId`; `<= 0` means no object). A vertex claimed by two groups
keeps the first group's claim, as for ScanNet (docs/sources.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from sources.scannet.mesh import load_json, read_mesh, seg_indices, vertex_instances
from sources.scannet.ply import element_counts
from sources.scannetpp.labels import DEFAULT_MAP, fold, label_map_for, map_label
from sources.scannetpp.stream import read_stream
from sources.scene import ObjectAnnotation, OrientedBox, Scene, SceneError

log = logging.getLogger(__name__)
MESH = "mesh_aligned_0.05.ply"


def list_scenes(root: Path) -> list[str]:
    data = Path(root) / "data"
    if not data.is_dir():
        return []
    return sorted(p.name for p in data.iterdir() if p.is_dir() and (p / "scans").is_dir())


def _scene_dir(root: Path, scene_id: str) -> Path:
    path = Path(root) / "data" / scene_id
    if not path.is_dir():
        raise SceneError(f"scene folder not found: {scene_id} under {root}/data")
    return path


def scene_inputs(root: Path, scene_id: str, labels: Path | None = None) -> list[Path]:
    """What a scene is read from: its folder and the label map, when one applies (the facts cache's key)."""
    return [_scene_dir(root, scene_id), Path(labels) if labels is not None else Path(root) / DEFAULT_MAP]


def mesh_size(root: Path, scene_id: str) -> tuple[int, int] | None:
    try:
        counts = element_counts(_scene_dir(root, scene_id) / "scans" / MESH)
    except (OSError, SceneError, KeyError, ValueError, IndexError):
        return None
    return counts.get("vertex", 0), counts.get("face", 0)


def obb_box(obb: object) -> OrientedBox | None:
    """The group's `obb` (`normalizedAxes` reshaped 3x3 and transposed: columns are the box axes)."""
    if not isinstance(obb, dict):
        return None
    try:
        center = np.asarray(obb["centroid"], dtype=np.float64).reshape(3)
        extent = np.asarray(obb["axesLengths"], dtype=np.float64).reshape(3)
        rotation = np.asarray(obb["normalizedAxes"], dtype=np.float64).reshape(3, 3).T
    except (KeyError, TypeError, ValueError):
        return None
    return OrientedBox(center, extent, rotation)


def read_scene(
    root: Path, scene_id: str, frame_step: int = 1, max_frames: int | None = None, labels: Path | None = None
) -> Scene:
    scene_dir = _scene_dir(Path(root), scene_id)
    scans = scene_dir / "scans"
    segments_path, anno_path, mesh_path = scans / "segments.json", scans / "segments_anno.json", scans / MESH
    for path in (mesh_path, segments_path, anno_path):
        if not path.is_file():
            raise SceneError(f"not annotated: missing scans/{path.name}")
    label_map = label_map_for(root, labels)

    mesh = read_mesh(mesh_path)
    indices = seg_indices(load_json(segments_path), len(mesh.vertices), segments_path.name)
    anno = load_json(anno_path)
    groups = anno.get("segGroups")
    if not isinstance(groups, list):
        raise SceneError(f"{anno_path.name}: no segGroups list")
    try:
        kept = [g for g in groups if int(g.get("objectId", g.get("id", 0))) > 0]
    except (AttributeError, TypeError, ValueError) as exc:
        raise SceneError(f"{anno_path.name}: malformed segGroup ({exc!r})") from exc
    instances = vertex_instances(indices, {"segGroups": kept}, anno_path.name)
    if not instances.objects:
        raise SceneError(f"not annotated: {anno_path.name} has no object covering any vertex")
    boxes = {int(g.get("objectId", g.get("id"))): obb_box(g.get("obb")) for g in kept}

    warnings: list[str] = []
    objects, unknown = [], set()
    for raw in instances.objects:
        found = map_label(raw.raw_label, label_map)
        if found is None:
            if label_map is not None:
                unknown.add(raw.raw_label)
            category, nyu40class = fold(raw.raw_label), ""
        else:
            category, nyu40class = found
        objects.append(
            ObjectAnnotation(raw.object_id, category, raw.raw_label, nyu40class, box=boxes.get(raw.object_id))
        )
    if unknown:
        warnings.append(f"labels not in the label map, kept raw: {', '.join(sorted(unknown))}")
    if instances.duplicate_groups:
        warnings.append(f"dropped {instances.duplicate_groups} duplicate segGroups")
    if instances.empty_objects:
        warnings.append(f"dropped objects owning no vertex: {instances.empty_objects}")
    floor_ids = [o.instance_id for o in objects if "floor" in (o.label, o.nyu40class.lower())]
    floor = np.isin(instances.vertex_instance, np.asarray(floor_ids, dtype=np.int32))

    stream = read_stream(scene_dir / "iphone", frame_step, max_frames)
    for message in warnings:
        log.warning("%s: %s", scene_id, message)
    return Scene(
        source="scannetpp", scene_id=scene_id,
        vertices=mesh.vertices.astype(np.float32), faces=mesh.faces.astype(np.int32),
        vertex_instance=instances.vertex_instance, objects=objects, frames=stream.frames,
        depth_camera=stream.depth_camera, color_camera=stream.color_camera, store=stream.store,
        colors=mesh.colors, floor_vertex_mask=floor, skipped_frames=stream.skipped,
        warnings=warnings + stream.warnings,
    )  # fmt: skip
