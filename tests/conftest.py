"""Shared fixtures: demo scenes written by `sicorpus make-demo` (the fixture factory) and one Ray cluster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import pipeline  # noqa: F401  first: it fixes the BLAS kernel before anything loads numpy (pipeline/numerics.py)

# Builds in tests compute their facts (a test that fakes a geometry failure must not hit a cached entry); the
# facts-cache tests switch it on for themselves. Set before Ray starts, so workers inherit it.
os.environ["SICORPUS_CACHE"] = "off"

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "scannet"
if os.environ.get("SICORPUS_FIXTURES"):
    FIXTURES = Path(os.environ["SICORPUS_FIXTURES"])


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """The licensed real ScanNet fixtures, read in place; tests using them skip when the folder is absent."""
    if not FIXTURES.is_dir():
        pytest.skip(f"real ScanNet fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small demo scenes in ScanNet v2 layout (enough for every subtask), written once per session."""
    from sources.demo import make_demo

    root = tmp_path_factory.mktemp("demo")
    make_demo(root, scenes=3, seed=0, frames=40, vertices=20000)
    return root


@pytest.fixture(scope="session")
def small_layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """layout -> root of one small room (4 frames, ~6k vertices) in that layout; two ARKit videos (Down, Left)."""
    from sources.demo import make_demo

    roots = {}
    for layout, scenes in (("scannetpp", 1), ("arkitscenes", 2)):
        roots[layout] = tmp_path_factory.mktemp(f"small-{layout}")
        make_demo(roots[layout], scenes=scenes, seed=0, frames=4, vertices=6000, layout=layout)
    return roots


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray instance for the whole session (ray.init costs seconds)."""
    import ray

    # address="local": always a new instance of its own, never another process's (a parallel test worker's)
    ray.init(
        address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True
    )
    yield
    from pipeline.ray_session import stop_ray

    stop_ray()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`gpu` tests need Open3D's CUDA device: skipped in one place when there is none (CI has none)."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_items:
        return
    from pipeline.geometry import gpu_available

    if not gpu_available():
        skip = pytest.mark.skip(reason="no CUDA device (Open3D sees none)")
        for item in gpu_items:
            item.add_marker(skip)
