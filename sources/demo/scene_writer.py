"""One demo scene on disk in the ScanNet v2 layout, plus `demo_truth.json` (what is known by construction).

The RGB-D stream goes to the export folders, a `.sens`, or both (`stream.write_stream`).

The room is built in the aligned frame; mesh and poses are written in the unaligned frame (inverse(axisAlignment)
applied), so a reader that applies axisAlignment recovers the aligned geometry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sources.scene import Camera

from .files import write_aggregation, write_json, write_meta_txt, write_ply, write_segs
from .labels import label_row
from .mesh import SceneMesh
from .rooms import Room
from .stream import FRAME_STEP, RGBD_LAYOUTS, Resized, write_stream


def random_alignment(rng: np.random.Generator) -> np.ndarray:
    """A non-identity axisAlignment: rotation about z plus a translation (maps unaligned -> aligned)."""
    angle = rng.uniform(0.3, 2 * math.pi - 0.3)
    c, s = math.cos(angle), math.sin(angle)
    align = np.eye(4)
    align[:2, :2] = [[c, -s], [s, c]]
    align[:3, 3] = [rng.uniform(-4, 4), rng.uniform(-4, 4), rng.uniform(-0.3, 0.3)]
    return align


def _transform(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:3, :3].T + m[:3, 3]


def write_scene(
    scene_dir: Path,
    scene_id: str,
    room: Room,
    mesh: SceneMesh,
    poses: list[np.ndarray],
    align: np.ndarray,
    depth_cam: Camera,
    color_cam: Camera,
    progress: Callable[[str], None] | None = None,
    rgbd: str = "export",
    resized: Resized | None = None,
) -> None:
    """`rgbd`: "export" (color/ depth/ pose/ intrinsic/), "sens" (`<scene>.sens` only) or "both"; `resized`:
    colour frames resized after writing, the headers keeping `color_cam`'s size."""
    if rgbd not in RGBD_LAYOUTS:  # before any file is written
        raise ValueError(f"rgbd must be one of {', '.join(RGBD_LAYOUTS)}, got {rgbd!r}")
    scene_dir.mkdir(parents=True, exist_ok=True)
    unalign = np.linalg.inv(align)
    object_ids = _write_annotation(scene_dir, scene_id, mesh, unalign)
    _write_meta(scene_dir / f"{scene_id}.txt", room, align, depth_cam, color_cam, len(poses))
    frame_indices = [k * FRAME_STEP for k in range(len(poses))]
    write_truth(scene_dir / "demo_truth.json", scene_id, room, mesh, align, object_ids, frame_indices)

    def report(message: str) -> None:
        if progress is not None:
            progress(f"{scene_id}: {message}")

    write_stream(scene_dir, scene_id, mesh, poses, unalign, depth_cam, color_cam, report, rgbd, resized)


def _write_annotation(scene_dir: Path, scene_id: str, mesh: SceneMesh, unalign: np.ndarray) -> dict[int, int]:
    """Mesh, labels mesh, segments and aggregation; returns entity index -> objectId (annotated entities only)."""
    vertices = _transform(unalign, mesh.vertices).astype(np.float32)
    write_ply(scene_dir / f"{scene_id}_vh_clean_2.ply", vertices, mesh.colors, mesh.faces)
    segs_name = f"{scene_id}_vh_clean_2.0.010000.segs.json"
    write_segs(scene_dir / segs_name, scene_id, mesh.segment)

    object_ids: dict[int, int] = {}
    groups = []
    nyu = np.zeros(len(mesh.entities), dtype=np.uint16)
    for k, ent in enumerate(mesh.entities):
        if not ent.annotated:
            continue
        object_ids[k] = len(object_ids)
        segments = np.unique(mesh.segment[mesh.entity == k])
        groups.append((object_ids[k], [int(s) for s in segments], ent.raw_label))
        nyu[k] = label_row(ent.raw_label).nyu40id
    write_aggregation(scene_dir / f"{scene_id}.aggregation.json", scene_id, groups, segs_name)
    write_ply(
        scene_dir / f"{scene_id}_vh_clean_2.labels.ply", vertices, mesh.colors, mesh.faces, nyu[mesh.entity]
    )
    return object_ids


def _write_meta(path: Path, room: Room, align: np.ndarray, depth: Camera, color: Camera, frames: int) -> None:
    stream_frames = (frames - 1) * FRAME_STEP + 1 if frames else 0
    values = {
        "axisAlignment": " ".join(f"{float(x):.6f}" for x in align.reshape(-1)),
        "colorHeight": str(color.height),
        "colorToDepthExtrinsics": " ".join(f"{float(x):.6f}" for x in np.eye(4).reshape(-1)),
        "colorWidth": str(color.width),
        "depthHeight": str(depth.height),
        "depthWidth": str(depth.width),
        "fx_color": f"{color.fx:.6f}",
        "fx_depth": f"{depth.fx:.6f}",
        "fy_color": f"{color.fy:.6f}",
        "fy_depth": f"{depth.fy:.6f}",
        "mx_color": f"{color.cx:.6f}",
        "mx_depth": f"{depth.cx:.6f}",
        "my_color": f"{color.cy:.6f}",
        "my_depth": f"{depth.cy:.6f}",
        "numColorFrames": str(stream_frames),
        "numDepthFrames": str(stream_frames),
        "numIMUmeasurements": str(2 * stream_frames),
        "sceneType": room.scene_type,
    }
    write_meta_txt(path, values)


def write_truth(
    path: Path,
    scene_id: str,
    room: Room,
    mesh: SceneMesh,
    align: np.ndarray,
    object_ids: dict[int, int],
    frame_indices: list[int],
) -> None:
    """`demo_truth.json`: the room and its objects as built, and the frame numbers in the layout's own
    numbering (ScanNet frame N, ScanNet++ frame k, ARKit milliseconds)."""
    objects = []
    for k, oid in object_ids.items():
        ent = mesh.entities[k]
        row = label_row(ent.raw_label)
        objects.append(
            {
                "objectId": oid,
                "raw_label": ent.raw_label,
                "label": row.category,
                "nyu40id": row.nyu40id,
                "center": [round(v, 6) for v in ent.center],
                "size": [round(v, 6) for v in ent.size],
                "yaw": round(ent.yaw, 6),
                "mount": ent.mount,
                "on": object_ids.get(ent.parent) if ent.parent is not None else None,
                "num_vertices": int((mesh.entity == k).sum()),
            }
        )
    coords = np.asarray(room.polygon.exterior.coords)[:-1]
    write_json(
        path,
        {
            "sceneId": scene_id,
            "sceneType": room.scene_type,
            "axisAlignment": [round(float(x), 6) for x in align.reshape(-1)],
            "room": {
                "floor_polygon": [[round(float(x), 6), round(float(y), 6)] for x, y in coords],
                "floor_area": round(float(room.polygon.area), 6),
                "height": round(room.height, 6),
                "l_shaped": len(coords) > 4,
            },
            "objects": objects,
            "unannotated_objects": sum(not e.annotated for e in mesh.entities),
            "frame_indices": list(frame_indices),
        },
    )
