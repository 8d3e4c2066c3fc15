"""Object point sets and their boxes.

The oriented box is gravity-aligned: the minimal-area rectangle of the xy points (OpenCV minAreaRect, rotating
calipers on the convex hull) times the z range. It is never tilted (indoor objects stand on the floor, and a
tilted box from PCA of a partial scan flips between runs), deterministic, and its edges are exact for boxes
standing upright. Axis 0 is the longer horizontal edge, axis 2 is world z; the rotation is right-handed.
"""

from __future__ import annotations

import cv2
import numpy as np

from pipeline.geometry.boxes import box_owners
from pipeline.geometry.floor import floor_height
from schemas.facts import ObjectFacts
from sources.scene import POINTS_BOX, ObjectAnnotation, Scene


def object_facts(instance_id: int, label: str, points: np.ndarray, nameable: bool = True) -> ObjectFacts:
    points = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    if len(points) == 0:
        raise ValueError(f"object {instance_id} has no points")
    xy = points[:, :2].astype(np.float64)
    origin = xy.mean(axis=0)  # minAreaRect works in float32: centre first to keep millimetres
    (_, _), (_, _), angle = cv2.minAreaRect((xy - origin).astype(np.float32))
    axis0, axis1 = horizontal_axes(np.radians(angle))
    extents, centre_xy = [], origin.copy()
    for axis in (axis0, axis1):
        along = (xy - origin) @ axis
        extents.append(along.max() - along.min())
        centre_xy = centre_xy + axis * (along.max() + along.min()) / 2
    if extents[1] > extents[0]:
        axis0, axis1 = axis1, -axis0
        extents.reverse()
    if axis0[1] < 0 or (axis0[1] == 0 and axis0[0] < 0):  # one canonical yaw in [0, 180): turn both by 180
        axis0, axis1 = -axis0, -axis1
    z_min, z_max = float(points[:, 2].min()), float(points[:, 2].max())
    rotation = np.eye(3)
    rotation[:2, 0], rotation[:2, 1] = axis0, axis1
    return ObjectFacts(
        instance_id=int(instance_id),
        label=label,
        points=points,
        obb_center=np.array([centre_xy[0], centre_xy[1], (z_min + z_max) / 2]),
        obb_extent=np.array([extents[0], extents[1], z_max - z_min]),
        obb_rotation=rotation,
        nameable=bool(nameable),
    )


def horizontal_axes(angle: float) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([c, s]), np.array([-s, c])


def box_object_facts(annotation: ObjectAnnotation, points: np.ndarray) -> ObjectFacts:
    """An object known only by its box: the box is its position and size, `points` (inside it) its surface."""
    box = annotation.box
    assert box is not None
    return ObjectFacts(
        instance_id=int(annotation.instance_id),
        label=annotation.label,
        points=np.asarray(points, dtype=np.float32).reshape(-1, 3),
        obb_center=np.asarray(box.center, dtype=np.float64),
        obb_extent=np.asarray(box.extent, dtype=np.float64),
        obb_rotation=np.asarray(box.rotation, dtype=np.float64),
        nameable=annotation.nameable,
        points_from=POINTS_BOX,
        uid=annotation.uid,
    )


def scene_objects(scene: Scene) -> list[ObjectFacts]:
    """Every annotated object with at least one point, in annotation order (instance vertices or box points)."""
    boxed = [a for a in scene.objects if a.points_from == POINTS_BOX and a.box is not None]
    owners = None
    if boxed:
        floor_z = floor_height(scene.vertices, scene.floor_vertex_mask)
        owners = box_owners(scene.vertices, [a.box for a in boxed], floor_z)
    box_position = {id(a): k for k, a in enumerate(boxed)}
    order = np.argsort(scene.vertex_instance, kind="stable")
    ids, starts = np.unique(scene.vertex_instance[order], return_index=True)
    ends = np.r_[starts[1:], len(order)]
    spans = {int(i): (s, e) for i, s, e in zip(ids, starts, ends, strict=True)}
    objects, empty = [], 0
    for annotation in scene.objects:
        if id(annotation) in box_position:
            inside = scene.vertices[owners == box_position[id(annotation)]]
            if len(inside) == 0:
                empty += 1
            else:
                objects.append(box_object_facts(annotation, inside))
            continue
        span = spans.get(annotation.instance_id)
        if span is None or annotation.instance_id < 0:
            empty += 1
            continue
        points = scene.vertices[order[span[0] : span[1]]]  # stable sort: vertex order kept
        facts = object_facts(annotation.instance_id, annotation.label, points, annotation.nameable)
        facts.uid = annotation.uid
        objects.append(facts)
    if empty:
        scene.warnings.append(f"{empty} annotated objects without vertices skipped")
    return objects
