"""Small demo rooms in the ScanNet++ and ARKitScenes layouts, written once per session for the readers' tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def small_layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """layout -> root of one small room (4 frames, ~6k vertices) in that layout; two ARKit videos (Down, Left)."""
    from sources.demo import make_demo

    roots = {}
    for layout, scenes in (("scannetpp", 1), ("arkitscenes", 2)):
        roots[layout] = tmp_path_factory.mktemp(f"small-{layout}")
        make_demo(roots[layout], scenes=scenes, seed=0, frames=4, vertices=6000, layout=layout)
    return roots
