"""The optimised observation path (frustum culling, partial sorts, rays cast only where points land) gives the
same facts as a straightforward reference: every point projected, per-object loops, a full raycast."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry import GeometryConfig, compute_facts
from pipeline.geometry.culling import CulledCloud
from pipeline.geometry.device import NumpyBackend
from pipeline.geometry.objects import scene_objects
from pipeline.geometry.projection import (
    DEPTH_TOLERANCE_M,
    DEPTH_TOLERANCE_REL,
    depth_test,
    normalised_uv,
    world_to_camera,
)
from pipeline.geometry.views import TURNS_DEG, MeshRaycaster, turned_pose
from pipeline.geometry.visibility import MIN_VISIBLE_POINTS, MIN_VISIBLE_SHARE, OCCLUSION_GRID
from tests.geometry.synthetic import make_scene


def reference_row(
    point_sets: list[np.ndarray], hit: np.ndarray, in_frustum: np.ndarray, cam: np.ndarray, image
):
    """One frame's measurements, object by object, from every point (no culling, no grouping tricks)."""
    owner = np.repeat(np.arange(len(point_sets)), [len(p) for p in point_sets])
    cam = cam.astype(np.float64)
    uv = np.where(in_frustum[:, None], normalised_uv(cam, image), 0.5)
    width, height = OCCLUSION_GRID
    grid_uv = np.clip(uv, 0.0, 1.0 - 1e-9)
    cell = (grid_uv[:, 1] * height).astype(np.int64) * width + (grid_uv[:, 0] * width).astype(np.int64)
    front: dict[int, int] = {}  # cell -> nearest in-frustum point (the first one at equal depth)
    for k in np.flatnonzero(in_frustum):
        best = front.get(cell[k])
        if best is None or cam[k, 2] < cam[best, 2]:
            front[cell[k]] = k
    rows = []
    for o, points in enumerate(point_sets):
        mine = owner == o
        hits, inside = int((hit & mine).sum()), np.flatnonzero(in_frustum & mine)
        hidden = [
            owner[front[cell[k]]] != o
            and cam[front[cell[k]], 2] < cam[k, 2] - max(DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL * cam[k, 2])
            for k in inside
        ]
        row = {
            "visible": hits > 0 and hits >= max(MIN_VISIBLE_SHARE * len(points), MIN_VISIBLE_POINTS),
            "visible_fraction": hits / len(points),
            "in_frustum_fraction": len(inside) / len(points),
            "occluded_by_other": float(np.mean(hidden)) if len(inside) else 0.0,
        }
        seen = hit & mine
        if hits:
            uv_hit = np.clip(uv[seen], 0.0, 1.0)
            row["bbox"] = [*uv_hit.min(axis=0), *uv_hit.max(axis=0)]
            row["mean_uv"] = uv_hit.mean(axis=0)
            row["depth"] = np.median(cam[seen, 2])
            row["min_distance"] = np.linalg.norm(cam[seen], axis=1).min()
        rows.append(row)
    return rows


@pytest.fixture(scope="module")
def scene_and_facts():
    scene = make_scene()
    return scene, compute_facts(make_scene(), GeometryConfig(device="cpu", virtual_view_frames=10))


def test_culled_frames_equal_the_reference(scene_and_facts):
    scene, facts = scene_and_facts
    point_sets = [o.points for o in scene_objects(scene)]
    points = np.concatenate(point_sets)
    cloud = CulledCloud.build(point_sets)
    culled_somewhere = False
    vis = facts.visibility
    for f, frame in enumerate(facts.frames):
        depth = scene.store.depth(frame.index)
        w2c = world_to_camera(frame.pose)
        culled_somewhere |= len(cloud.select(w2c, scene.depth_camera, depth.shape)) < len(points)
        full = depth_test(NumpyBackend(), points, w2c, scene.depth_camera, depth)
        for o, row in enumerate(
            reference_row(point_sets, full.hit, full.in_frustum, full.cam, scene.color_camera)
        ):
            for name in ("visible", "visible_fraction", "in_frustum_fraction", "occluded_by_other"):
                assert getattr(vis, name)[f, o] == row[name], (f, o, name)
            if "bbox" in row:
                assert vis.bbox[f, o].tolist() == row["bbox"]
                assert vis.depth[f, o] == row["depth"] and vis.min_distance[f, o] == row["min_distance"]
                assert vis.center_x[f, o] == pytest.approx(row["mean_uv"][0], abs=1e-12)  # sum order only
            else:
                assert np.isnan(vis.bbox[f, o]).all() and np.isnan(vis.depth[f, o])
    assert culled_somewhere  # the comparison exercised the culling, not only the everything-kept path


def test_virtual_views_equal_a_full_raycast(scene_and_facts):
    scene, facts = scene_and_facts
    point_sets = [o.points for o in scene_objects(scene)]
    points = np.concatenate(point_sets)
    raycaster = MeshRaycaster(scene.vertices, scene.faces)
    camera = scene.depth_camera.scaled_to(*GeometryConfig().virtual_view_size)
    assert facts.virtual_views
    for position, turns in facts.virtual_views.items():
        for yaw in TURNS_DEG:
            pose = turned_pose(facts.frames[position].pose, yaw)
            full = depth_test(
                NumpyBackend(), points, world_to_camera(pose), camera, raycaster.depth(pose, camera)
            )
            rows = reference_row(point_sets, full.hit, full.in_frustum, full.cam, camera)
            expected = [
                (o, row["visible_fraction"], float(np.linalg.norm(row["mean_uv"] - 0.5)))
                for o, row in enumerate(rows)
                if row["visible"]
            ]
            got = turns[yaw]
            assert [o for o, _, _ in got] == [o for o, _, _ in expected]
            for (_, fraction, off), (_, want_fraction, want_off) in zip(got, expected, strict=True):
                assert fraction == want_fraction and off == pytest.approx(want_off, abs=1e-12)


def test_equal_nearest_depths_go_to_the_point_first_in_the_original_order():
    from pipeline.geometry.visibility import occluded_by_other

    own, uv, z = np.array([0, 1, 0]), np.full((3, 2), 0.5), np.array([2.0, 2.0, 3.0])
    # Object 1's point ranks first: it owns the cell, so object 0's far point counts as hidden by another.
    assert occluded_by_other(own, uv, z, np.array([5, 1, 2]), 2).tolist() == [0.5, 0.0]
    assert occluded_by_other(own, uv, z, np.array([0, 1, 2]), 2).tolist() == [0.0, 0.0]
