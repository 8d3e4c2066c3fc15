"""Where the community's spatial-QA task types land in our taxonomy, declared as data (docs/ingest.md).

Each row maps one (dataset, task type) onto a subtask id with a one-line reason. A type that measures the same
quantity by the same rule as one of our subtasks maps onto it; a type that asks something else (centre points
instead of closest points, eight directions instead of left/right, an imagined viewpoint of another kind) keeps a
subtask of its own, declared below under the category it belongs to; a type that is no spatial QA (free
conversation) maps to None and is dropped with its reason, counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from taxonomy.declaration import SUBTASKS, Subtask

_M, _S, _R, _P, _C = (
    "metric_measurement",
    "spatial_relations",
    "mental_reconstruction",
    "perspective_taking",
    "comprehensive_reasoning",
)
MC, NUM, TEXT = "multiple_choice", "numeric", "text"

# Subtasks only ingested data carries (no generator of ours writes them). Quota 0: builds never ask for them.
COMMUNITY_SUBTASKS: dict[str, Subtask] = {
    s.id: s
    for s in [
        # fmt: off
        Subtask(
            "point_depth", _M, NUM, "image", "depth along the optical axis of a marked 3D centre point, m", 0
        ),
        Subtask(
            "center_distance",
            _M,
            NUM,
            "image",
            "distance between 3D centre points (object-object or object-camera), m",
            0,
        ),
        Subtask("object_volume", _M, NUM, "image", "volume of a boxed object, m3", 0),
        Subtask(
            "triangle_geometry",
            _M,
            TEXT,
            "video",
            "pairwise distances and interior angles of three objects",
            0,
        ),
        Subtask(
            "depth_comparison", _S, MC, "image", "which marked object centre is nearer the camera / deeper", 0
        ),
        Subtask(
            "center_distance_comparison",
            _S,
            MC,
            "image",
            "which object centre is nearer a reference centre",
            0,
        ),
        Subtask(
            "object_spatial_relation",
            _S,
            MC,
            "image",
            "relation of two boxed objects (left/right/front/behind/above/below)",
            0,
        ),
        Subtask("object_frame_locate", _R, MC, "images", "which frame shows a boxed object", 0),
        Subtask(
            "object_correspondence",
            _P,
            MC,
            "images",
            "which box in image 2 is the object boxed in image 1",
            0,
        ),
        Subtask("view_change", _P, TEXT, "images", "camera translation and rotation between two views", 0),
        Subtask(
            "spatial_imagination",
            _P,
            MC,
            "images",
            "direction of an object from an imagined pose at another object",
            0,
        ),
        Subtask(
            "object_orientation",
            _P,
            MC,
            "image",
            "which way a person or object faces (camera or own frame)",
            0,
        ),
        Subtask(
            "person_relative_direction",
            _P,
            MC,
            "image",
            "direction of one object from a pictured person's viewpoint",
            0,
        ),
        Subtask(
            "crossview_among",
            _P,
            MC,
            "images",
            "MindCube 'among': four views around a central object, reason across them",
            0,
        ),
        Subtask(
            "crossview_around",
            _P,
            MC,
            "images",
            "MindCube 'around': views taken moving around a group of objects",
            0,
        ),
        Subtask(
            "crossview_rotation",
            _P,
            MC,
            "images",
            "MindCube 'rotation': views from one spot rotating in place",
            0,
        ),
        Subtask(
            "egocentric_motion", _P, MC, "images", "how the camera (ego) moved or must move between frames", 0
        ),
        Subtask("object_motion", _P, MC, "images", "how an object moved between frames", 0),
        Subtask("goal_aiming", _C, MC, "image", "which turn/motion brings the agent to a goal", 0),
        Subtask("action_consequence", _C, MC, "images", "what a described action changes in the scene", 0),
        Subtask("navigation", _C, TEXT, "images", "route instruction through a scene", 0),
        # fmt: on
    ]
}

ALL_SUBTASKS: dict[str, Subtask] = {**SUBTASKS, **COMMUNITY_SUBTASKS}


@dataclass(frozen=True)
class MapRow:
    dataset: str  # format name, or "vsi" for the VSI-Bench type names several datasets share
    type: str
    subtask: str | None  # None: dropped, with `reason` counted
    reason: str
    unit: str | None = None  # unit of a numeric answer (what the dataset's question asks for)


_VSI = [
    MapRow(
        "vsi", "object_counting", "object_count", "instances of a category in the room video, as ours", None
    ),
    MapRow("vsi", "object_count", "object_count", "ViCA's name for VSI-Bench object counting", None),
    MapRow(
        "vsi",
        "object_abs_distance",
        "absolute_distance",
        "closest-point distance in metres, VSI-Bench's rule = ours",
        "m",
    ),
    MapRow("vsi", "object_size_estimation", "object_size", "longest dimension in cm, as ours", "cm"),
    MapRow("vsi", "room_size_estimation", "room_size", "floor area in m2, as ours", "m2"),
    MapRow("vsi", "room_size", "room_size", "ViCA's name for VSI-Bench room size (m2)", "m2"),
    MapRow(
        "vsi",
        "object_rel_distance",
        "relative_distance",
        "which of four is closest to a reference (closest points), as ours",
        None,
    ),
    MapRow(
        "vsi",
        "object_relative_distance",
        "relative_distance",
        "ViCA's name for VSI-Bench relative distance",
        None,
    ),
    MapRow(
        "vsi",
        "object_rel_direction_easy",
        "allocentric_direction",
        "standing by A facing B, is C left/right: ours with two answers",
        None,
    ),
    MapRow(
        "vsi",
        "object_rel_direction_medium",
        "allocentric_direction",
        "standing by A facing B, is C left/right/back, as ours",
        None,
    ),
    MapRow(
        "vsi",
        "object_rel_direction_hard",
        "allocentric_direction",
        "standing by A facing B, which quadrant is C: ours with four answers",
        None,
    ),
    MapRow("vsi", "route_planning", "route_plan", "turn sequence along a route, as ours", None),
    MapRow(
        "vsi",
        "obj_appearance_order",
        "appearance_order",
        "first-appearance order in the video, as ours",
        None,
    ),
    MapRow(
        "vsi",
        "camera_displacement",
        "camera_displacement",
        "camera translation between two frames in metres, as ours",
        "m",
    ),
    MapRow(
        "vsi",
        "camera_movement_direction",
        "camera_motion_direction",
        "dominant camera translation direction, as ours",
        None,
    ),
    MapRow(
        "vsi",
        "camera_obj_abs_dist",
        "center_distance",
        "VSTI-Bench: camera to object at a frame, not our closest visible point",
        "m",
    ),
    MapRow(
        "vsi",
        "camera_obj_rel_dist",
        "center_distance_comparison",
        "VSTI-Bench: which object is nearer the camera at a frame, by centres",
        None,
    ),
    MapRow(
        "vsi",
        "obj_obj_relative_pos_nf",
        "object_spatial_relation",
        "VSTI-Bench near/far of two objects from a moving camera",
        None,
    ),
    MapRow(
        "vsi",
        "obj_obj_relative_pos_lr",
        "object_spatial_relation",
        "VSTI-Bench left/right of two objects from a moving camera",
        None,
    ),
    MapRow(
        "vsi",
        "obj_obj_relative_pos_ud",
        "object_spatial_relation",
        "VSTI-Bench up/down of two objects from a moving camera",
        None,
    ),
    MapRow(
        "vsi",
        "triangular_positional_relationship",
        "triangle_geometry",
        "ViCA: three distances and three angles in one sentence",
        None,
    ),
    MapRow("vsi", "conversation", None, "ViCA complex: free conversation, no single spatial answer", None),
    MapRow("vsi", "furniture", None, "ViCA complex: free-text description, no single spatial answer", None),
    MapRow(
        "vsi",
        "important_daily_necessities",
        None,
        "ViCA complex: free-text description, no single spatial answer",
        None,
    ),
    MapRow(
        "vsi",
        "spatial_description",
        None,
        "ViCA complex: free-text description, no single spatial answer",
        None,
    ),
    MapRow("vsi", "usage", None, "ViCA complex: free-text usage advice, not spatial QA", None),
    MapRow(
        "vsi",
        "wheelchair_user",
        None,
        "ViCA complex: free-text accessibility advice, no single spatial answer",
        None,
    ),
]

_SPAR_ROWS = {
    # SPAR-7M `type` (the keys of its draw_marker.DRAW_FUNCTIONS)
    "depth_prediction_oc": (
        "point_depth",
        "depth of a marked centre point given another's; centre depth, not our closest point",
        "m",
    ),
    "depth_prediction_oc_mv": ("point_depth", "as depth_prediction_oc across two views", "m"),
    "depth_prediction_oo": (
        "depth_comparison",
        "which marked centre is deeper: centres, not our closest visible points",
        None,
    ),
    "depth_prediction_oo_mv": ("depth_comparison", "as depth_prediction_oo across views", None),
    "distance_prediction_oc": (
        "center_distance",
        "camera to a marked centre point, not our closest visible point",
        "m",
    ),
    "distance_prediction_oc_mv": ("center_distance", "as distance_prediction_oc across views", "m"),
    "distance_prediction_oo": (
        "center_distance",
        "centre-to-centre distance, not our closest-point distance",
        "m",
    ),
    "distance_prediction_oo_mv": ("center_distance", "as distance_prediction_oo across views", "m"),
    "distance_prediction_oo_video": (
        "center_distance",
        "as distance_prediction_oo over a frame sequence",
        "m",
    ),
    "distance_infer_center_oc": ("center_distance_comparison", "which centre is nearer the camera", None),
    "distance_infer_center_oo": (
        "center_distance_comparison",
        "which centre is nearer a reference centre",
        None,
    ),
    "distance_infer_center_oc_mv": (
        "center_distance_comparison",
        "as distance_infer_center_oc across views",
        None,
    ),
    "distance_infer_center_oo_mv": (
        "center_distance_comparison",
        "as distance_infer_center_oo across views",
        None,
    ),
    "distance_infer_center_oo_video": (
        "center_distance_comparison",
        "as distance_infer_center_oo over frames",
        None,
    ),
    "obj_spatial_relation_oo": (
        "object_spatial_relation",
        "relation of two boxed objects, six directions",
        None,
    ),
    "obj_spatial_relation_oc_mv": ("object_spatial_relation", "relation of boxed objects across views", None),
    "obj_spatial_relation_oo_mv": ("object_spatial_relation", "relation of boxed objects across views", None),
    "spatial_volume_infer": (
        "object_volume",
        "volume of a boxed object: no rule of ours measures volume",
        "m3",
    ),
    "spatial_imagination_oc": (
        "spatial_imagination",
        "imagined pose at a boxed object: not our A-facing-B template",
        None,
    ),
    "spatial_imagination_oo": (
        "spatial_imagination",
        "imagined pose at a boxed object: not our A-facing-B template",
        None,
    ),
    "spatial_imagination_oc_mv": ("spatial_imagination", "as spatial_imagination_oc across views", None),
    "spatial_imagination_oo_mv": ("spatial_imagination", "as spatial_imagination_oo across views", None),
    "spatial_imagination_map_mv": (
        "spatial_imagination",
        "imagined pose over numbered boxes across views",
        None,
    ),
    "spatial_imagination_oc_video": ("spatial_imagination", "as spatial_imagination_oc over frames", None),
    "spatial_imagination_oo_video": ("spatial_imagination", "as spatial_imagination_oo over frames", None),
    "spatial_imagination_oc_video_hard": (
        "spatial_imagination",
        "as spatial_imagination_oc over frames",
        None,
    ),
    "spatial_imagination_oo_video_hard": (
        "spatial_imagination",
        "as spatial_imagination_oo over frames",
        None,
    ),
    "position_matching": (
        "object_correspondence",
        "a boxed object across views: a box, not our marked point",
        None,
    ),
    "view_change_infer": ("view_change", "camera translation and rotation between two views, as text", None),
    "camera_motion_infer": ("view_change", "camera motion between views, as text", None),
    "obj_frame_locate": ("object_frame_locate", "which frame shows the boxed object", None),
    "appearance_order": ("appearance_order", "first-appearance order over frames, as ours", None),
    "room_size": ("room_size", "room floor area in m2, as ours", "m2"),
    "obj_count": ("object_count", "instances of a category over the frames, as ours", None),
    "nav": ("navigation", "route instruction through the scene, as text", None),
}

_MINDCUBE = [
    MapRow(
        "mindcube",
        "among",
        "crossview_among",
        "four views around a central object: MindCube's own cross-view setting",
    ),
    MapRow(
        "mindcube",
        "around",
        "crossview_around",
        "views moving around objects: MindCube's own cross-view setting",
    ),
    MapRow(
        "mindcube",
        "rotation",
        "crossview_rotation",
        "views rotating in place: MindCube's own cross-view setting",
    ),
]

_VIEWSPATIAL = [
    MapRow(
        "viewspatial",
        "Camera perspective - Relative Direction",
        "camera_relative_direction",
        "the question our generated subtask asks: A relative to B in the camera's frame, ViewSpatial's labels",
    ),
    MapRow(
        "viewspatial",
        "Camera perspective - Object View Orientation",
        "object_orientation",
        "which way a pictured object faces, camera frame",
    ),
    MapRow(
        "viewspatial",
        "Person perspective - Object View Orientation",
        "object_orientation",
        "which way a pictured person faces, own frame",
    ),
    MapRow(
        "viewspatial",
        "Person perspective - Relative Direction",
        "person_relative_direction",
        "direction from a pictured person's viewpoint",
    ),
    MapRow(
        "viewspatial",
        "Person perspective - Scene Simulation Relative Direction",
        "allocentric_direction",
        "standing at A facing B, where is C: our rule (eight answers)",
    ),
]

_SAT = [
    MapRow(
        "sat", "ego_movement", "egocentric_motion", "how the camera moved between two frames (SAT dynamic)"
    ),
    MapRow("sat", "obj_movement", "object_motion", "how an object moved between two frames (SAT dynamic)"),
    MapRow("sat", "action_consequence", "action_consequence", "effect of a described action (SAT dynamic)"),
    MapRow("sat", "goal_aim", "goal_aiming", "which motion reaches a goal (SAT dynamic)"),
    MapRow(
        "sat",
        "perspective",
        "person_relative_direction",
        "direction from another agent's viewpoint (SAT dynamic)",
    ),
    MapRow("sat", "count", "object_count", "objects of a kind in the image"),
    MapRow("sat", "spatial", "object_spatial_relation", "relation of two objects in one image (SAT static)"),
    MapRow("sat", "depth", "depth_comparison", "which object is nearer the camera (SAT static)"),
]

MAP_ROWS: list[MapRow] = (
    _VSI
    + [MapRow("spar7m", t, s, r, u) for t, (s, r, u) in _SPAR_ROWS.items()]
    + _MINDCUBE
    + _VIEWSPATIAL
    + _SAT
)

# Datasets whose type names are VSI-Bench's (plus their own additions, declared in _VSI).
TYPE_FAMILY = {"vsi590k": "vsi", "vlm3r": "vsi", "vica": "vsi", "internvl": "vsi", "llava": "vsi"}

_INDEX: dict[tuple[str, str], MapRow] = {(r.dataset, r.type): r for r in MAP_ROWS}


@dataclass(frozen=True)
class QuestionRule:
    """For records without a type field: a question template that names its task unambiguously."""

    pattern: re.Pattern[str]
    type: str  # looked up like a declared type of the "vsi" family
    reason: str


# Only templates whose wording fixes the task; anything else stays unplaced (dropped, counted).
QUESTION_RULES = [
    QuestionRule(
        re.compile(r"how many \S.*\bare (there )?in (this|the) room", re.I),
        "object_counting",
        "VSI-Bench counting template",
    ),
    QuestionRule(
        re.compile(r"length of the longest dimension .* centimet", re.I),
        "object_size_estimation",
        "VSI-Bench size template",
    ),
    QuestionRule(
        re.compile(r"size of this room .*square met", re.I),
        "room_size_estimation",
        "VSI-Bench room-size template",
    ),
    QuestionRule(
        re.compile(r"measuring from the closest point of each object, what is the (direct )?distance", re.I),
        "object_abs_distance",
        "VSI-Bench distance template",
    ),
    QuestionRule(
        re.compile(r"measuring from the closest point of each object, which of these objects", re.I),
        "object_rel_distance",
        "VSI-Bench relative-distance template",
    ),
    QuestionRule(
        re.compile(r"if i am standing by .* and facing .*, is .* to (my|the) ", re.I),
        "object_rel_direction_medium",
        "VSI-Bench relative-direction template",
    ),
    QuestionRule(
        re.compile(r"what will be the first-time appearance order", re.I),
        "obj_appearance_order",
        "VSI-Bench appearance-order template",
    ),
    QuestionRule(
        re.compile(r"geometric relationship among .*, .*,? and ", re.I),
        "triangular_positional_relationship",
        "ViCA triangle template",
    ),
]


def lookup(dataset: str, qtype: str) -> MapRow | None:
    """The declared row for a dataset's task type (its own rows first, then its type family's)."""
    row = _INDEX.get((dataset, qtype))
    if row is None and dataset in TYPE_FAMILY:
        row = _INDEX.get((TYPE_FAMILY[dataset], qtype))
    return row


def classify_question(question: str) -> tuple[str, str] | None:
    """(type, reason) from a question template, for records that carry no type."""
    for rule in QUESTION_RULES:
        if rule.pattern.search(question):
            return rule.type, rule.reason
    return None


def _check() -> None:
    for row in MAP_ROWS:
        if row.subtask is not None and row.subtask not in ALL_SUBTASKS:
            raise AssertionError(
                f"ingest map row {row.dataset}/{row.type} names unknown subtask {row.subtask}"
            )
    clash = set(COMMUNITY_SUBTASKS) & set(SUBTASKS)
    if clash:
        raise AssertionError(f"community subtasks reuse generated ids: {sorted(clash)}")


_check()
