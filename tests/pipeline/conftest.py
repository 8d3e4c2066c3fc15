from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.build import run_build
from pipeline.config import BuildConfig


@pytest.fixture(scope="session")
def corpus(demo_root: Path, ray_cluster, tmp_path_factory) -> Path:
    """The demo corpus built once with 2 workers: the reference the other builds must equal byte for byte."""
    out = tmp_path_factory.mktemp("corpus")
    run_build(BuildConfig(root=demo_root, out=out), workers=2, show_progress=False)
    return out
