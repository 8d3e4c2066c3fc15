"""`<video>_3dod_annotation.json`: objects as gravity-aligned oriented boxes, no per-vertex instance.

Each `data[i]` has `uid`, `label` (17 classes) and `segments.obbAligned` (`centroid`, full `axesLengths`,
`normalizedAxes` = 9 numbers that the toolkit reshapes to 3 x 3 and transposes: the columns are the box axes).
`objectId` is the same for every object in real files, so the instance id is the box's position in `data`
(0-based) and `uid` is kept beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sources.scene import OrientedBox, SceneError

# ARKitScenes classes -> the ScanNet-style names our questions use; any other label is kept as written.
CLASS_NAMES = {
    "cabinet": "cabinet", "refrigerator": "refrigerator", "shelf": "shelf", "stove": "stove", "bed": "bed",
    "sink": "sink", "washer": "washing machine", "toilet": "toilet", "bathtub": "bathtub", "oven": "oven",
    "dishwasher": "dishwasher", "fireplace": "fireplace", "stool": "stool", "chair": "chair", "table": "table",
    "tv_monitor": "tv", "sofa": "sofa",
}  # fmt: skip


@dataclass(frozen=True)
class BoxObject:
    position: int  # in `data`: the instance id
    uid: str
    raw_label: str
    label: str
    box: OrientedBox


def canonical_box(center: np.ndarray, extent: np.ndarray, rotation: np.ndarray) -> OrientedBox:
    """The same box with the facts' axis order: the most vertical axis last (pointing up), the longer
    horizontal edge first, right-handed, yaw in [0, 180) (as pipeline/geometry/objects.py fits its boxes)."""
    rotation = np.asarray(rotation, dtype=np.float64)
    extent = np.asarray(extent, dtype=np.float64)
    up = int(np.argmax(np.abs(rotation[2])))
    a, b = (k for k in range(3) if k != up)
    if extent[b] > extent[a]:
        a, b = b, a
    axis2 = rotation[:, up] * np.sign(rotation[2, up] or 1.0)
    axis0 = rotation[:, a]
    if axis0[1] < 0 or (axis0[1] == 0 and axis0[0] < 0):
        axis0 = -axis0
    axis1 = np.cross(axis2, axis0)
    return OrientedBox(
        np.asarray(center, dtype=np.float64),
        np.array([extent[a], extent[b], extent[up]]),
        np.stack([axis0, axis1, axis2], axis=1),
    )


def read_annotation(path: Path) -> list[BoxObject]:
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SceneError(f"{Path(path).name}: invalid JSON ({str(exc).splitlines()[0]})") from exc
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SceneError(f"{Path(path).name}: no data list")
    objects = []
    for position, item in enumerate(items):
        try:
            obb = item["segments"]["obbAligned"]
            center = np.asarray(obb["centroid"], dtype=np.float64).reshape(3)
            extent = np.asarray(obb["axesLengths"], dtype=np.float64).reshape(3)
            rotation = np.asarray(obb["normalizedAxes"], dtype=np.float64).reshape(3, 3).T
            raw = str(item.get("label", ""))
        except (KeyError, TypeError, ValueError) as exc:
            raise SceneError(
                f"{Path(path).name}: data[{position}] has no usable obbAligned ({exc!r})"
            ) from exc
        if not (np.isfinite(center).all() and np.isfinite(rotation).all() and np.all(extent > 0)):
            raise SceneError(f"{Path(path).name}: data[{position}] box is degenerate")
        folded = " ".join(raw.strip().lower().split())
        label = CLASS_NAMES.get(folded, folded)
        uid = str(item.get("uid", ""))
        objects.append(BoxObject(position, uid, raw, label, canonical_box(center, extent, rotation)))
    return objects
