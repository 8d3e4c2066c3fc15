"""The device comparison of pipeline/bench_device.py: the CUDA path's code (Open3D tensors, here on the CPU
device) agrees with numpy within the tolerances, and a real disagreement is reported."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from pipeline.bench_device import facts_differences, main, tolerance_failures
from pipeline.geometry import GeometryConfig
from pipeline.geometry.device import NumpyBackend, Open3DBackend
from pipeline.geometry.stage import compute_facts
from tests.geometry.synthetic import make_scene


@pytest.fixture(scope="module")
def both_paths():
    scene = make_scene()
    config = GeometryConfig(virtual_view_frames=2)
    return compute_facts(scene, config, NumpyBackend()), compute_facts(scene, config, Open3DBackend("CPU:0"))


def test_the_tensor_path_agrees_with_numpy_within_tolerance(both_paths) -> None:
    numpy_facts, tensor_facts = both_paths
    assert numpy_facts.visibility.visible.any()
    assert tolerance_failures(facts_differences(numpy_facts, tensor_facts)) == []


def test_identical_facts_differ_nowhere(both_paths) -> None:
    facts = both_paths[0]
    assert set(facts_differences(facts, copy.deepcopy(facts)).values()) == {0.0}


def test_a_flipped_visibility_and_a_moved_depth_are_reported(both_paths) -> None:
    facts = both_paths[0]
    other = copy.deepcopy(facts)
    other.visibility.visible[0] = ~other.visibility.visible[0]  # every object of one frame
    seen = np.isfinite(other.visibility.depth)
    other.visibility.depth[seen] += 0.01
    failures = tolerance_failures(facts_differences(facts, other))
    assert any(f.startswith("visible: flipped share") for f in failures)
    assert any(f.startswith("depth and min distance") for f in failures)


def test_the_script_prints_both_paths_and_exits_0_when_they_agree(demo_root: Path, capsys) -> None:
    assert (
        main(["--data", str(demo_root), "--scenes", "1", "--repeats", "1", "--devices", "cpu,cpu-tensor"])
        == 0
    )
    out = capsys.readouterr().out
    assert "occlusion raycasts (Embree)" in out and "cpu-tensor" in out
    assert "agree within tolerance" in out
