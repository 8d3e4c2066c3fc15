"""Scene facts: the geometry stage's output and the generators' only input.

Plain dataclasses of numpy arrays (no Open3D), so generators stay pure and tests can build facts by hand.
Frame-indexed arrays use the *position* in `SceneFacts.frames` (0..F-1); `FrameFacts.index` is the source's
frame number that samples report. Object-indexed arrays use the position in `SceneFacts.objects`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ObjectFacts:
    instance_id: int
    label: str  # the name used in questions and counting
    points: np.ndarray  # (n, 3) float32 aligned-frame points of the instance
    obb_center: np.ndarray  # (3,)
    obb_extent: np.ndarray  # (3,) full edge lengths
    obb_rotation: np.ndarray  # (3, 3) columns are the box axes
    nameable: bool = True  # False for structural labels (wall, floor, ...)
    # "instance": points are the annotated vertices and the box is fitted to them; "box": the object is known
    # only by its annotated box, whose inside mesh vertices are the points, and position and size come from
    # the box itself (docs/sources.md "Objects known only by a box")
    points_from: str = "instance"
    uid: str = ""  # the source's own object key beside instance_id (ARKitScenes `uid`), "" when none

    @property
    def box_only(self) -> bool:
        return self.points_from == "box"

    @property
    def n_points(self) -> int:
        return int(len(self.points))

    @property
    def centroid(self) -> np.ndarray:
        return np.asarray(self.obb_center, dtype=np.float64) if self.box_only else self.points.mean(axis=0)

    @property
    def aabb_min(self) -> np.ndarray:
        return self.obb_corners.min(axis=0) if self.box_only else self.points.min(axis=0)

    @property
    def aabb_max(self) -> np.ndarray:
        return self.obb_corners.max(axis=0) if self.box_only else self.points.max(axis=0)

    @property
    def height(self) -> float:
        return float(self.aabb_max[2] - self.aabb_min[2])

    @property
    def longest_edge(self) -> float:
        return float(np.max(self.obb_extent))

    @property
    def volume(self) -> float:
        return float(np.prod(self.obb_extent))

    @property
    def obb_corners(self) -> np.ndarray:
        """(8, 3) corners of the oriented box."""
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        return self.obb_center + (signs * (self.obb_extent / 2)) @ self.obb_rotation.T


@dataclass
class FrameFacts:
    index: int  # source frame index (reported in samples' facts.frames)
    timestamp: float  # seconds
    pose: np.ndarray  # (4, 4) camera-to-world, aligned frame, OpenCV camera axes
    image: str  # media reference of the colour image, relative to OUT/media/

    @property
    def position(self) -> np.ndarray:
        return self.pose[:3, 3]

    @property
    def forward(self) -> np.ndarray:
        """Optical axis (camera +z) in world coordinates."""
        return self.pose[:3, 2]


@dataclass
class Visibility:
    """Per (frame position, object position) measurements; see docs/taxonomy.md, conventions."""

    visible: np.ndarray  # (F, O) bool: the visibility rule holds
    visible_fraction: (
        np.ndarray
    )  # (F, O) share of the object's points that project inside and pass the depth test
    in_frustum_fraction: np.ndarray  # (F, O) share of points in front of the camera and inside the image
    bbox: (
        np.ndarray
    )  # (F, O, 4) x0, y0, x1, y1 of visible points, normalised to [0, 1] of the image; nan if none
    center_x: np.ndarray  # (F, O) mean normalised image x of visible points; nan if none
    depth: np.ndarray  # (F, O) median camera-frame z of visible points (m); nan if none
    min_distance: np.ndarray  # (F, O) camera centre to the closest visible point (m); nan if none
    # (F, O) share of the object's in-frustum points whose pixel shows ANOTHER object nearer to the camera
    # (self-occlusion by the object's own front faces does not count); None when not computed
    occluded_by_other: np.ndarray | None = None


@dataclass
class FreeSpace:
    """Free-floor occupancy grid in the floor plane: cell (i, j) covers x = origin[0] + j*cell, y = origin[1] + i*cell."""

    free: np.ndarray  # (H, W) bool
    origin: np.ndarray  # (2,) world x, y of cell (0, 0)'s corner
    cell: float  # metres


@dataclass
class Tracks:
    """Surface points sampled from the scene, with their image positions, for correspondence questions."""

    points: np.ndarray  # (P, 3) world
    uv: np.ndarray  # (F, P, 2) normalised [0, 1] image coordinates (nan when behind the camera)
    visible: np.ndarray  # (F, P) bool: inside the image and passing the depth test


@dataclass
class SceneFacts:
    source: str
    scene_id: str
    objects: list[ObjectFacts]
    frames: list[FrameFacts]
    visibility: Visibility
    closest: np.ndarray  # (O, O) closest-point distance between object point sets (m); 0 on the diagonal
    overlap: (
        np.ndarray
    )  # (F, F) share of frame a's sampled surface also seen by frame b (symmetrised: min of both)
    first_appearance: np.ndarray  # (O,) first frame position where the object is visible; -1 if never
    floor_z: float | None = None
    room_area: float | None = None  # m2, alpha shape of floor-projected points
    room_polygon: np.ndarray | None = None  # (K, 2) outline of the floor footprint
    free_space: FreeSpace | None = None
    tracks: Tracks | None = None
    # virtual_views[frame position][yaw degrees, + = turn left] -> [(object position, visible fraction,
    # normalised distance of its visible centre from the image centre)], visible objects only
    virtual_views: dict[int, dict[int, list[tuple[int, float, float]]]] = field(default_factory=dict)
    image_width: int = 0  # colour image size, for pixel-based filters
    image_height: int = 0

    def object_index(self, instance_id: int) -> int:
        for i, o in enumerate(self.objects):
            if o.instance_id == instance_id:
                return i
        raise KeyError(instance_id)

    def label_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for o in self.objects:
            if o.nameable:
                counts[o.label] = counts.get(o.label, 0) + 1
        return counts

    def single_instance(self) -> list[int]:
        """Positions of nameable objects whose label has exactly one instance in the scene."""
        counts = self.label_counts()
        return [i for i, o in enumerate(self.objects) if o.nameable and counts[o.label] == 1]
