"""The dataset-neutral scene: what every source reader produces and the geometry stage consumes.

Everything is in the scene's aligned world frame (metres, z up); poses are camera-to-world (OpenCV camera axes:
x right, y down, z forward). Frame pixels are read lazily through the scene's `FrameStore`, so a reader never
holds a whole RGB-D stream in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

# Labels that questions never name (docs/taxonomy.md, conventions).
STRUCTURAL_LABELS = frozenset(
    {"wall", "floor", "ceiling", "object", "otherstructure", "otherfurniture", "otherprop", "unknown", ""}
)


class SceneError(Exception):
    """A scene that cannot be used (corrupt file, no annotation, no usable frame). Carries a one-line reason."""


class FrameError(SceneError):
    """One frame that cannot be used (unreadable, outside the dataset root): skipped and counted under `reason`,
    the scene goes on. Uncaught, it fails the scene like any SceneError."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class Camera:
    """Pinhole intrinsics of one image stream (colour or depth)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], dtype=np.float64)

    def scaled_to(self, width: int, height: int) -> Camera:
        """Same field of view at another resolution (OpenCV pixel centres: c' = (c + 0.5) * s - 0.5)."""
        sx, sy = width / self.width, height / self.height
        return Camera(
            self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5, width, height
        )


@dataclass(frozen=True)
class FrameRef:
    """One RGB-D frame that passed the reader's checks."""

    index: int  # source frame index (ScanNet: N of pose/N.txt)
    timestamp: float  # seconds since the start of the stream
    pose: np.ndarray  # (4, 4) camera-to-world, aligned frame


class FrameStore(Protocol):
    """Lazy access to frame pixels; implementations decode a frame only when asked."""

    def depth(self, index: int) -> np.ndarray:
        """Depth of source frame `index` in metres, float32 (H, W) of the depth camera; 0 = no measurement."""
        ...

    def color_jpeg(self, index: int) -> bytes:
        """Encoded JPEG bytes of the colour image of source frame `index`."""
        ...


@dataclass(frozen=True)
class OrientedBox:
    """An annotated box in the aligned frame: `rotation`'s columns are the box axes, `extent` full edge lengths."""

    center: np.ndarray  # (3,)
    extent: np.ndarray  # (3,)
    rotation: np.ndarray  # (3, 3)

    def local(self, points: np.ndarray) -> np.ndarray:
        """Points in box coordinates (origin at the centre, axes along the box edges)."""
        return (np.asarray(points, dtype=np.float64) - self.center) @ self.rotation

    def contains(self, points: np.ndarray, margin: float = 0.0) -> np.ndarray:
        return np.all(np.abs(self.local(points)) <= self.extent / 2 + margin, axis=1)

    @property
    def volume(self) -> float:
        return float(np.prod(self.extent))


# Where an object's points come from (docs/sources.md "Objects known only by a box").
POINTS_INSTANCE = "instance"  # the mesh vertices annotated with its instance id (ScanNet, ScanNet++)
POINTS_BOX = "box"  # the mesh vertices inside its annotated box (ARKitScenes: no per-vertex annotation)


@dataclass(frozen=True)
class ObjectAnnotation:
    instance_id: int  # ScanNet/ScanNet++ objectId; ARKitScenes the box's position in the annotation
    label: str  # the name used in questions and counting (label map `category`, raw label when unknown)
    raw_label: str
    nyu40class: str = ""
    points_from: str = POINTS_INSTANCE
    box: OrientedBox | None = None  # the annotated box, when the source has one (required for POINTS_BOX)
    uid: str = ""  # the source's own object key when it is not the instance id (ARKitScenes `uid`)

    @property
    def nameable(self) -> bool:
        return self.label.strip().lower() not in STRUCTURAL_LABELS


@dataclass
class Scene:
    source: str
    scene_id: str
    vertices: np.ndarray  # (N, 3) float32, aligned frame
    faces: np.ndarray  # (M, 3) int32
    vertex_instance: np.ndarray  # (N,) int32 instance id per vertex, -1 = none (all -1 for box-only sources)
    objects: list[ObjectAnnotation]
    frames: list[FrameRef]
    depth_camera: Camera
    color_camera: Camera
    store: FrameStore
    colors: np.ndarray | None = None  # (N, 3) uint8
    floor_vertex_mask: np.ndarray | None = None  # (N,) bool: vertices labelled floor, when the source knows
    skipped_frames: dict[str, int] = field(default_factory=dict)  # reason -> count
    warnings: list[str] = field(default_factory=list)

    def object(self, instance_id: int) -> ObjectAnnotation:
        for o in self.objects:
            if o.instance_id == instance_id:
                return o
        raise KeyError(instance_id)
