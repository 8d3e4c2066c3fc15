"""Occlusion by another object is decided per point by a raycast against the instance-labelled mesh
(docs/geometry.md "Occlusion"); hand-built rooms whose answers are known by construction."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from generators.base import GenContext, GenerationConfig
from generators.registry import RULES, _load_rules
from pipeline.geometry import GeometryConfig, compute_facts
from pipeline.geometry.objects import scene_objects
from pipeline.geometry.occlusion import NOT_AN_OBJECT, tile_order, vertex_owners
from tests.geometry.conftest import position
from tests.geometry.synthetic import look_at, make_scene

# A pillow lying on a long bed, seen from the foot of the bed at three heights (the 64x48 grid this replaces
# called it 23-39 % "hidden behind the bed"); a crate whose middle is behind a narrow panel; a lamp and a stool
# in plain sight.
BEDROOM = {
    "bed": ((4.3, 2.0, 0.25), (2.4, 1.0, 0.5), 0.0),
    "pillow": ((5.1, 2.0, 0.575), (0.4, 0.6, 0.15), 0.0),
    "panel": ((3.5, 0.9, 0.6), (0.05, 0.25, 1.2), 0.0),
    "crate": ((4.5, 0.55, 0.3), (0.5, 0.5, 0.6), 0.0),
    "lamp": ((2.6, 2.7, 0.6), (0.3, 0.3, 1.2), 0.0),
    "stool": ((2.0, 1.8, 0.225), (0.3, 0.3, 0.45), 0.0),
}
POSES = [look_at((0.3, 2.0, h), (4.0, 1.6, 0.5)) for h in (0.75, 0.9, 1.2)]


@pytest.fixture(scope="module")
def bedroom():
    scene = make_scene(boxes=BEDROOM, poses=POSES, empty=set())
    return scene, compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))


def test_an_object_resting_on_a_larger_one_in_full_view_is_not_hidden(bedroom):
    _, facts = bedroom
    vis, pillow = facts.visibility, position(facts, "pillow")
    assert vis.in_frustum_fraction[:, pillow].min() == 1.0 and vis.visible[:, pillow].all()
    assert vis.occluded_by_other[:, pillow].max() == 0.0
    for label in ("lamp", "stool", "panel"):  # in plain sight
        assert vis.occluded_by_other[:, position(facts, label)].max() == 0.0, label


def test_the_hidden_middle_of_an_object_behind_a_panel_is_measured(bedroom):
    _, facts = bedroom
    crate = position(facts, "crate")
    # the panel (0.25 m wide, 1 m nearer) covers about half of the crate's front as seen from the bed's foot
    assert (
        0.35
        < facts.visibility.occluded_by_other[:, crate].min()
        <= facts.visibility.occluded_by_other[:, crate].max()
        < 0.6
    )


def test_the_occlusion_rule_names_the_crate_and_never_the_pillow(bedroom):
    _, facts = bedroom
    _load_rules()
    ctx = GenContext(np.random.default_rng(0), "occlusion", GenerationConfig())
    drafts = list(RULES["occlusion"](facts, ctx))
    assert drafts and {d.choices[0] for d in drafts} == {
        "crate"
    }  # the answer is choices[0]; never the pillow


def test_a_hidden_share_never_exceeds_what_the_depth_map_misses(bedroom):
    """Points the depth map sees are in plain sight, so hidden-by-another <= 1 - visible / in-frustum."""
    _, facts = bedroom
    vis = facts.visibility
    inside = vis.in_frustum_fraction > 0
    bound = (vis.in_frustum_fraction - vis.visible_fraction)[inside] / vis.in_frustum_fraction[inside]
    assert (vis.occluded_by_other[inside] <= bound + 1e-9).all()


def test_vertex_owners_follow_object_positions_and_mark_unannotated_vertices(bedroom):
    scene, _ = bedroom
    objects = scene_objects(scene)
    owners = vertex_owners(scene, objects)
    for k, o in enumerate(objects):
        assert (owners[scene.vertex_instance == o.instance_id] == k).all()
    relabelled = dataclasses.replace(scene, vertex_instance=scene.vertex_instance.copy())
    relabelled.vertex_instance[:5] = 999  # an instance no object annotates
    assert (vertex_owners(relabelled, objects)[:5] == NOT_AN_OBJECT).all()


def test_a_scene_without_faces_leaves_occlusion_uncomputed():
    scene = make_scene(boxes=BEDROOM, poses=POSES[:1], empty=set())
    scene.faces = np.zeros((0, 3), dtype=np.int32)
    facts = compute_facts(scene, GeometryConfig(device="cpu", virtual_view_frames=0))
    assert facts.visibility.occluded_by_other is None


@pytest.mark.parametrize("span", [5, 100, 400])  # 200 x 200 tiles fit 16 bits; 800 x 800 take the wide key
def test_the_cast_order_is_the_stable_row_major_order_of_the_tiles(span):
    rng = np.random.default_rng(span)
    rows, cols = rng.integers(-span, span, 5000), rng.integers(-span, span, 5000)
    assert np.array_equal(tile_order(rows, cols), np.lexsort((cols, rows)))
    assert len(tile_order(rows[:0], cols[:0])) == 0
