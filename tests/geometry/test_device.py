from __future__ import annotations

import numpy as np
import pytest

from pipeline.geometry import GeometryConfig, compute_facts, gpu_available
from pipeline.geometry.device import NumpyBackend, Open3DBackend, resolve_device
from pipeline.geometry.projection import depth_test, world_to_camera
from tests.geometry.synthetic import make_scene


def test_open3d_backend_agrees_with_numpy_on_the_same_kernel():
    scene = make_scene()
    points = scene.vertices.astype(np.float32)
    w2c = world_to_camera(scene.frames[0].pose)
    depth = scene.store.depth(0)
    cpu = depth_test(NumpyBackend(), points, w2c, scene.depth_camera, depth)
    o3d_backend = Open3DBackend("CPU:0")  # the CUDA path's code, run on the CPU device
    other = depth_test(o3d_backend, o3d_backend.asarray(points), w2c, scene.depth_camera, depth)
    assert np.abs(cpu.cam - other.cam).max() < 1e-5
    assert (cpu.in_frustum == other.in_frustum).mean() > 0.999  # float rounding at pixel borders only
    assert (cpu.hit == other.hit).mean() > 0.999
    assert cpu.hit.sum() > 1000


def test_device_resolution():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if gpu_available() else "cpu")
    with pytest.raises(ValueError):
        resolve_device("tpu")
    if not gpu_available():
        with pytest.raises(RuntimeError):
            resolve_device("cuda")


@pytest.mark.gpu
def test_cuda_facts_match_cpu_facts():
    cpu = compute_facts(make_scene(), GeometryConfig(device="cpu"))
    gpu = compute_facts(make_scene(), GeometryConfig(device="cuda"))
    # Same kernel in float32 on both: points on a pixel border or at the tolerance edge may flip.
    assert np.abs(cpu.visibility.visible_fraction - gpu.visibility.visible_fraction).max() < 0.01
    assert (cpu.visibility.visible == gpu.visibility.visible).all()
    assert np.nanmax(np.abs(cpu.visibility.depth - gpu.visibility.depth)) < 0.01
    assert np.abs(cpu.overlap - gpu.overlap).max() < 0.01
    assert (cpu.first_appearance == gpu.first_appearance).all()


def test_the_cuda_code_path_gives_the_cpu_facts(monkeypatch):
    """The whole stage (culling `take`, split kernel, partial raycasts) through Open3D tensors, on CPU:0."""
    import pipeline.geometry.stage as stage

    cpu = compute_facts(make_scene(), GeometryConfig(device="cpu", virtual_view_frames=4))
    monkeypatch.setattr(stage, "make_backend", lambda device: Open3DBackend("CPU:0"))
    other = compute_facts(make_scene(), GeometryConfig(device="cpu", virtual_view_frames=4))
    assert np.abs(cpu.visibility.visible_fraction - other.visibility.visible_fraction).max() < 0.01
    assert (cpu.visibility.visible == other.visibility.visible).all()
    assert np.nanmax(np.abs(cpu.visibility.depth - other.visibility.depth)) < 0.01
    assert np.abs(cpu.visibility.occluded_by_other - other.visibility.occluded_by_other).max() < 0.01
    assert np.abs(cpu.overlap - other.overlap).max() < 0.01
    assert {p: {y: [o for o, _, _ in v] for y, v in t.items()} for p, t in cpu.virtual_views.items()} == {
        p: {y: [o for o, _, _ in v] for y, v in t.items()} for p, t in other.virtual_views.items()
    }
