"""Writers for the ScanNet v2 file formats the demo produces (PLY meshes, segs/aggregation JSON, meta .txt, 4x4s)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SEGS_PARAMS = {
    "kThresh": "0.0001",
    "segMinVerts": "20",
    "minPoints": "750",
    "maxPoints": "5000",
    "thinThresh": "0.05",
    "flatThresh": "0.001",
    "minLength": "0.02",
    "maxLength": "1",
}


def write_ply(
    path: Path, vertices: np.ndarray, colors: np.ndarray, faces: np.ndarray, labels: np.ndarray | None = None
) -> None:
    """Binary little-endian PLY exactly like ScanNet's: x,y,z float32; red,green,blue,alpha uchar; [label ushort];
    faces as `list uchar int vertex_indices`."""
    fields = [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("red", "u1"),
        ("green", "u1"),
        ("blue", "u1"),
        ("alpha", "u1"),
    ]
    if labels is not None:
        fields.append(("label", "<u2"))
    vert = np.empty(len(vertices), dtype=np.dtype(fields))
    for i, axis in enumerate("xyz"):
        vert[axis] = vertices[:, i]
    for i, channel in enumerate(("red", "green", "blue")):
        vert[channel] = colors[:, i]
    vert["alpha"] = 255
    if labels is not None:
        vert["label"] = labels
    face = np.empty(len(faces), dtype=np.dtype([("n", "u1"), ("idx", "<i4", (3,))]))
    face["n"] = 3
    face["idx"] = faces
    props = "".join(f"property {_PLY_TYPES[t]} {name}\n" for name, t in fields)
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment sicorpus demo\n"
        f"element vertex {len(vertices)}\n{props}"
        f"element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n"
    )
    with path.open("wb") as f:
        f.write(header.encode("ascii"))
        f.write(vert.tobytes())
        f.write(face.tobytes())


_PLY_TYPES = {"<f4": "float", "u1": "uchar", "<u2": "ushort"}


def write_json(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def write_segs(path: Path, scene_id: str, segment: np.ndarray) -> None:
    write_json(path, {"params": SEGS_PARAMS, "sceneId": scene_id, "segIndices": [int(s) for s in segment]})


def write_aggregation(
    path: Path, scene_id: str, groups: list[tuple[int, list[int], str]], segs_name: str
) -> None:
    """`groups`: (objectId, segment ids, raw label) per annotated object."""
    seg_groups = [
        {"id": oid, "objectId": oid, "segments": segments, "label": label} for oid, segments, label in groups
    ]
    payload = {"sceneId": f"scannet.{scene_id}", "appId": "Aggregator.v2", "segGroups": seg_groups}
    payload["segmentsFile"] = f"scannet.{segs_name}"
    write_json(path, payload)


def format_matrix(m: np.ndarray) -> str:
    return "\n".join(" ".join(f"{float(x):.6f}" for x in row) for row in np.asarray(m).reshape(4, 4)) + "\n"


def write_meta_txt(path: Path, values: dict[str, str]) -> None:
    """ScanNet's `<scene>.txt`: `key = value` lines, CRLF line endings."""
    path.write_bytes("".join(f"{k} = {v}\r\n" for k, v in values.items()).encode("utf-8"))
