"""Benchmark coverage map, declared as data: for every question type of the benchmarks SenseNova-SI is judged
on, the subtask(s) that teach it, in which wording, options and answer form, or why a 3D scan cannot.

Shown by `sicorpus subtasks` and in docs/benchmarks.md (which cites the benchmark files each entry was checked
against). A test checks every entry names a declared subtask or a reason.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Coverage:
    benchmark: str
    question_type: str  # the benchmark's own name for it
    subtasks: tuple[str, ...]  # subtask ids that teach it; empty = not covered
    form: str  # wording / options / answer form we produce (or "-")
    reason: str = ""  # why not covered, or what differs


COVERAGE: tuple[Coverage, ...] = (
    # VSI-Bench (vision-x-nyu/thinking-in-space; lmms-eval vsibench task; EASI VsiBench)
    Coverage(
        "VSI-Bench",
        "object_counting",
        ("object_count",),
        "'How many {labels} are in this room?' + paraphrases; bare integer (MRA)",
    ),
    Coverage(
        "VSI-Bench",
        "object_abs_distance",
        ("absolute_distance",),
        "closest-point distance between two objects; bare number in metres (MRA)",
    ),
    Coverage(
        "VSI-Bench",
        "object_size_estimation",
        ("object_size",),
        "longest dimension in centimetres; bare number (MRA)",
    ),
    Coverage("VSI-Bench", "room_size_estimation", ("room_size",), "floor area in square metres; bare number"),
    Coverage(
        "VSI-Bench",
        "object_rel_distance",
        ("relative_distance", "relative_distance_far"),
        "which of four objects (listed in the stem) is closest to X; letter of 4 options",
    ),
    Coverage(
        "VSI-Bench",
        "object_rel_direction_easy",
        ("allocentric_direction",),
        "level easy: 'standing by A facing B, is C to the left or the right of B?'; letter of 2 options",
    ),
    Coverage(
        "VSI-Bench",
        "object_rel_direction_medium",
        ("allocentric_direction",),
        "level medium: left / right / back, the 135-degree rule verbatim among 3 paraphrases; 3 options",
    ),
    Coverage(
        "VSI-Bench",
        "object_rel_direction_hard",
        ("allocentric_direction",),
        "level quadrant: front-left / front-right / back-left / back-right split at 0/90/180/270 deg, the "
        "Cartesian-quadrant sentence among paraphrases; 4 options",
    ),
    Coverage(
        "VSI-Bench",
        "route_planning",
        ("route_plan",),
        "VSI's robot template + paraphrases; legs 'Go forward until the X' at landmarks (metric otherwise); "
        "options are turn sequences ('Turn left, Turn right')",
    ),
    Coverage(
        "VSI-Bench",
        "obj_appearance_order",
        ("appearance_order",),
        "VSI's first-time appearance stem + paraphrases; options are four orderings",
    ),
    # ViewSpatial-Bench (ZJU-REAL/ViewSpatial-Bench, eval/ViewSpatial-Bench.json)
    Coverage(
        "ViewSpatial-Bench",
        "Camera perspective - Relative Direction",
        ("camera_relative_direction",),
        "one image: where is A relative to B from the camera: front/back/left/right/above/down and their "
        "two-axis combinations; letter of 4 options",
    ),
    Coverage(
        "ViewSpatial-Bench",
        "Camera perspective - Object View Orientation",
        (),
        "-",
        "needs each object's facing direction: no current source annotates object orientation",
    ),
    Coverage(
        "ViewSpatial-Bench",
        "Person perspective - Scene Simulation Relative Direction",
        ("allocentric_direction",),
        "level fine: 8 directions, 45-degree sectors centred on front, front-left, ... (ViewSpatial's "
        "get_direction bins)",
    ),
    Coverage(
        "ViewSpatial-Bench",
        "Person perspective - Relative Direction",
        (),
        "-",
        "asks from a photographed person's view (MS-COCO people); our scans have no people",
    ),
    Coverage(
        "ViewSpatial-Bench",
        "Person perspective - Object View Orientation",
        (),
        "-",
        "needs a person's gaze or body orientation: no person annotations in indoor scans",
    ),
    # MindCube (mll-lab-nu/MindCube): a few views of one arrangement, questions after imagined moves
    Coverage(
        "MindCube",
        "rotation",
        ("hypothetical_rotation", "camera_rotation"),
        "one camera position turning in place: what is ahead after a 90/180-degree turn; how the view "
        "turned between two images",
        "no question states a turn and asks where an object of the turned view lies: with a 60-degree field "
        "of view the object stays inside the turned sector, so the stated turn alone gives the answer",
    ),
    Coverage(
        "MindCube",
        "around",
        ("object_camera_position", "view_correspondence", "camera_motion_direction"),
        "views taken around a group of objects: where an object of image 2 lies from camera 1, which point "
        "matches, how the camera moved",
    ),
    Coverage(
        "MindCube",
        "among",
        ("allocentric_direction", "object_camera_position"),
        "views from among the objects: standing by A facing B, where is C; object relative to another view",
        "MindCube's own among setting photographs four sides of a central object; scans give free "
        "trajectories, so the questions are asked from object positions instead",
    ),
    # MMSI-Bench: multi-image spatial questions; the types a 3D scan answers
    Coverage(
        "MMSI-Bench",
        "Positional relationship (camera-object, object-object, camera-camera)",
        ("object_camera_position", "camera_relative_direction", "camera_motion_direction"),
        "relative position across two or more images; letter of 4 options",
    ),
    Coverage(
        "MMSI-Bench",
        "Attribute (measurement)",
        ("absolute_distance", "object_size", "camera_displacement"),
        "metric quantities across views; numbers",
    ),
    Coverage(
        "MMSI-Bench",
        "Motion (camera)",
        ("camera_motion_direction", "camera_rotation"),
        "camera translation and rotation between images",
    ),
    Coverage(
        "MMSI-Bench",
        "Multi-step reasoning",
        ("route_plan", "multi_hop_relation"),
        "composed relations and routes",
    ),
    Coverage(
        "MMSI-Bench",
        "Motion (object)",
        (),
        "-",
        "objects move between images: static scans have no moving objects",
    ),
    Coverage(
        "MMSI-Bench",
        "Attribute (appearance)",
        (),
        "-",
        "colour, material and shape questions need appearance annotations the scans lack",
    ),
)


def coverage_of(subtask: str) -> list[Coverage]:
    """Entries a subtask teaches."""
    return [c for c in COVERAGE if subtask in c.subtasks]


def coverage_table() -> str:
    """The map as a Markdown table (docs/benchmarks.md embeds it; `sicorpus subtasks` prints it)."""
    lines = ["| benchmark | question type | subtasks | our form / why not |", "|---|---|---|---|"]
    for c in COVERAGE:
        subs = ", ".join(f"`{s}`" for s in c.subtasks) or "—"
        text = c.form if c.subtasks else f"not covered: {c.reason}"
        if c.subtasks and c.reason:
            text += f" ({c.reason})"
        lines.append(f"| {c.benchmark} | {c.question_type} | {subs} | {text} |")
    return "\n".join(lines)


def coverage_lines() -> list[str]:
    """One line per entry, for the terminal (`sicorpus subtasks`)."""
    out = []
    for c in COVERAGE:
        where = ", ".join(c.subtasks) if c.subtasks else f"not covered: {c.reason}"
        out.append(f"{c.benchmark} / {c.question_type}: {where}")
    return out
