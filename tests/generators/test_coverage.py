"""The benchmark coverage map names a declared subtask with a rule, or a reason, for every question type."""

from __future__ import annotations

from generators.registry import available_subtasks
from taxonomy import SUBTASKS
from taxonomy.coverage import COVERAGE, coverage_table

REQUIRED = {
    "VSI-Bench": {
        "object_counting",
        "object_abs_distance",
        "object_size_estimation",
        "room_size_estimation",
        "object_rel_distance",
        "object_rel_direction_easy",
        "object_rel_direction_medium",
        "object_rel_direction_hard",
        "route_planning",
        "obj_appearance_order",
    },
    "ViewSpatial-Bench": {
        "Camera perspective - Relative Direction",
        "Camera perspective - Object View Orientation",
        "Person perspective - Scene Simulation Relative Direction",
        "Person perspective - Relative Direction",
        "Person perspective - Object View Orientation",
    },
    "MindCube": {"among", "around", "rotation"},
}


def test_every_benchmark_question_type_has_a_subtask_or_a_reason():
    listed = {(c.benchmark, c.question_type) for c in COVERAGE}
    for bench, types in REQUIRED.items():
        assert {(bench, t) for t in types} <= listed, bench
    rules = set(available_subtasks())
    for c in COVERAGE:
        assert c.subtasks or c.reason, c
        for s in c.subtasks:
            assert s in SUBTASKS and s in rules, (c.question_type, s)


def test_vsi_directions_and_viewspatial_camera_direction_are_taught():
    by_type = {c.question_type: c for c in COVERAGE}
    assert "quadrant" in by_type["object_rel_direction_hard"].form
    assert by_type["Camera perspective - Relative Direction"].subtasks == ("camera_relative_direction",)
    assert coverage_table().count("\n") == len(COVERAGE) + 1


def test_docs_show_the_current_map():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text()
    assert coverage_table() in doc  # regenerate the table in docs/benchmarks.md when the map changes
