"""read_scene: one ScanNet v2 scene folder -> sources.scene.Scene, or SceneError with a one-line reason."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sources.paths import Boundary
from sources.scannet import meta as meta_txt
from sources.scannet.labels import LabelMap, load_label_map
from sources.scannet.mesh import load_json, read_mesh, read_vertex_labels, seg_indices, vertex_instances
from sources.scannet.ply import element_counts
from sources.scannet.streams import SceneFrames, read_frames
from sources.scene import ObjectAnnotation, Scene, SceneError

log = logging.getLogger(__name__)
LABELS_TSV = "scannetv2-labels.combined.tsv"
NYU40_FLOOR = 2


@dataclass
class ReaderOptions:
    frame_step: int = 1  # keep every k-th source frame
    max_frames: int | None = None  # then this many, uniformly over what is left
    use_sens: bool | None = None  # None: export folders when present, else the .sens
    labels: Path | None = None  # label tsv; default ROOT/scannetv2-labels.combined.tsv

    def __post_init__(self) -> None:
        if self.frame_step < 1:
            raise ValueError(f"frame_step must be >= 1, got {self.frame_step}")
        if self.max_frames is not None and self.max_frames < 1:
            raise ValueError(f"max_frames must be >= 1 or None, got {self.max_frames}")


def list_scenes(root: Path) -> list[str]:
    scans = Path(root) / "scans"
    if not scans.is_dir():
        return []
    return sorted(p.name for p in scans.iterdir() if p.is_dir() and p.name.startswith("scene"))


def list_all_scenes(root: Path) -> list[str]:
    """Scene ids under scans/ and scans_test/ (the ids read_scene can find)."""
    found = set(list_scenes(root))
    test = Path(root) / "scans_test"
    if test.is_dir():
        found |= {p.name for p in test.iterdir() if p.is_dir() and p.name.startswith("scene")}
    return sorted(found)


def check_label_map(root: Path, labels: Path | None) -> None:
    """The label map every scene needs is there and readable (SceneError otherwise): checked once per build."""
    _label_map(Path(root), ReaderOptions(labels=labels))


@lru_cache(maxsize=8)
def _cached_label_map(path: str, mtime_ns: int) -> LabelMap:
    return load_label_map(Path(path))


def _label_map(root: Path, options: ReaderOptions) -> LabelMap:
    path = Path(options.labels) if options.labels is not None else Path(root) / LABELS_TSV
    try:
        return _cached_label_map(str(path.resolve()), path.stat().st_mtime_ns)
    except FileNotFoundError as exc:
        raise SceneError(f"label map not found: {path}") from exc
    except ValueError as exc:
        raise SceneError(f"label map unreadable: {exc}") from exc


def mesh_size(root: Path, scene_id: str) -> tuple[int, int] | None:
    """(vertices, faces) of the scene's mesh from its PLY header alone (for scheduling), None if unreadable."""
    try:
        counts = element_counts(_scene_dir(root, scene_id) / f"{scene_id}_vh_clean_2.ply")
    except (OSError, SceneError, KeyError, ValueError, IndexError):
        return None
    return counts.get("vertex", 0), counts.get("face", 0)


def scene_inputs(root: Path, scene_id: str, labels: Path | None = None) -> list[Path]:
    """What a scene is read from: its folder and the label map (the facts cache's key)."""
    label_map = Path(labels) if labels is not None else Path(root) / LABELS_TSV
    return [_scene_dir(root, scene_id), label_map]


def _scene_dir(root: Path, scene_id: str) -> Path:
    for split in ("scans", "scans_test"):
        candidate = Path(root) / split / scene_id
        if candidate.is_dir():
            return candidate
    raise SceneError(f"scene folder not found: {scene_id} under {root}/scans or scans_test")


def _annotation_files(scene_dir: Path, scene_id: str) -> tuple[Path, Path]:
    segs = scene_dir / f"{scene_id}_vh_clean_2.0.010000.segs.json"
    aggregation = scene_dir / f"{scene_id}.aggregation.json"
    if not segs.is_file() and not aggregation.is_file():
        raise SceneError(
            f"not annotated: {scene_id} has no segs/aggregation (test scene or mesh-only download)"
        )
    if not segs.is_file():
        raise SceneError(f"missing {segs.name} (the aggregation needs the _vh_clean_2 segs)")
    if not aggregation.is_file():
        high_res = (scene_dir / f"{scene_id}_vh_clean.aggregation.json").is_file()
        hint = (
            " (only the high-res _vh_clean aggregation, which does not match these segs)" if high_res else ""
        )
        raise SceneError(f"missing {aggregation.name}{hint}")
    return segs, aggregation


def _check_inside(boundary: Boundary, *paths: Path) -> None:
    for path in paths:
        problem = boundary.problem(path) if path.exists() or path.is_symlink() else None
        if problem is not None:
            raise SceneError(problem)


def read_scene(root: Path, scene_id: str, options: ReaderOptions, label_map: LabelMap | None = None) -> Scene:
    root = Path(root)
    scene_dir = _scene_dir(root, scene_id)
    boundary = Boundary.of(root, scene_dir)
    segs_path, aggregation_path = _annotation_files(scene_dir, scene_id)
    mesh_path = scene_dir / f"{scene_id}_vh_clean_2.ply"
    if not mesh_path.is_file():
        raise SceneError(f"missing mesh {mesh_path.name}")
    txt = scene_dir / f"{scene_id}.txt"
    labels_ply = scene_dir / f"{scene_id}_vh_clean_2.labels.ply"
    _check_inside(boundary, segs_path, aggregation_path, mesh_path, txt, labels_ply)
    labels = label_map if label_map is not None else _label_map(root, options)
    meta = meta_txt.parse_meta(txt) if txt.is_file() else {}
    align = meta_txt.axis_alignment(meta)

    mesh = read_mesh(mesh_path)
    n_vertices = len(mesh.vertices)
    indices = seg_indices(load_json(segs_path), n_vertices, segs_path.name)
    instances = vertex_instances(indices, load_json(aggregation_path), aggregation_path.name)
    if not instances.objects:
        raise SceneError(f"not annotated: {aggregation_path.name} has no object covering any vertex")

    warnings: list[str] = []
    objects, unknown = _objects(instances.objects, labels)
    if unknown:
        message = f"labels not in the label map, kept raw: {', '.join(sorted(unknown))}"
        warnings.append(message)
        log.warning("%s: %s", scene_id, message)
    if instances.duplicate_groups:
        warnings.append(f"dropped {instances.duplicate_groups} duplicate segGroups")
    if instances.empty_objects:
        warnings.append(f"dropped objects owning no vertex: {instances.empty_objects}")

    floor = _floor_mask(instances.vertex_instance, objects)
    if labels_ply.is_file():
        problem = None
        try:
            nyu40 = read_vertex_labels(labels_ply)
        except SceneError as exc:  # optional file: a broken copy costs the floor hint, not the scene
            nyu40, problem = None, str(exc)
        if nyu40 is not None and len(nyu40) == n_vertices:
            floor |= nyu40 == NYU40_FLOOR
        else:
            warnings.append(f"{labels_ply.name} ignored: {problem or 'no label per mesh vertex'}")

    stream = read_frames(
        scene_dir, scene_id, meta, align, options.frame_step, options.max_frames, options.use_sens, boundary
    )
    for note in stream.notes:
        warnings.append(note)
        log.warning("%s: %s", scene_id, note)
    vertices = mesh.vertices @ align[:3, :3].T + align[:3, 3]
    return Scene(
        source="scannet", scene_id=scene_id,
        vertices=vertices.astype(np.float32), faces=mesh.faces.astype(np.int32),
        vertex_instance=instances.vertex_instance, objects=objects, frames=stream.frames,
        depth_camera=stream.depth_camera, color_camera=stream.color_camera, store=stream.store, colors=mesh.colors,
        floor_vertex_mask=floor, skipped_frames=stream.skipped, warnings=warnings,
    )  # fmt: skip


def _objects(raw_objects, labels: LabelMap) -> tuple[list[ObjectAnnotation], set[str]]:
    objects, unknown = [], set()
    for raw in raw_objects:
        found = labels.lookup(raw.raw_label)
        if found is None:
            unknown.add(raw.raw_label)
            objects.append(
                ObjectAnnotation(instance_id=raw.object_id, label=raw.raw_label, raw_label=raw.raw_label)
            )
        else:
            category, nyu40class = found
            objects.append(ObjectAnnotation(raw.object_id, category, raw.raw_label, nyu40class))
    return objects, unknown


def _floor_mask(vertex_instance: np.ndarray, objects: list[ObjectAnnotation]) -> np.ndarray:
    floor_ids = [o.instance_id for o in objects if "floor" in (o.label.strip().lower(), o.nyu40class.lower())]
    return np.isin(vertex_instance, np.asarray(floor_ids, dtype=np.int32))


def read_scene_frames(root: Path, scene_id: str, options: ReaderOptions) -> SceneFrames:
    """Only the RGB-D stream (aligned when the .txt says how): works on unannotated scans_test scenes too."""
    scene_dir = _scene_dir(Path(root), scene_id)
    boundary = Boundary.of(root, scene_dir)
    txt = scene_dir / f"{scene_id}.txt"
    _check_inside(boundary, txt)
    meta = meta_txt.parse_meta(txt) if txt.is_file() else {}
    align = meta_txt.axis_alignment(meta)
    return read_frames(
        scene_dir, scene_id, meta, align, options.frame_step, options.max_frames, options.use_sens, boundary
    )
