"""Metric-measurement rules on hand-built scenes whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

import generators.metric_measurement  # noqa: F401  (registers the rules)
from generators.base import GenerationConfig
from generators.common import clear_gap, format_number, value_bin
from tests.facts_builder import box_object, frame, make_facts
from tests.facts_builder import run_rule as run

CONFIG = GenerationConfig(seed=3)


def seen_everywhere(facts):
    facts.visibility.visible[:] = True
    return facts


def by_label(samples):
    return {tuple(o["label"] for o in s["facts"]["objects"]): s for s in samples}


# --- object_size / object_height ---------------------------------------------------------------------------


def size_scene():
    return seen_everywhere(
        make_facts(
            [
                box_object(1, "bed", (0, 0, 0.3), (2.0, 1.6, 0.6)),
                box_object(2, "lamp", (3, 0, 0.8), (0.3, 0.3, 1.6), yaw_deg=30),
                box_object(3, "chair", (0, 3, 0.45), (0.5, 0.5, 0.9)),
                box_object(4, "chair", (1, 3, 0.45), (0.5, 0.5, 0.9)),
                box_object(5, "cup", (3, 3, 0.05), (0.08, 0.08, 0.1), n=30),  # too few points to measure
                box_object(6, "wall", (0, -2, 1.5), (6, 0.1, 3), nameable=False),
            ]
        )
    )


def test_object_size_is_longest_obb_edge_in_cm():
    samples = run(size_scene(), "object_size")
    found = by_label(samples)
    assert set(found) == {("bed",), ("lamp",)}  # chairs are two, the cup has 30 points, walls never named
    assert found[("bed",)]["answer"] == "200"
    assert found[("lamp",)]["answer"] == "160"
    assert found[("lamp",)]["facts"]["unit"] == "cm"
    assert len(found[("bed",)]["images"]) == 16


def test_object_height_is_vertical_extent():
    found = by_label(run(size_scene(), "object_height"))
    assert set(found) == {("bed",), ("lamp",)}
    assert found[("bed",)]["facts"]["value"] == pytest.approx(60, abs=0.5)
    assert found[("lamp",)]["answer"] == "160"


def test_object_never_seen_in_the_video_is_not_asked():
    facts = size_scene()
    facts.visibility.visible[:, 1] = False  # the lamp never passes the visibility rule
    assert {s["facts"]["objects"][0]["label"] for s in run(facts, "object_size")} == {"bed"}


# --- absolute_distance -------------------------------------------------------------------------------------


def test_absolute_distance_uses_closest_points_not_centres():
    # Two 4 m bars on one line: centres 5 m apart, facing ends 1 m apart.
    facts = seen_everywhere(
        make_facts(
            [
                box_object(1, "sofa", (-2.5, 0, 0.5), (4.0, 0.2, 0.2)),
                box_object(2, "counter", (2.5, 0, 0.5), (4.0, 0.2, 0.2)),
            ]
        )
    )
    (s,) = run(facts, "absolute_distance")
    assert s["answer"] == "1.0"
    assert s["facts"]["value"] == pytest.approx(1.0, abs=0.03)
    assert s["facts"]["centroid_distance"] == pytest.approx(5.0, abs=0.1)
    labels = [o["label"] for o in s["facts"]["objects"]]
    assert sorted(labels) == ["counter", "sofa"]
    assert s["question"].index(labels[0]) < s["question"].index(labels[1])  # objects listed in mention order


def test_absolute_distance_skips_touching_and_repeated_labels():
    facts = seen_everywhere(
        make_facts(
            [
                box_object(1, "desk", (0, 0, 0.4), (1.0, 0.6, 0.8)),
                box_object(2, "monitor", (0, 0, 1.0), (0.5, 0.1, 0.35)),  # 0.025 m above the desk top
                box_object(3, "chair", (2, 0, 0.4), (0.5, 0.5, 0.8)),
                box_object(4, "chair", (-2, 0, 0.4), (0.5, 0.5, 0.8)),
                box_object(5, "bin", (0, 2, 0.2), (0.3, 0.3, 0.4)),
            ]
        )
    )
    pairs = {tuple(sorted(k)) for k in by_label(run(facts, "absolute_distance"))}
    assert pairs == {("bin", "desk"), ("bin", "monitor")}


# --- room_size ---------------------------------------------------------------------------------------------


def test_room_size_answers_the_floor_area():
    facts = make_facts([box_object(1, "bed", (0, 0, 0.3), (2, 1.6, 0.6))], floor_z=0.0, room_area=23.456)
    (s,) = run(facts, "room_size")
    assert s["answer"] == "23.5" and s["facts"]["unit"] == "m2"
    assert s["facts"]["value"] == pytest.approx(23.456)


def test_room_size_needs_a_floor():
    facts = make_facts([box_object(1, "bed", (0, 0, 0.3), (2, 1.6, 0.6))], room_area=23.4)  # floor_z missing
    assert run(facts, "room_size") == []


# --- camera_distance ---------------------------------------------------------------------------------------


def test_camera_distance_reads_the_visible_min_distance():
    objects = [
        box_object(1, "tv", (0, 0, 1), (1, 0.1, 0.6)),
        box_object(2, "chair", (1, 0, 0.4), (0.5, 0.5, 0.8)),
        box_object(3, "chair", (-1, 0, 0.4), (0.5, 0.5, 0.8)),
        box_object(4, "plant", (2, 0, 0.4), (0.4, 0.4, 0.8)),
    ]
    facts = make_facts(objects, frames=[frame(i * 10, (0, -3, 1.5), (0, 0, 1)) for i in range(3)])
    vis = facts.visibility
    vis.visible[1, [0, 1, 2]] = True
    vis.min_distance[1, [0, 1, 2]] = [2.34, 1.5, 1.6]
    vis.min_distance[2, 3] = 3.0  # measured, yet the plant fails the visibility rule there
    (s,) = run(facts, "camera_distance")
    assert s["answer"] == "2.3" and s["facts"]["frames"] == [10]
    assert [o["label"] for o in s["facts"]["objects"]] == ["tv"]
    assert len(s["images"]) == 1


# --- camera_displacement -----------------------------------------------------------------------------------


def test_camera_displacement_obeys_the_overlap_and_motion_filters():
    frames = [
        frame(0, (0, 0, 1.5), (0, 5, 1.5)),
        frame(10, (1.2, 0.9, 1.5), (0, 5, 1.5)),  # 1.5 m from frame 0
        frame(20, (1.25, 0.9, 1.5), (0, 5, 1.5)),  # 0.05 m from frame 10: near-zero motion
        frame(30, (3, 4, 1.5), (0, 5, 1.5)),
    ]
    overlap = np.eye(4)
    overlap[0, 1] = overlap[1, 0] = 0.3
    overlap[1, 2] = overlap[2, 1] = 0.3
    overlap[0, 2] = overlap[2, 0] = 0.8  # almost the same view
    overlap[0, 3] = overlap[3, 0] = 0.03  # barely shared content
    facts = make_facts([box_object(1, "bed", (0, 3, 0.3), (2, 1.6, 0.6))], frames=frames, overlap=overlap)
    (s,) = run(facts, "camera_displacement")
    assert s["facts"]["frames"] == [0, 10]
    assert s["answer"] == "1.5" and s["facts"]["value"] == pytest.approx(1.5)
    assert s["facts"]["overlap"] == pytest.approx(0.3)


# --- helpers and guards ------------------------------------------------------------------------------------


def test_helpers():
    assert format_number(87.4, 0) == "87" and format_number(-0.01, 1) == "0.0"
    assert value_bin(0.3, (0.5, 1.0)) == "<0.5" and value_bin(0.7, (0.5, 1.0), "m") == "0.5-1m"
    assert value_bin(1.0, (0.5, 1.0)) == ">=1"
    assert clear_gap(1.0, 1.2, 0.15, 0.1) and not clear_gap(1.0, 1.1, 0.15, 0.1)
    assert not clear_gap(2.0, 2.16, 0.15, 0.1)  # 0.16 m but only 7 %


def test_typical_values_are_down_sampled():
    # Eight chair-sized objects (one bin) and two others: with quota 4 the rare bins are all kept.
    objects = [box_object(i, f"stool{i}", (i, 0, 0.4), (0.4, 0.4, 0.85)) for i in range(8)]
    objects += [
        box_object(20, "bed", (0, 4, 0.3), (2.0, 1.6, 0.6)),
        box_object(21, "cup", (3, 4, 0.05), (0.1, 0.1, 0.1)),
    ]
    samples = run(seen_everywhere(make_facts(objects)), "object_size", object_size=4)
    labels = {s["facts"]["objects"][0]["label"] for s in samples}
    assert len(samples) == 4 and {"bed", "cup"} <= labels


def test_rules_are_deterministic():
    facts = size_scene()
    assert run(facts, "object_size") == run(facts, "object_size")
