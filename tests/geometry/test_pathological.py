"""A scene with thousands of objects (a broken aggregation) fails fast with a reason instead of stalling."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pipeline.geometry import GeometryConfig, compute_facts
from pipeline.geometry.stage import check_object_count
from sources.scene import ObjectAnnotation, SceneError
from tests.geometry.synthetic import make_scene


def over_segmented(n: int):
    """The synthetic room with every vertex dealt round-robin into `n` objects (each segment its own object)."""
    scene = make_scene()
    scene.vertex_instance = (np.arange(len(scene.vertices)) % n).astype(np.int32)
    scene.objects = [ObjectAnnotation(i, "box", "box") for i in range(n)]
    return scene


def test_thousands_of_objects_fail_the_scene_at_once():
    scene = over_segmented(3000)
    start = time.perf_counter()
    with pytest.raises(SceneError, match=r"3000 annotated objects own vertices, more than max_objects=500"):
        compute_facts(scene, GeometryConfig(device="cpu"))
    assert time.perf_counter() - start < 5  # before any per-object or per-pair work


def test_the_limit_counts_only_objects_that_own_vertices_and_is_a_setting():
    scene = over_segmented(40)
    scene.objects += [ObjectAnnotation(1000 + i, "ghost", "ghost") for i in range(600)]  # no vertices
    check_object_count(scene, 40)
    with pytest.raises(SceneError, match="max_objects=39"):
        check_object_count(scene, 39)
