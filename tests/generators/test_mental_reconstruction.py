"""Mental reconstruction rules on hand-built scenes whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

import generators.mental_reconstruction  # noqa: F401  (registers the rules)
from tests.facts_builder import box_object, empty_visibility, frame, make_facts
from tests.facts_builder import run_quota as run


def correct_text(sample: dict) -> str:
    return next(o[3:] for o in sample["options"] if o.startswith(sample["answer"] + "."))


def position(facts, source_index: int) -> int:
    return next(i for i, f in enumerate(facts.frames) if f.index == source_index)


# --- unique_object_count -------------------------------------------------------------------------------------


def unique_scene(seen: dict[int, list[int]], fractions: dict[tuple[int, int], float] | None = None):
    """Three chairs and a table, six frames 2 s apart; `seen`: object position -> frames showing it."""
    objects = [
        box_object(1, "chair", (0, 0, 0.4), (0.5, 0.5, 0.8)),
        box_object(2, "chair", (1, 0, 0.4), (0.5, 0.5, 0.8)),
        box_object(3, "chair", (2, 0, 0.4), (0.5, 0.5, 0.8)),
        box_object(4, "table", (1, 1, 0.4), (1.2, 0.8, 0.8)),
    ]
    frames = [frame(i * 20, (0, -3, 1.5), (0, 0, 1), fps_step=0.1) for i in range(6)]
    vis = empty_visibility(6, 4)
    for obj, fs in seen.items():
        for f in fs:
            vis.visible[f, obj] = True
            vis.visible_fraction[f, obj] = 0.6
    for (f, obj), value in (fractions or {}).items():
        vis.visible_fraction[f, obj] = value
    return make_facts(objects, frames, visibility=vis)


def test_unique_object_count_counts_repeated_sightings_once():
    # chair 0 in frames 0, 1; chair 1 in frames 1, 2; chair 2 in frame 2 only; the table in frames 0, 1
    facts = unique_scene({0: [0, 1], 1: [1, 2], 2: [2], 3: [0, 1]})
    samples = run(facts, "unique_object_count")
    expected = {
        ("chair", (0, 1)): "2",  # per-frame sum 1 + 2 = 3
        ("chair", (1, 2)): "3",  # sum 2 + 2 = 4
        ("chair", (0, 1, 2)): "3",  # sum 1 + 2 + 2 = 5
        ("table", (0, 1)): "1",  # sum 2
    }
    got = {(s["facts"]["label"], tuple(position(facts, i) for i in s["facts"]["frames"])): s for s in samples}
    assert set(got) == set(expected)  # frames (0, 2) repeat no chair: never asked
    for key, s in got.items():
        assert s["answer"] == expected[key]
        assert s["facts"]["per_frame_sum"] > int(s["answer"])
        assert len(s["facts"]["objects"]) == int(s["answer"])
    assert "chair" in got[("chair", (0, 1))]["question"]


def test_unique_object_count_skips_when_no_instance_is_seen_twice():
    facts = unique_scene({0: [0], 1: [1], 2: [2]})
    assert run(facts, "unique_object_count") == []


def test_unique_object_count_skips_frames_with_an_unclear_sliver():
    # chair 2 is not "visible" in frame 1 but shows 4 % of its points there: frames with frame 1 are unclear
    facts = unique_scene({0: [0, 1], 1: [0, 1]}, fractions={(1, 2): 0.04})
    assert run(facts, "unique_object_count") == []
    facts = unique_scene({0: [0, 1], 1: [0, 1]}, fractions={(1, 2): 0.01})
    assert [s["answer"] for s in run(facts, "unique_object_count")] == ["2"]


# --- cognitive_map -------------------------------------------------------------------------------------------


def map_scene(positions: dict[str, tuple[float, float]], camera=((3, -1, 1.5), (3, 3, 1))):
    objects = [
        box_object(i + 1, lab, (x, y, 0.4), (0.4, 0.4, 0.8))
        for i, (lab, (x, y)) in enumerate(positions.items())
    ]
    frames = [frame(i, camera[0], camera[1]) for i in range(4)]
    vis = empty_visibility(4, len(objects))
    vis.visible[:] = True
    room = np.array([[0, 0], [6, 0], [6, 6], [0, 6]], dtype=float)
    return make_facts(objects, frames, visibility=vis, room_polygon=room)


def parse_map(text: str) -> dict[str, str]:
    return dict(part.split(": ") for part in text.split("; "))


def test_cognitive_map_places_objects_in_the_right_cells():
    # 6 m room, 2 m cells, camera looks along +y: top = +y, right = +x
    facts = map_scene({"bed": (1, 5), "sofa": (5, 1), "tv": (3, 3), "lamp": (5, 5)})
    samples = run(facts, "cognitive_map")
    assert samples
    truth = {"bed": "top-left", "sofa": "bottom-right", "tv": "center", "lamp": "top-right"}
    for s in samples:
        placed = parse_map(correct_text(s))
        assert placed == {k: truth[k] for k in placed}
        assert len(placed) in (3, 4)
        wrong = [parse_map(o[3:]) for o in s["options"] if not o.startswith(s["answer"] + ".")]
        assert all(w != placed and set(w) == set(placed) for w in wrong)
        assert len({o[3:] for o in s["options"]}) == 4


def test_cognitive_map_turns_with_the_first_view():
    # camera looks along -x: top = -x, right = +y; the bed at (1, 5) is then top-right
    facts = map_scene({"bed": (1, 5), "sofa": (5, 1), "tv": (3, 3)}, camera=((7, 3, 1.5), (3, 3, 1)))
    samples = run(facts, "cognitive_map")
    assert samples
    for s in samples:
        assert parse_map(correct_text(s)) == {"bed": "top-right", "sofa": "bottom-left", "tv": "center"}


def test_cognitive_map_skips_objects_on_a_cell_border():
    # the tv's centre lies on the border x = 2 m: only two clear objects remain, fewer than three
    facts = map_scene({"bed": (1, 5), "sofa": (5, 1), "tv": (2.0, 3)})
    assert run(facts, "cognitive_map") == []
    # two objects in one cell fail "distinct cells"
    facts = map_scene({"bed": (1, 5), "sofa": (0.8, 4.6), "tv": (3, 3)})
    assert run(facts, "cognitive_map") == []


def test_cognitive_map_asks_every_subset_once_and_still_skips_shared_cells():
    # eight objects in eight distinct cells of the 6 m room, a ninth ("vase") in the bed's cell: every 3- and
    # 4-subset is a candidate (C(9,3) + C(9,4) = 210); those holding both bed and vase share a cell and are
    # skipped (7 + 21 = 28). 64 random draws used to leave most of the 182 good ones untried.
    centres = {"bed": (1, 1), "sofa": (3, 1), "desk": (5, 1), "tv": (1, 3), "lamp": (5, 3)}
    centres |= {"sink": (1, 5), "door": (3, 5), "plant": (5, 5), "vase": (1.3, 1.2)}
    facts = map_scene(centres)
    samples = run(facts, "cognitive_map", quota=400)
    subsets = [frozenset(o["label"] for o in s["facts"]["objects"]) for s in samples]
    assert len(samples) == len(set(subsets)) == 182
    assert not any({"bed", "vase"} <= sub for sub in subsets)
    assert len({s["question"] for s in samples}) == 182  # no question asked twice
    for s in samples:
        assert len({o[3:] for o in s["options"]}) == 4


# --- occlusion -----------------------------------------------------------------------------------------------


def occlusion_scene(
    chair_ratio: float = 0.3,
    table_depth: float = 2.0,
    sofa_hidden: float = 0.0,
    labels: tuple[str, ...] = ("chair", "table", "lamp", "tv", "sofa"),
    in_frustum: tuple[float, ...] = (0.9, 1.0, 1.0, 1.0, 1.0),
    hidden: tuple[float, float] = (0.01, 0.02),  # lamp's and tv's share hidden behind another object
):
    objects = [box_object(i + 1, lab, (i, 2, 0.4), (0.4, 0.4, 0.8)) for i, lab in enumerate(labels)]
    vis = empty_visibility(1, 5)
    vis.visible[0] = True
    vis.in_frustum_fraction[0] = in_frustum
    vis.visible_fraction[0] = [0.9 * chair_ratio, 0.95, 0.95, 0.92, 0.99]
    vis.depth[0] = [3.0, table_depth, 2.5, 3.5, 4.0]
    # share of in-view points behind another object (self-occluded back faces excluded)
    vis.occluded_by_other = np.array([[1 - chair_ratio, 0.0, *hidden, sofa_hidden]])
    vis.bbox[0] = [
        [0.40, 0.40, 0.60, 0.70],  # chair, behind the table
        [0.35, 0.55, 0.65, 0.90],  # table, covers the chair's lower half
        [0.05, 0.10, 0.15, 0.40],
        [0.70, 0.10, 0.90, 0.30],
        [0.70, 0.50, 0.95, 0.90],
    ]
    return make_facts(objects, [frame(0, (2, -2, 1.5), (2, 2, 0.5))], visibility=vis)


def test_occlusion_names_the_partly_hidden_object():
    facts = occlusion_scene()
    samples = run(facts, "occlusion")
    assert len(samples) == 1
    s = samples[0]
    assert correct_text(s) == "chair"
    assert len(s["options"]) == 4
    assert s["facts"]["occluder"]["label"] == "table"
    assert s["facts"]["hidden_by_other"] >= 0.3
    assert all(h <= 0.05 for h in s["facts"]["distractor_hidden"])


def test_occlusion_distractors_are_never_partly_hidden_themselves():
    for s in run(occlusion_scene(sofa_hidden=0.2), "occlusion", quota=20):
        assert "sofa" not in [o[3:] for o in s["options"]]


def test_occlusion_needs_the_occlusion_measure():
    facts = occlusion_scene()
    facts.visibility.occluded_by_other = None
    assert run(facts, "occlusion") == []


def test_occlusion_skips_without_a_clear_margin_or_an_occluder():
    assert run(occlusion_scene(chair_ratio=0.8), "occlusion") == []  # only 20 % of the in-view part hidden
    assert run(occlusion_scene(table_depth=3.5), "occlusion") == []  # the table is behind the chair


def test_occlusion_distractor_labels_may_have_several_instances_if_all_are_clear():
    # lamp and tv become two lamps; the sofa is 20 % hidden: only "table" is a single-instance clear label,
    # but both lamps are fully clear, so "lamp" is plainly wrong and completes the options
    two_lamps = ("chair", "table", "lamp", "lamp", "sofa")
    samples = run(occlusion_scene(sofa_hidden=0.2, labels=two_lamps), "occlusion")
    assert len(samples) == 1
    assert correct_text(samples[0]) == "chair"
    assert sorted(o[3:] for o in samples[0]["options"]) == ["chair", "lamp", "table"]
    # one lamp 20 % hidden: "lamp" is no longer clearly wrong, one distractor is left -> skipped
    assert run(occlusion_scene(sofa_hidden=0.2, labels=two_lamps, hidden=(0.01, 0.2)), "occlusion") == []
    # one lamp mostly cut off by the image border: it could read as "partly hidden" -> skipped
    cut = (0.9, 1.0, 1.0, 0.4, 1.0)
    assert run(occlusion_scene(sofa_hidden=0.2, labels=two_lamps, in_frustum=cut), "occlusion") == []


def test_occlusion_answer_label_may_have_several_instances():
    # a second chair in plain view: "chair" is still the one label of the options with a partly hidden instance
    two_chairs = ("chair", "table", "lamp", "tv", "chair")
    samples = run(occlusion_scene(labels=two_chairs), "occlusion")
    assert len(samples) == 1
    assert correct_text(samples[0]) == "chair"
    assert samples[0]["facts"]["objects"][0]["instance_id"] == 1  # the hidden chair is the one grounded
    assert sorted(o[3:] for o in samples[0]["options"]) == ["chair", "lamp", "table", "tv"]
    # the other chair more hidden but nothing nearer covers its box: the covered chair is grounded
    samples = run(occlusion_scene(chair_ratio=0.6, sofa_hidden=0.5, labels=two_chairs), "occlusion")
    assert [s["facts"]["objects"][0]["instance_id"] for s in samples] == [1]
    assert samples[0]["facts"]["hidden_by_other"] == pytest.approx(0.4)


def test_occlusion_distractors_may_be_slightly_cut_by_the_border():
    # lamp 75 % and tv 72 % inside the image (>= 70 %): still clear distractors; at 60 % they are not
    samples = run(occlusion_scene(in_frustum=(0.9, 1.0, 0.75, 0.72, 1.0)), "occlusion")
    assert len(samples) == 1 and len(samples[0]["options"]) == 4
    samples = run(occlusion_scene(sofa_hidden=0.2, in_frustum=(0.9, 1.0, 0.6, 0.6, 1.0)), "occlusion")
    assert samples == []  # only the table is left


# --- frame_order ---------------------------------------------------------------------------------------------


def order_scene(step_s: float, chain_overlap: float = 0.3):
    """Four frames along a path, `step_s` apart; consecutive frames overlap, others do not."""
    frames = [frame(i * 10, (i, -3, 1.5), (i, 0, 1), fps_step=step_s / 10) for i in range(4)]
    overlap = np.eye(4)
    for i in range(3):
        overlap[i, i + 1] = overlap[i + 1, i] = chain_overlap
    return make_facts([box_object(1, "chair", (0, 0, 0.4), (0.4, 0.4, 0.8))], frames, overlap=overlap)


def test_frame_order_answers_the_capture_order():
    facts = order_scene(step_s=2.0)
    samples = run(facts, "frame_order")
    assert samples
    for s in samples:
        shown = s["facts"]["frames"]  # source indices in image order
        order = [int(x) for x in correct_text(s).split(", ")]
        captured = [shown[k - 1] for k in order]
        assert captured == sorted(shown)
        options = [tuple(int(x) for x in o[3:].split(", ")) for o in s["options"]]
        assert tuple(order[::-1]) not in options  # the reverse is never offered
        assert s["facts"]["true_order_frames"] == sorted(shown)
        assert len(shown) in (3, 4) and len(s["options"]) == 4


def test_frame_order_skips_frames_too_close_in_time_or_not_overlapping():
    assert run(order_scene(step_s=0.5), "frame_order") == []
    assert run(order_scene(step_s=2.0, chain_overlap=0.0), "frame_order") == []


def heading_frame(index: int, heading_deg: float):
    """A camera at the room centre looking at `heading_deg` from +y (counter-clockwise, seen from above)."""
    a = np.radians(heading_deg)
    return frame(index, (3, 3, 1.5), (3 - 3 * np.sin(a), 3 + 3 * np.cos(a), 1.2))


def test_cognitive_map_starts_the_video_at_a_frame_that_faces_a_room_axis():
    # a real scan's first frame looked 38 degrees off every room axis: the map still has samples, on videos
    # starting at a later frame that faces +y (top = +y, right = +x)
    positions = {"bed": (1, 5), "sofa": (5, 1), "tv": (3, 3), "lamp": (5, 5)}
    objects = [
        box_object(i + 1, lab, (x, y, 0.4), (0.4, 0.4, 0.8))
        for i, (lab, (x, y)) in enumerate(positions.items())
    ]
    frames = [heading_frame(0, 38.0)] + [heading_frame(i, 0.0) for i in range(1, 20)]
    vis = empty_visibility(20, len(objects))
    vis.visible[:] = True
    room = np.array([[0, 0], [6, 0], [6, 6], [0, 6]], dtype=float)
    facts = make_facts(objects, frames, visibility=vis, room_polygon=room)
    samples = run(facts, "cognitive_map")
    assert samples
    truth = {"bed": "top-left", "sofa": "bottom-right", "tv": "center", "lamp": "top-right"}
    for s in samples:
        assert s["facts"]["frames"][0] != 0  # the 38-degree frame never starts a video
        assert s["facts"]["map_alignment"] == "room_axis"
        placed = parse_map(correct_text(s))
        assert placed == {k: truth[k] for k in placed}
        assert "the the" not in s["question"]


def test_cognitive_map_turns_the_grid_to_the_heading_when_no_frame_faces_a_room_axis():
    # every frame looks diagonally (45 degrees left of +y, toward -x +y): the grid is turned to that heading
    # (up = (-1, 1)/sqrt 2, right = (1, 1)/sqrt 2); the 6 m room spans 8.49 m along both, cells of 2.83 m
    positions = {"tv": (3, 3), "lamp": (0.5, 5.5), "bed": (5.5, 0.5), "sofa": (5.5, 5.5), "desk": (0.5, 0.5)}
    objects = [
        box_object(i + 1, lab, (x, y, 0.4), (0.4, 0.4, 0.8))
        for i, (lab, (x, y)) in enumerate(positions.items())
    ]
    frames = [heading_frame(i, 45.0) for i in range(6)]
    vis = empty_visibility(6, len(objects))
    vis.visible[:] = True
    room = np.array([[0, 0], [6, 0], [6, 6], [0, 6]], dtype=float)
    facts = make_facts(objects, frames, visibility=vis, room_polygon=room)
    samples = run(facts, "cognitive_map")
    assert samples
    truth = {
        "tv": "center",
        "lamp": "top-center",
        "bed": "bottom-center",
        "sofa": "middle-right",
        "desk": "middle-left",
    }
    for s in samples:
        assert s["facts"]["map_alignment"] == "first_frame_heading"
        placed = parse_map(correct_text(s))
        assert placed == {k: truth[k] for k in placed}
