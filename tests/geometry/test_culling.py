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
from pipeline.geometry.visibility import MIN_VISIBLE_POINTS, MIN_VISIBLE_SHARE
from tests.geometry.synthetic import make_scene


def reference_hidden(scene, point_sets: list[np.ndarray], origin: np.ndarray, cam: np.ndarray) -> np.ndarray:
    """Per point, hidden by another object: a unit-direction ray towards it, its hit distance compared with the
    point's, the hit triangle's owner by vote of its three vertices (the synthetic boxes never share a
    triangle, so the vote is unanimous)."""
    import open3d as o3d
    import open3d.core as o3c

    ids = [o.instance_id for o in scene_objects(scene)]
    owner_of = {i: k for k, i in enumerate(ids)}
    vertex_owner = np.array([owner_of.get(int(i), -1) for i in scene.vertex_instance])
    mesh = o3d.t.geometry.RaycastingScene()
    mesh.add_triangles(
        o3c.Tensor(scene.vertices.astype(np.float32)), o3c.Tensor(scene.faces.astype(np.uint32))
    )
    points = np.concatenate(point_sets).astype(np.float64)
    owner = np.repeat(np.arange(len(point_sets)), [len(p) for p in point_sets])
    distance = np.linalg.norm(points - origin, axis=1)
    rays = np.concatenate(
        [np.broadcast_to(origin, points.shape), (points - origin) / distance[:, None]], axis=1
    )
    hits = mesh.cast_rays(o3c.Tensor(rays.astype(np.float32)))
    t, triangle = hits["t_hit"].numpy(), hits["primitive_ids"].numpy()
    z = np.where(cam[:, 2] > 0, cam[:, 2], 1.0).astype(np.float64)  # only in-frustum points are read
    tolerance = np.maximum(DEPTH_TOLERANCE_M, DEPTH_TOLERANCE_REL * z) * distance / z  # along the ray
    hidden = np.zeros(len(points), dtype=bool)
    for k in np.flatnonzero(np.isfinite(t) & (t < distance - tolerance)):
        votes = vertex_owner[scene.faces[triangle[k]]]
        hidden[k] = np.bincount(votes + 1).argmax() - 1 != owner[k]
    return hidden


def reference_row(
    point_sets: list[np.ndarray],
    hit: np.ndarray,
    in_frustum: np.ndarray,
    cam: np.ndarray,
    image,
    hidden: np.ndarray | None = None,
):
    """One frame's measurements, object by object, from every point (no culling, no grouping tricks)."""
    owner = np.repeat(np.arange(len(point_sets)), [len(p) for p in point_sets])
    cam = cam.astype(np.float64)
    uv = np.where(in_frustum[:, None], normalised_uv(cam, image), 0.5)
    hidden = np.zeros(len(owner), dtype=bool) if hidden is None else hidden
    rows = []
    for o, points in enumerate(point_sets):
        mine = owner == o
        hits, inside = int((hit & mine).sum()), np.flatnonzero(in_frustum & mine)
        row = {
            "visible": hits > 0 and hits >= max(MIN_VISIBLE_SHARE * len(points), MIN_VISIBLE_POINTS),
            "visible_fraction": hits / len(points),
            "in_frustum_fraction": len(inside) / len(points),
            "occluded_by_other": float(np.mean(hidden[inside])) if len(inside) else 0.0,
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
        hidden = reference_hidden(scene, point_sets, frame.pose[:3, 3], full.cam) & ~full.hit
        for o, row in enumerate(
            reference_row(point_sets, full.hit, full.in_frustum, full.cam, scene.color_camera, hidden)
        ):
            for name in ("visible", "visible_fraction", "in_frustum_fraction"):
                assert getattr(vis, name)[f, o] == row[name], (f, o, name)
            # float32 rays of another length: a point at the tolerance edge may flip
            assert vis.occluded_by_other[f, o] == pytest.approx(row["occluded_by_other"], abs=0.01), (f, o)
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
