"""Mesh + over-segmentation + aggregation -> per-vertex instance ids.

Only the low-resolution pair is consistent: `<id>_vh_clean_2.0.010000.segs.json` indexes the vertices of
`<id>_vh_clean_2.ply` and `<id>.aggregation.json` groups those segments. `<id>_vh_clean.aggregation.json` goes with
the high-res mesh and is never read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sources.scannet.ply import read_ply
from sources.scene import SceneError


@dataclass
class MeshData:
    vertices: np.ndarray  # (N, 3) float64, unaligned
    faces: np.ndarray  # (M, 3) int32
    colors: np.ndarray | None  # (N, 3) uint8


@dataclass
class RawObject:
    object_id: int
    raw_label: str


@dataclass
class Instances:
    vertex_instance: np.ndarray  # (N,) int32, -1 = none
    objects: list[RawObject]  # sorted by object id, only objects owning at least one vertex
    duplicate_groups: int  # exact duplicate segGroups dropped
    empty_objects: list[int]  # object ids dropped because they own no vertex


def read_mesh(path: Path) -> MeshData:
    ply = read_ply(path)
    names = ply.vertex.dtype.names or ()
    if not {"x", "y", "z"} <= set(names):
        raise SceneError(f"{Path(path).name}: vertices have no x/y/z")
    vertices = np.stack([ply.vertex["x"], ply.vertex["y"], ply.vertex["z"]], axis=1).astype(np.float64)
    if len(vertices) == 0:
        raise SceneError(f"{Path(path).name}: mesh has no vertices")
    if not np.all(np.isfinite(vertices)):
        raise SceneError(f"{Path(path).name}: non-finite vertex coordinates")
    colors = None
    if {"red", "green", "blue"} <= set(names):
        colors = np.stack([ply.vertex["red"], ply.vertex["green"], ply.vertex["blue"]], axis=1).astype(
            np.uint8
        )
    return MeshData(vertices=vertices, faces=ply.faces, colors=colors)


def read_vertex_labels(path: Path) -> np.ndarray | None:
    """NYU40 id per vertex from `_vh_clean_2.labels.ply` (its `label` property), None when it has none."""
    ply = read_ply(path)
    if "label" not in (ply.vertex.dtype.names or ()):
        return None
    return ply.vertex["label"].astype(np.int32)


def load_json(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SceneError(f"{Path(path).name}: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SceneError(f"{Path(path).name}: expected a JSON object")
    return data


def seg_indices(segs: dict, n_vertices: int, name: str) -> np.ndarray:
    raw = segs.get("segIndices")
    if not isinstance(raw, list):
        raise SceneError(f"{name}: no segIndices list")
    try:
        indices = np.asarray(raw, dtype=np.int64)
    except (TypeError, ValueError) as exc:
        raise SceneError(f"{name}: segIndices are not integers") from exc
    if indices.shape != (n_vertices,):
        raise SceneError(f"{name}: {indices.size} segIndices for a mesh of {n_vertices} vertices")
    return indices


def vertex_instances(indices: np.ndarray, aggregation: dict, name: str) -> Instances:
    """objectId per vertex. Exact duplicate groups (same label and segments: scene0217_00) are dropped, and when
    groups still overlap the first group to claim a vertex keeps it, so a vertex has at most one instance."""
    groups = aggregation.get("segGroups")
    if not isinstance(groups, list):
        raise SceneError(f"{name}: no segGroups list")
    # Segments partition the vertices, so "first claim on a vertex" is "first claim on a segment".
    segment_owner: dict[int, int] = {}
    seen: set[tuple[str, frozenset[int]]] = set()
    objects: dict[int, RawObject] = {}
    duplicates = 0
    for group in groups:
        if not isinstance(group, dict):
            raise SceneError(f"{name}: segGroup is not an object")
        try:
            object_id = int(group["objectId"] if "objectId" in group else group["id"])
            segments = frozenset(int(s) for s in group.get("segments", []))
        except (KeyError, TypeError, ValueError) as exc:
            raise SceneError(f"{name}: malformed segGroup ({exc!r})") from exc
        if object_id < 0:
            raise SceneError(f"{name}: negative objectId {object_id}")
        label = str(group.get("label", ""))
        key = (label, segments)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        for segment in segments:
            segment_owner.setdefault(segment, object_id)
        objects.setdefault(object_id, RawObject(object_id, label))
    unique_segments, inverse = np.unique(indices, return_inverse=True)
    owner = np.array([segment_owner.get(int(s), -1) for s in unique_segments], dtype=np.int32)
    vertex_instance = owner[inverse.reshape(-1)] if indices.size else np.zeros(0, dtype=np.int32)
    owned = set(np.unique(vertex_instance[vertex_instance >= 0]).tolist())
    empty = sorted(set(objects) - owned)
    kept = [objects[i] for i in sorted(owned)]
    return Instances(
        vertex_instance=vertex_instance, objects=kept, duplicate_groups=duplicates, empty_objects=empty
    )
