"""Metric measurement (docs/taxonomy.md): object size and height, object-object and camera-object
distances, room area and camera displacement, all answered as bare numbers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from generators.base import Draft, GenContext
from generators.common import (
    MIN_POINTS,
    format_number,
    label_of,
    pairs,
    seen_objects,
    single_instance_objects,
    valid_frame,
    value_bin,
    visible_objects,
)
from generators.registry import rule
from schemas.facts import SceneFacts

MIN_OBJECT_DISTANCE = 0.2  # m: closer pairs are "touching", a distance there is noise
MIN_OVERLAP, MAX_OVERLAP = 0.06, 0.60  # camera-motion overlap filter: shared content, yet a real move
MIN_DISPLACEMENT = 0.1  # m: never ask about a near-zero motion

# Bin edges for guard 3: typical values (chairs 75-95 cm, distances 1-2 m) fall in one bin each.
SIZE_BINS_CM = (30, 60, 75, 95, 130, 180, 250)
HEIGHT_BINS_CM = (20, 50, 75, 95, 130, 200)
DISTANCE_BINS_M = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
CAMERA_DISTANCE_BINS_M = (1.0, 1.5, 2.0, 2.5, 3.5, 5.0)
DISPLACEMENT_BINS_M = (0.25, 0.5, 1.0, 1.5, 2.5)
ROOM_BINS_M2 = (10, 20, 30, 50, 80)

OBJECT_SIZE_TEMPLATES = (
    "What is the length of the longest dimension (length, width, or height) of the {obj}, measured in centimeters?",
    "How long is the {obj} along its longest side, in centimeters?",
    "Estimate the largest dimension of the {obj} in centimeters.",
    "In centimeters, what is the longest edge of the {obj}?",
    "Considering its length, width and height, how many centimeters does the {obj} measure along its biggest dimension?",
    "What is the greatest extent of the {obj} (its longest dimension), in centimeters?",
)
OBJECT_HEIGHT_TEMPLATES = (
    "How tall is the {obj} from its bottom to its top, in centimeters?",
    "What is the height of the {obj} in centimeters (from its lowest to its highest point)?",
    "Measured vertically from bottom to top, how many centimeters high is the {obj}?",
    "Estimate the vertical extent of the {obj} in centimeters.",
    "In centimeters, how much height does the {obj} span from its lowest point to its top?",
)
ABSOLUTE_DISTANCE_TEMPLATES = (
    "Measuring from the closest point of each object, what is the direct distance between the {a} and the {b} (in meters)?",
    "What is the shortest distance between the {a} and the {b}, in meters?",
    "How far apart are the {a} and the {b} at their nearest points (in meters)?",
    "Estimate the gap in meters between the closest points of the {a} and the {b}.",
    "In meters, what is the minimum straight-line distance separating the {a} from the {b}?",
    "Between their closest points, how many meters lie between the {a} and the {b}?",
)
ROOM_SIZE_TEMPLATES = (
    "What is the size of this room (in square meters)? If multiple rooms are shown, estimate the size of the combined space.",
    "Estimate the floor area of this room in square meters. If several rooms are shown, give the combined area.",
    "How many square meters of floor does this space cover? Count all rooms shown together.",
    "What is the floor-plan area of the space shown, in square meters (all connected rooms combined)?",
    "In square meters, how large is the floor footprint of the space in this video?",
    "Approximately how big is the floor of this room, in square meters? Combine the rooms if there are several.",
)
CAMERA_DISTANCE_TEMPLATES = (
    "How far is the {obj} from the camera in this image? Give the distance from the camera to the nearest visible point of the {obj}, in meters.",
    "In meters, what is the distance between the camera and the closest visible part of the {obj}?",
    "Estimate how many meters separate the camera that took this picture from the nearest visible point of the {obj}.",
    "What is the straight-line distance in meters from the viewpoint of this image to the closest visible point of the {obj}?",
    "From where this photo was taken, how far away (in meters) is the nearest visible part of the {obj}?",
)
CAMERA_DISPLACEMENT_TEMPLATES = (
    "How far did the camera move between the first and the second image, in meters?",
    "What is the distance in meters between the camera positions of these two images?",
    "Estimate the length of the camera's translation from the first image to the second, in meters.",
    "By how many meters does the camera position change between the two views?",
    "In meters, how far apart were the camera centers when these two images were taken?",
)


def _measurable_in_video(facts: SceneFacts, frames: list[int]) -> list[int]:
    """Single-instance objects with enough points to measure, shown somewhere in the video."""
    return seen_objects(facts, single_instance_objects(facts, MIN_POINTS), frames)


@rule("object_size")
def object_size(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    frames = ctx.video_frames(facts)
    for obj in ctx.shuffled(_measurable_in_video(facts, frames)):
        o = facts.objects[obj]
        value = o.longest_edge * 100
        yield Draft(
            question=ctx.template(OBJECT_SIZE_TEMPLATES, obj=o.label),
            frames=frames,
            objects=[obj],
            answer=format_number(value, 0),
            value=value,
            unit="cm",
            extra={"obb_extent_cm": sorted((o.obb_extent * 100).tolist(), reverse=True)},
            balance_key=value_bin(value, SIZE_BINS_CM, "cm"),
        )


@rule("object_height")
def object_height(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    frames = ctx.video_frames(facts)
    for obj in ctx.shuffled(_measurable_in_video(facts, frames)):
        o = facts.objects[obj]
        value = o.height * 100
        yield Draft(
            question=ctx.template(OBJECT_HEIGHT_TEMPLATES, obj=o.label),
            frames=frames,
            objects=[obj],
            answer=format_number(value, 0),
            value=value,
            unit="cm",
            extra={"z_min": float(o.aabb_min[2]), "z_max": float(o.aabb_max[2])},
            balance_key=value_bin(value, HEIGHT_BINS_CM, "cm"),
        )


@rule("absolute_distance")
def absolute_distance(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    frames = ctx.video_frames(facts)
    candidates = seen_objects(facts, single_instance_objects(facts), frames)
    centre = {o: facts.objects[o].centroid for o in candidates}  # each a mean over all the object's points
    for pair in ctx.shuffled(pairs(candidates)):
        value = float(facts.closest[pair[0], pair[1]])
        if value < MIN_OBJECT_DISTANCE:
            ctx.drop(f"objects < {MIN_OBJECT_DISTANCE:g} m apart")
            continue
        a, b = ctx.shuffled(list(pair))
        centre_distance = float(np.linalg.norm(centre[a] - centre[b]))
        yield Draft(
            question=ctx.template(ABSOLUTE_DISTANCE_TEMPLATES, a=label_of(facts, a), b=label_of(facts, b)),
            frames=frames,
            objects=[a, b],
            answer=format_number(value, 1),
            value=value,
            unit="m",
            extra={"centroid_distance": centre_distance},
            balance_key=value_bin(value, DISTANCE_BINS_M, "m"),
        )


@rule("room_size")
def room_size(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    frames = ctx.video_frames(facts)
    area = facts.room_area
    if facts.floor_z is None or area is None or not np.isfinite(area) or area <= 0 or not frames:
        return
    # One sample per scene: more would repeat the same answer with only the wording changed.
    yield Draft(
        question=ctx.template(ROOM_SIZE_TEMPLATES),
        frames=frames,
        objects=[],
        answer=format_number(area, 1),
        value=float(area),
        unit="m2",
        extra={"floor_z": float(facts.floor_z)},
        balance_key=value_bin(area, ROOM_BINS_M2, "m2"),
    )


@rule("camera_distance")
def camera_distance(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    vis = facts.visibility
    candidates = [
        (f, obj)
        for f in range(len(facts.frames))
        if valid_frame(facts, f)
        for obj in visible_objects(facts, f)
        if np.isfinite(vis.min_distance[f, obj])
    ]
    for f, obj in ctx.shuffled(candidates):
        value = float(vis.min_distance[f, obj])
        yield Draft(
            question=ctx.template(CAMERA_DISTANCE_TEMPLATES, obj=label_of(facts, obj)),
            frames=[f],
            objects=[obj],
            answer=format_number(value, 1),
            value=value,
            unit="m",
            extra={
                "depth": float(vis.depth[f, obj]),
                "visible_fraction": float(vis.visible_fraction[f, obj]),
            },
            balance_key=value_bin(value, CAMERA_DISTANCE_BINS_M, "m"),
        )


@rule("camera_displacement")
def camera_displacement(facts: SceneFacts, ctx: GenContext) -> Iterator[Draft]:
    usable = [f for f in range(len(facts.frames)) if valid_frame(facts, f)]
    for a, b in ctx.shuffled(pairs(usable)):  # positions ascending: images shown in capture order
        overlap = float(facts.overlap[a, b])
        if not MIN_OVERLAP <= overlap <= MAX_OVERLAP:
            ctx.drop(f"frame pair overlap outside {MIN_OVERLAP:.0%}-{MAX_OVERLAP:.0%}")
            continue
        value = float(np.linalg.norm(facts.frames[b].position - facts.frames[a].position))
        if value < MIN_DISPLACEMENT:
            ctx.drop(f"displacement < {MIN_DISPLACEMENT:g} m")
            continue
        yield Draft(
            question=ctx.template(CAMERA_DISPLACEMENT_TEMPLATES),
            frames=[a, b],
            objects=[],
            answer=format_number(value, 1),
            value=value,
            unit="m",
            extra={"overlap": overlap},
            balance_key=value_bin(value, DISPLACEMENT_BINS_M, "m"),
        )
