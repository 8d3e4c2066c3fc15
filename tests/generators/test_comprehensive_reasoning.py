"""Comprehensive reasoning rules on hand-built scenes whose answers are known by construction."""

from __future__ import annotations

import re

import numpy as np

import generators.comprehensive_reasoning  # noqa: F401  (registers the rules)
from generators.comprehensive_reasoning import turn_word
from schemas.facts import FreeSpace
from tests.facts_builder import box_object, empty_visibility, frame, make_facts
from tests.facts_builder import run_quota as run


def correct_text(sample: dict) -> str:
    return next(o[3:] for o in sample["options"] if o.startswith(sample["answer"] + "."))


def all_visible(objects, n_frames: int = 20):
    vis = empty_visibility(n_frames, len(objects))
    vis.visible[:] = True
    return vis


def labels_of(sample: dict) -> list[str]:
    return [o["label"] for o in sample["facts"]["objects"]]


# --- object_count --------------------------------------------------------------------------------------------


def test_object_count_counts_every_instance():
    objects = [box_object(i + 1, "chair", (i, 0, 0.4), (0.5, 0.5, 0.8)) for i in range(3)]
    objects.append(box_object(9, "table", (1, 2, 0.4), (1.2, 0.8, 0.8)))
    samples = run(make_facts(objects, visibility=all_visible(objects)), "object_count")
    assert len(samples) == 1  # the single table is never counted (1 is the trivial prior)
    s = samples[0]
    assert s["answer"] == "3" and s["facts"]["value"] == 3
    assert sorted(o["instance_id"] for o in s["facts"]["objects"]) == [1, 2, 3]
    assert "chair" in s["question"]


def test_object_count_skips_a_single_instance_or_an_unseen_one():
    objects = [
        box_object(1, "chair", (0, 0, 0.4), (0.5, 0.5, 0.8)),
        box_object(2, "table", (1, 2, 0.4), (1, 1, 0.8)),
    ]
    assert run(make_facts(objects, visibility=all_visible(objects)), "object_count") == []
    objects = [box_object(i + 1, "chair", (i, 0, 0.4), (0.5, 0.5, 0.8)) for i in range(2)]
    vis = all_visible(objects)
    vis.visible[:, 1] = False  # the second chair never shows in the video: the count is unknowable
    assert run(make_facts(objects, visibility=vis), "object_count") == []


# --- appearance_order ----------------------------------------------------------------------------------------


def appearance_scene(step_s: float):
    """bed, chair, tv, lamp first seen at frames 0, 5, 10, 15 of 20 (all in the 16-frame video)."""
    labels = ["bed", "chair", "tv", "lamp", "sink"]
    objects = [box_object(i + 1, lab, (i, 2, 0.4), (0.4, 0.4, 0.8)) for i, lab in enumerate(labels)]
    objects.append(box_object(9, "chair", (6, 2, 0.4), (0.4, 0.4, 0.8)))  # a second chair, seen later
    frames = [frame(i, (0, -3, 1.5), (0, 0, 1), fps_step=step_s) for i in range(20)]
    vis = empty_visibility(20, len(objects))
    first = [0, 5, 10, 15, -1, 18]
    for o, f in enumerate(first):
        if f >= 0:
            vis.visible[f:, o] = True
    return make_facts(objects, frames, visibility=vis, first_appearance=np.array(first))


def test_appearance_order_orders_first_sightings():
    samples = run(appearance_scene(step_s=1.0), "appearance_order")
    assert len(samples) == 1  # exactly four labels are ever seen
    s = samples[0]
    assert correct_text(s) == "bed, chair, tv, lamp"
    assert len(s["options"]) == 4
    mentioned = s["question"].split(": ")[-1] if ": " in s["question"] else s["question"]
    assert all(lab in mentioned for lab in ("bed", "chair", "tv", "lamp"))
    assert s["facts"]["first_seen_s"] == {"bed": 0.0, "chair": 5.0, "tv": 10.0, "lamp": 15.0}


def test_appearance_order_skips_first_sightings_under_a_second_apart():
    # same frames, 0.1 s apart: first sightings 0.5 s apart
    assert run(appearance_scene(step_s=0.1), "appearance_order") == []


# --- route_plan ----------------------------------------------------------------------------------------------


def grid(size_m: float, cell: float, free_at) -> FreeSpace:
    n = int(round(size_m / cell))
    jj, ii = np.meshgrid(np.arange(n), np.arange(n))
    x, y = (jj + 0.5) * cell, (ii + 0.5) * cell
    return FreeSpace(free=free_at(x, y), origin=np.zeros(2), cell=cell)


def route_scene(free: FreeSpace, places: dict[str, tuple[float, float]]):
    objects = [
        box_object(i + 1, lab, (x, y, 0.4), (0.2, 0.2, 0.8)) for i, (lab, (x, y)) in enumerate(places.items())
    ]
    return make_facts(objects, visibility=all_visible(objects), free_space=free)


def corridor(bend_deg: float, half_width: float = 0.2, cell: float = 0.1) -> FreeSpace:
    """A corridor north from (1, 0.5) to (1, 3), then 3 m on, bent `bend_deg` to the right."""
    a, b = np.array([1.0, 0.5]), np.array([1.0, 3.0])
    d = np.array([np.sin(np.radians(bend_deg)), np.cos(np.radians(bend_deg))])
    c = b + 3.0 * d

    def near_segment(x, y, p, q):
        pts = np.stack([x, y], axis=-1)
        t = np.clip(((pts - p) @ (q - p)) / ((q - p) @ (q - p)), 0, 1)
        return np.linalg.norm(pts - (p + t[..., None] * (q - p)), axis=-1) <= half_width

    return grid(7.0, cell, lambda x, y: near_segment(x, y, a, b) | near_segment(x, y, b, c))


def corridor_places(bend_deg: float) -> dict[str, tuple[float, float]]:
    end = np.array([1.0, 3.0]) + 3.2 * np.array([np.sin(np.radians(bend_deg)), np.cos(np.radians(bend_deg))])
    # the lamp is more than 1 m from any free cell: it can only be faced, never a start or a goal
    return {"cabinet": (1.0, 0.3), "sofa": (float(end[0]), float(end[1])), "lamp": (5.5, 0.5)}


def test_route_plan_turns_on_an_l_shaped_corridor():
    facts = route_scene(corridor(90.0), corridor_places(90.0))
    samples = run(facts, "route_plan")
    by_start = {labels_of(s)[0]: s for s in samples}
    assert set(by_start) == {"cabinet", "sofa"}
    # from the cabinet facing the lamp (east): turn left into the corridor (north), then right at the bend
    s = by_start["cabinet"]
    assert labels_of(s) == ["cabinet", "lamp", "sofa"]
    assert correct_text(s) == "Turn left, Turn right"
    assert len(re.findall(r"\d\. \[please fill in\]", s["question"])) == 2
    assert len(s["options"]) == 4
    # from the sofa facing the lamp (south-west): go west, then turn left at the bend to go south
    s = by_start["sofa"]
    assert labels_of(s) == ["sofa", "lamp", "cabinet"]
    assert correct_text(s).endswith("Turn left")


def test_route_plan_skips_a_twenty_degree_bend():
    # a narrow corridor, so the shortest route keeps most of the bend (about 17 degrees)
    facts = route_scene(corridor(20.0, half_width=0.1, cell=0.05), corridor_places(20.0))
    assert run(facts, "route_plan") == []
    facts = route_scene(corridor(90.0, half_width=0.1, cell=0.05), corridor_places(90.0))
    assert run(facts, "route_plan")  # the same corridor bent 90 degrees is asked


def pillar_scene(left_edge: float, right_edge: float):
    """A 6 m room with a 1 m deep pillar across the middle; the cabinet south of it, the sofa north, the lamp
    outside the room to the north (faced, never snapped to the floor)."""
    free = grid(6.0, 0.1, lambda x, y: ~((x > left_edge) & (x < right_edge) & (abs(y - 3) < 0.5)))
    return route_scene(free, {"cabinet": (3.0, 0.3), "sofa": (3.0, 5.7), "lamp": (3.0, 8.0)})


def test_route_plan_goes_round_the_nearer_side_of_a_pillar():
    # the pillar spans x 1.5-5.5: passing west of it is clearly shorter (about 6.2 m against 7.6 m)
    samples = run(pillar_scene(1.5, 5.5), "route_plan")
    s = next(s for s in samples if labels_of(s)[0] == "cabinet")
    # facing north: bear left to the pillar's west corner, right along it, right again to the sofa
    assert correct_text(s) == "Turn left, Turn right, Turn right"


def test_route_plan_skips_two_equally_short_routes_that_turn_differently():
    # the pillar spans x 1-5: west and east are equally short and mirror each other's turns
    assert [s for s in run(pillar_scene(1.0, 5.0), "route_plan") if labels_of(s)[0] == "cabinet"] == []


def test_turn_words_have_clear_margins():
    assert turn_word(90) == "turn left" and turn_word(-60) == "turn right" and turn_word(170) == "turn back"
    assert turn_word(20) is None and turn_word(-130) is None  # near straight; near the 135-degree boundary


# --- multi_hop_relation --------------------------------------------------------------------------------------


def hop_scene(lamp=(-2.0, 2.0), plant=(-3.5, 2.0)):
    """Standing at the bed (0, 0) facing the door (0, 4): the lamp is on the left, the desk on the right.
    Option labels have two instances each, so only bed, door, lamp and desk can be named in hop 1."""
    places = [
        ("bed", (0, 0)),
        ("door", (0, 4)),
        ("lamp", lamp),
        ("desk", (2, 2)),
        ("chair", (-2, 3)),  # 0.6 m from the lamp
        ("chair", (-6, -4)),
        ("tv", (2, 3)),  # 0.6 m from the desk
        ("tv", (6, -4)),
        ("plant", plant),  # 1.1 m from the lamp
        ("plant", (-6, 6)),
        ("sink", (0, 2)),  # 1.6 m from both
        ("sink", (6, 6)),
    ]
    objects = [
        box_object(i + 1, lab, (x, y, 0.4), (0.4, 0.4, 0.8), n=120) for i, (lab, (x, y)) in enumerate(places)
    ]
    return make_facts(objects, visibility=all_visible(objects))


def test_multi_hop_relation_composes_side_and_distance():
    samples = run(hop_scene(), "multi_hop_relation")
    from_bed = [s for s in samples if labels_of(s)[:2] == ["bed", "door"]]
    assert {labels_of(s)[2] for s in from_bed} == {"lamp", "desk"}  # both sides were asked
    for s in from_bed:
        target = labels_of(s)[2]
        side = "left" if target == "lamp" else "right"
        assert f"your {side}" in s["question"] or f"my {side}" in s["question"]
        assert correct_text(s) == ("chair" if target == "lamp" else "tv")
        assert len(s["options"]) == 4
    # a wrong first hop leads to an offered option: asked about the lamp, the desk's neighbour is offered
    lamp = next(s for s in from_bed if labels_of(s)[2] == "lamp")
    assert "tv" in [o[3:] for o in lamp["options"]]


def test_multi_hop_relation_skips_a_failing_hop():
    # allocentric hop: the lamp almost straight ahead of the bed (6 deg): never named as a side object from the bed
    samples = run(hop_scene(lamp=(-0.3, 3.0)), "multi_hop_relation")
    assert not [s for s in samples if labels_of(s)[:2] == ["bed", "door"] and "lamp" in labels_of(s)[2:4]]
    # distance hop: a plant as close to the lamp as the chair: no question targets the lamp
    samples = run(hop_scene(plant=(-2.0, 1.0)), "multi_hop_relation")
    assert not [s for s in samples if labels_of(s)[2] == "lamp"]


def test_appearance_order_uses_a_later_stretch_when_the_first_frame_shows_everything():
    """40 frames 1 s apart. Every label shows in frames 0-9 (all "first seen" at 0 s in the whole video), then
    again from frames 20 (bed), 25 (chair), 30 (tv) and 35 (lamp): only a video starting after frame 9 orders
    them."""
    labels = ["bed", "chair", "tv", "lamp"]
    objects = [box_object(i + 1, lab, (i, 2, 0.4), (0.4, 0.4, 0.8)) for i, lab in enumerate(labels)]
    frames = [frame(i, (0, -3, 1.5), (0, 0, 1)) for i in range(40)]
    vis = empty_visibility(40, len(objects))
    vis.visible[:10] = True
    for o, f in enumerate([20, 25, 30, 35]):
        vis.visible[f:, o] = True
    facts = make_facts(objects, frames, visibility=vis, first_appearance=np.zeros(4, dtype=int))
    samples = run(facts, "appearance_order")
    assert len(samples) == 1  # one label set: asked once, whatever the window
    s = samples[0]
    assert correct_text(s) == "bed, chair, tv, lamp"
    assert min(s["facts"]["frames"]) >= 10  # the video starts after the frames that show everything at once
    seen = s["facts"]["first_seen_s"]
    assert np.all(np.diff(list(seen.values())) >= 1.0)


def test_multi_hop_relation_skips_when_both_side_objects_share_their_nearest_label():
    # a chair next to the desk too: "closest to the one on your left/right" is the chair either way, so a
    # text-only reader would not need the first hop (and the option set could not hold a wrong-hop neighbour)
    samples = run(hop_scene(), "multi_hop_relation")
    assert [s for s in samples if labels_of(s)[:2] == ["bed", "door"]]
    objects = hop_scene().objects
    objects[5] = box_object(6, "chair", (2.0, 1.4, 0.4), (0.4, 0.4, 0.8), n=120)  # 0.2 m from the desk
    samples = run(make_facts(objects, visibility=all_visible(objects)), "multi_hop_relation")
    assert not [s for s in samples if labels_of(s)[:2] == ["bed", "door"]]


def test_multi_hop_relation_on_a_busy_scene():
    # 30 single-instance objects: ~650k quads considered (its speed is measured by `make bench`, not here)
    rng = np.random.default_rng(5)
    objects = [
        box_object(i + 1, f"thing{i}", (*rng.uniform(0, 6, 2), 0.4), (0.3, 0.3, 0.8), n=60) for i in range(30)
    ]
    facts = make_facts(objects, visibility=all_visible(objects))
    samples = run(facts, "multi_hop_relation", quota=120)
    assert 0 < len(samples) <= 120


def test_route_plan_names_a_landmark_at_a_corner_and_can_open_without_a_turn():
    # the L corridor north then east; a plant stands just outside the corner, a tv far straight ahead (north)
    places = {**corridor_places(90.0), "plant": (0.6, 3.4), "tv": (1.0, 6.5)}
    facts = route_scene(corridor(90.0), places)
    opened_straight = landmark_legs = 0
    for seed in range(8):
        for s in run(facts, "route_plan", seed=seed):
            start, facing, goal = labels_of(s)[:3]
            if (start, goal) != ("cabinet", "sofa"):
                continue
            assert s["facts"]["landmarks"] == ["plant"]  # the first leg ends at the corner by the plant
            assert "Go forward until the plant." in s["question"]
            landmark_legs += 1
            if facing == "tv":  # the first leg points at the tv: no turn first, then right at the corner
                assert correct_text(s) == "Turn right"
                assert (
                    "1. Go forward until the plant. 2. [please fill in] 3. Go forward until the sofa."
                    in s["question"]
                )
                assert s["facts"]["opens_with_turn"] is False
                opened_straight += 1
            elif facing == "lamp":  # facing east: turn left into the corridor first
                assert correct_text(s) == "Turn left, Turn right"
    assert landmark_legs >= 4 and opened_straight >= 1
