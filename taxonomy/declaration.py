"""Categories and subtasks of docs/taxonomy.md. Ids are stored in every sample: never rename one."""

from __future__ import annotations

from dataclasses import dataclass

TAXONOMY_VERSION = "1.0"


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    description: str


@dataclass(frozen=True)
class Subtask:
    id: str
    category: str
    answer_type: str  # multiple_choice | numeric | text
    media: str  # video | image | images
    description: str
    quota: int  # default maximum samples per scene (the build config can override it)


CATEGORIES: dict[str, Category] = {
    c.id: c
    for c in [
        Category(
            "metric_measurement", "Metric measurement", "Estimating metric quantities from 2D observations."
        ),
        Category(
            "spatial_relations",
            "Spatial relations",
            "Relative position, distance and size of several objects.",
        ),
        Category(
            "mental_reconstruction", "Mental reconstruction", "Rebuilding 3D structure from limited views."
        ),
        Category(
            "perspective_taking",
            "Perspective-taking",
            "Correspondence, camera motion and imagined viewpoints.",
        ),
        Category(
            "comprehensive_reasoning",
            "Comprehensive reasoning",
            "Several abilities together over a whole video.",
        ),
    ]
}

_M, _S, _R, _P, _C = (
    "metric_measurement",
    "spatial_relations",
    "mental_reconstruction",
    "perspective_taking",
    "comprehensive_reasoning",
)
MC, NUM = "multiple_choice", "numeric"

# Default quotas give perspective-taking the largest share of the corpus (docs/taxonomy.md).
SUBTASKS: dict[str, Subtask] = {
    s.id: s
    for s in [
        # fmt: off
        Subtask("object_size", _M, NUM, "video", "longest OBB edge of a single-instance object, cm", 30),
        Subtask("object_height", _M, NUM, "video", "vertical extent of a single-instance object, cm", 30),
        Subtask("absolute_distance", _M, NUM, "video", "closest-point distance between two objects, m", 80),
        Subtask("room_size", _M, NUM, "video", "floor-footprint area (alpha shape), m2", 1),
        Subtask(
            "camera_distance",
            _M,
            NUM,
            "image",
            "camera centre to the closest visible point of an object",
            200,
        ),
        Subtask("camera_displacement", _M, NUM, "images", "camera translation between two frames, m", 200),
        Subtask("relative_distance", _S, MC, "video", "which of four labels is closest to a reference", 150),
        Subtask(
            "relative_distance_far", _S, MC, "video", "which of four labels is farthest from a reference", 150
        ),
        Subtask("closer_of_two", _S, MC, "video", "which of A, B is closer to X", 150),
        Subtask("higher_lower", _S, MC, "video", "which object's top is higher", 60),
        Subtask("size_comparison", _S, MC, "video", "which object is larger", 60),
        Subtask("camera_left_right", _S, MC, "image", "is A left or right of B from this camera", 200),
        Subtask("camera_near_far", _S, MC, "image", "which of A, B is closer to the camera", 200),
        Subtask("unique_object_count", _R, NUM, "images", "distinct instances of a label across frames", 200),
        Subtask("cognitive_map", _R, MC, "video", "bird's-eye grid placement of named objects", 60),
        Subtask("occlusion", _R, MC, "image", "which named object is partly hidden in a frame", 50),
        Subtask("frame_order", _R, MC, "images", "capture order of 3-4 frames", 150),
        Subtask(
            "view_correspondence", _P, MC, "images", "which marked point in image 2 matches image 1's", 600
        ),
        Subtask("camera_motion_direction", _P, MC, "images", "dominant camera translation direction", 400),
        Subtask("camera_rotation", _P, MC, "images", "yaw change of the optical axis", 400),
        Subtask("allocentric_direction", _P, MC, "video", "standing by A facing B, where is C", 500),
        Subtask("hypothetical_rotation", _P, MC, "image", "object in front after an imagined turn", 100),
        Subtask("object_camera_position", _P, MC, "images", "object of image 2 relative to camera 1", 250),
        Subtask(
            "camera_relative_direction",
            _P,
            MC,
            "image",
            "where is A relative to B from the camera (3 axes)",
            150,
        ),
        Subtask("object_count", _C, NUM, "video", "number of instances of a label", 20),
        Subtask("appearance_order", _C, MC, "video", "first-appearance order of four labels", 200),
        Subtask("route_plan", _C, MC, "video", "turn sequence on a shortest free-floor path", 80),
        Subtask("multi_hop_relation", _C, MC, "video", "composed relation over several hops", 80),
        # fmt: on
    ]
}


def category_of(subtask: str) -> str:
    return SUBTASKS[subtask].category


def subtasks_of(category: str) -> list[str]:
    return [s.id for s in SUBTASKS.values() if s.category == category]
