"""Spatial-relation rules on hand-built scenes whose answers are known by construction."""

from __future__ import annotations

from collections import Counter

import pytest

import generators.spatial_relations  # noqa: F401  (registers the rules)
from tests.facts_builder import box_object, closest_distances, empty_visibility, frame, make_facts
from tests.facts_builder import run_rule as run


def seen_everywhere(facts):
    facts.visibility.visible[:] = True
    return facts


def answer_text(sample) -> str:
    return sample["options"][ord(sample["answer"]) - ord("A")][3:]


def labels(sample) -> list[str]:
    return [o["label"] for o in sample["facts"]["objects"]]


def cube(iid, label, x, y, size=0.4):
    return box_object(iid, label, (x, y, size / 2), (size, size, size))


# --- relative_distance / relative_distance_far ----------------------------------------------------------------


def relative_scene(lamp_gap=2.0, chair_gap=1.0):
    """A 1 m bed at the origin (the only single-instance label) and two instances of four other labels.
    Closest-point gaps to the bed: chair 1.0 (its twin 5.0), lamp 2.0, desk 3.0, sofa 4.0 (all per label)."""
    half, edge = 0.5, 0.2  # bed half-width, cube half-width
    objects = [
        box_object(1, "bed", (0, 0, 0.25), (1, 1, 0.5)),
        cube(2, "chair", half + chair_gap + edge, 0),
        cube(3, "chair", 0, -(half + 5.0 + edge)),
        cube(4, "lamp", -(half + lamp_gap + edge), 0),
        cube(5, "lamp", 0, half + 2.5 + edge),
        cube(6, "desk", half + 3.0 + edge, 1.5),
        cube(7, "desk", 0, -(half + 3.2 + edge)),
        cube(8, "sofa", -(half + 4.0 + edge), 0),
        cube(9, "sofa", 0, half + 4.5 + edge),
    ]
    return seen_everywhere(make_facts(objects))


def test_relative_distance_uses_the_nearest_instance_of_each_label():
    (s,) = run(relative_scene(), "relative_distance")
    assert answer_text(s) == "chair"
    assert sorted(o[3:] for o in s["options"]) == ["chair", "desk", "lamp", "sofa"]
    assert labels(s)[0] == "bed"
    named = labels(s)[1:]  # candidates in the order the question mentions them
    positions = [s["question"].index(lab) for lab in named]
    assert positions == sorted(positions)
    assert s["facts"]["objects"][1 + named.index("chair")]["instance_id"] == 2  # the near chair, not its twin
    assert s["facts"]["distances"]["chair"] == pytest.approx(1.0, abs=0.05)


def test_relative_distance_far_takes_per_label_minimum():
    # By the farthest instance the chair (5.0) would win; per label the chair is at 1.0 and the sofa is farthest.
    (s,) = run(relative_scene(), "relative_distance_far")
    assert answer_text(s) == "sofa"
    assert "farthest" in s["question"] or "most distant" in s["question"] or "greatest" in s["question"]


@pytest.mark.parametrize(
    "chair_gap, lamp_gap",
    [(1.0, 1.1), (2.0, 2.16)],  # 0.1 m apart; 0.16 m apart but only 7 %
)
def test_relative_distance_skips_a_close_runner_up(chair_gap, lamp_gap):
    assert run(relative_scene(lamp_gap=lamp_gap, chair_gap=chair_gap), "relative_distance") == []


def test_relative_distance_needs_a_single_instance_reference():
    facts = relative_scene()
    facts.objects.append(cube(10, "bed", 9, 9))
    facts.closest = closest_distances(facts.objects)
    facts.visibility = empty_visibility(len(facts.frames), len(facts.objects))
    assert run(seen_everywhere(facts), "relative_distance") == []


def line_scene(n=8):
    """n single-instance cubes on a line with growing spacing, so many (reference, answer) pairs pass."""
    xs = [0.0]
    for k in range(1, n):
        xs.append(xs[-1] + 0.6 + 0.5 * k)
    return seen_everywhere(make_facts([cube(k + 1, f"thing{k}", x, 0) for k, x in enumerate(xs)]))


def test_relative_distance_letters_are_balanced():
    facts = line_scene()
    samples = run(facts, "relative_distance", relative_distance=40)
    counts = Counter(s["answer"] for s in samples)
    assert len(samples) >= 12 and max(counts.values()) - min(counts.values()) <= 1
    # Across scenes (a fresh balancer each), the letter of the first sample is uniform-ish.
    firsts = Counter()
    for k in range(200):
        facts.scene_id = f"scene{k:03d}"
        firsts[run(facts, "relative_distance", relative_distance=1)[0]["answer"]] += 1
    assert set(firsts) == set("ABCD") and min(firsts.values()) >= 30


def test_relative_distance_answers_match_the_facts():
    for s in run(line_scene(), "relative_distance", relative_distance=40):
        d = s["facts"]["distances"]
        best = min(d, key=d.get)
        assert answer_text(s) == best
        runner_up = sorted(d.values())[1]
        assert runner_up - d[best] >= 0.15 and runner_up - d[best] >= 0.1 * runner_up


# --- closer_of_two -----------------------------------------------------------------------------------------


def test_closer_of_two():
    objects = [cube(1, "bed", 0, 0), cube(2, "chair", 0.9, 0), cube(3, "lamp", -1.9, 0)]  # gaps 0.5 and 1.5
    samples = run(seen_everywhere(make_facts(objects)), "closer_of_two")
    ref_bed = [s for s in samples if labels(s)[0] == "bed"]
    assert len(ref_bed) == 1 and answer_text(ref_bed[0]) == "chair"
    for s in samples:
        d = s["facts"]["distances"]
        assert answer_text(s) == min(d, key=d.get)


def test_closer_of_two_skips_a_small_gap():
    objects = [cube(1, "bed", 0, 0), cube(2, "chair", 1.4, 0), cube(3, "lamp", -1.5, 0)]  # gaps 1.0 and 1.1
    samples = run(seen_everywhere(make_facts(objects)), "closer_of_two")
    assert samples and all(labels(s)[0] != "bed" for s in samples)


# --- higher_lower ------------------------------------------------------------------------------------------


def test_higher_lower_compares_tops():
    objects = [
        box_object(1, "table", (0, 0, 0.375), (1.2, 0.8, 0.75)),
        box_object(2, "lamp", (2, 0, 1.0), (0.3, 0.3, 1.2)),  # top 1.6, but its centre is below the shelf's
        box_object(3, "shelf", (4, 0, 1.3), (0.8, 0.3, 0.7)),  # top 1.65: only 0.05 m above the lamp
    ]
    samples = run(seen_everywhere(make_facts(objects)), "higher_lower")
    pairs = {frozenset(labels(s)): s for s in samples}
    assert set(pairs) == {frozenset({"table", "lamp"}), frozenset({"table", "shelf"})}
    for s in samples:
        assert "top" in s["question"]
        expected = "table" if s["facts"]["asked"] == "lower" else ({"lamp", "shelf"} & set(labels(s))).pop()
        assert answer_text(s) == expected


# --- size_comparison ---------------------------------------------------------------------------------------


def test_size_comparison_measure_is_stated_and_ratio_filtered():
    objects = [
        box_object(1, "cabinet", (0, 0, 0.5), (1.0, 1.0, 1.0)),
        box_object(2, "dresser", (3, 0, 0.5), (1.1, 1.0, 1.0)),  # ratio 1.1 to the cabinet by either measure
        box_object(3, "pole", (6, 0, 0.05), (3.0, 0.1, 0.1)),  # longer edge, far smaller volume
    ]
    facts = seen_everywhere(make_facts(objects))
    seen_measures = set()
    for seed in range(12):
        for s in run(facts, "size_comparison", seed=seed):
            pair = set(labels(s))
            assert pair != {"cabinet", "dresser"}
            measure = s["facts"]["measure"]
            seen_measures.add(measure)
            assert ("volume" in s["question"]) == (measure == "volume")
            larger = "pole" if measure == "longest_edge" else ({"cabinet", "dresser"} & pair).pop()
            smaller = (pair - {larger}).pop()
            assert answer_text(s) == (larger if s["facts"]["asked"] == "larger" else smaller)
    assert seen_measures == {"volume", "longest_edge"}


# --- camera_left_right / camera_near_far -------------------------------------------------------------------


def camera_scene():
    objects = [
        cube(1, "tv", 0, 0),
        cube(2, "plant", 1, 0),
        cube(3, "lamp", 2, 0),
        cube(4, "chair", 3, 0),
        cube(5, "chair", 4, 0),
    ]
    facts = make_facts(objects, frames=[frame(i * 10, (0, -3, 1.5), (0, 0, 1)) for i in range(3)])
    vis = facts.visibility
    vis.visible[1] = True
    vis.center_x[1] = [0.2, 0.6, 0.62, 0.1, 0.9]
    vis.depth[1] = [2.0, 3.0, 3.25, 1.0, 5.0]
    vis.center_x[2] = [0.2, 0.8, 0.5, 0.3, 0.4]  # frame 2: values but nothing passes the visibility rule
    vis.depth[2] = [1.0, 2.0, 3.0, 4.0, 5.0]
    return facts


def test_camera_left_right():
    samples = run(camera_scene(), "camera_left_right")
    cx = {"tv": 0.2, "plant": 0.6, "lamp": 0.62}
    assert {frozenset(labels(s)) for s in samples} == {frozenset({"tv", "plant"}), frozenset({"tv", "lamp"})}
    for s in samples:
        a, b = labels(s)
        assert s["facts"]["frames"] == [10]
        assert s["question"].index(a) < s["question"].index(b)
        assert answer_text(s) == ("left" if cx[a] < cx[b] else "right")


def test_camera_near_far():
    samples = run(camera_scene(), "camera_near_far")
    depth = {"tv": 2.0, "plant": 3.0, "lamp": 3.25}
    # plant vs lamp: 0.25 m apart but under 10 %; chairs are two instances
    assert {frozenset(labels(s)) for s in samples} == {frozenset({"tv", "plant"}), frozenset({"tv", "lamp"})}
    for s in samples:
        near, far = sorted(labels(s), key=depth.get)
        assert answer_text(s) == (near if s["facts"]["asked"] == "near" else far)


def test_direction_labels_are_balanced():
    # Many visible single-instance objects in one frame: kept samples split evenly between left and right.
    objects = [cube(k, f"thing{k}", k, 0) for k in range(1, 11)]
    facts = make_facts(objects, frames=[frame(0, (0, -3, 1.5), (0, 0, 1))])
    facts.visibility.visible[0] = True
    facts.visibility.center_x[0] = [0.05 + 0.09 * k for k in range(10)]
    raw = Counter(answer_text(s) for s in run(facts, "camera_left_right", camera_left_right=45))
    assert sum(raw.values()) == 45  # every pair clears the 5 % gap
    sides = Counter(answer_text(s) for s in run(facts, "camera_left_right", camera_left_right=12))
    assert sides["left"] == sides["right"] == 6


def test_closer_of_two_asks_every_clear_pair_around_a_reference():
    # gaps to the bed: chair 0.5, lamp 1.5, desk 3.1: the three pairs all clear the 0.15 m / 10 % gap
    objects = [
        cube(1, "bed", 0, 0),
        cube(2, "chair", 0.9, 0),
        cube(3, "lamp", -1.9, 0),
        cube(4, "desk", 0, 3.5),
    ]
    samples = run(seen_everywhere(make_facts(objects)), "closer_of_two")
    ref_bed = [s for s in samples if labels(s)[0] == "bed"]
    asked = {frozenset(labels(s)[1:]): answer_text(s) for s in ref_bed}
    assert len(ref_bed) == 3 == len(asked)  # each pair once
    assert asked == {
        frozenset({"chair", "lamp"}): "chair",
        frozenset({"chair", "desk"}): "chair",
        frozenset({"lamp", "desk"}): "lamp",
    }


def test_relative_distance_asks_an_answer_with_several_distinct_option_sets():
    # bed reference; chair nearest (1 m), then lamp, desk, sofa, plant, tv all clearly farther
    half, edge = 0.5, 0.2
    objects = [box_object(1, "bed", (0, 0, 0.25), (1, 1, 0.5)), cube(2, "chair", half + 1.0 + edge, 0)]
    for k, lab in enumerate(["lamp", "desk", "sofa", "plant", "tv"]):
        objects += [cube(3 + 2 * k, lab, -(half + 2.0 + k + edge), 0), cube(4 + 2 * k, lab, 0, 9 + k)]
    samples = run(seen_everywhere(make_facts(objects)), "relative_distance")
    chair = [s for s in samples if labels(s)[0] == "bed" and answer_text(s) == "chair"]
    option_sets = [frozenset(o[3:] for o in s["options"]) for s in chair]
    assert len(chair) >= 2 and len(set(option_sets)) == len(option_sets)  # distinct questions, no repeats
    for s in chair:
        d = s["facts"]["distances"]
        assert min(d, key=d.get) == "chair"
