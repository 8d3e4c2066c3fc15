"""One BLAS kernel everywhere (pipeline/numerics.py): kernels differ in the last bits, so bytes would too."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.facts_cache import geometry_settings
from pipeline.geometry import GeometryConfig
from pipeline.numerics import PINNED_KERNEL, blas_kernel
from pipeline.summary import UNRECORDED_KERNEL, warning_lines

REPO = Path(__file__).resolve().parents[2]
x86_only = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="OpenBLAS kernels named here are x86-64's"
)


def _kernel_in_fresh_process(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"} | env
    code = "import pipeline, numpy\nfrom pipeline.numerics import blas_kernel\nprint(blas_kernel())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=environ, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@x86_only
def test_importing_the_pipeline_first_loads_the_pinned_kernel_and_keeps_a_users_own():
    assert _kernel_in_fresh_process() == f"openblas {PINNED_KERNEL}"
    assert _kernel_in_fresh_process(OPENBLAS_CORETYPE="Sandybridge") == "openblas Sandybridge"


@x86_only
def test_this_process_and_the_ray_workers_it_starts_run_the_pinned_kernel(ray_cluster):
    import ray

    assert blas_kernel() == f"openblas {PINNED_KERNEL}"  # conftest imports the pipeline first

    @ray.remote(num_cpus=1)
    def worker_kernel() -> str:
        import numpy  # noqa: F401

        return blas_kernel()

    assert ray.get(worker_kernel.remote()) == f"openblas {PINNED_KERNEL}"


def test_the_kernel_is_part_of_the_facts_key():
    assert geometry_settings(GeometryConfig(), {})["numerics.blas"] == blas_kernel()


def test_a_build_whose_scenes_saw_two_kernels_says_so():
    one = [{"scene_id": f"s{i}", "status": "ok", "blas": "openblas Nehalem"} for i in range(3)]
    assert warning_lines(one) == []
    failed = {"scene_id": "f", "status": "failed", "blas": "openblas Haswell"}  # wrote no samples
    assert warning_lines([*one, failed]) == []
    mixed = [*one, {"scene_id": "s9", "status": "ok", "blas": "openblas SkylakeX"}, failed]
    (line,) = warning_lines(mixed)
    assert line.startswith("warning: scenes were computed with 2 BLAS kernels (openblas Nehalem for 3 scenes")
    assert "openblas SkylakeX for 1 scene: s9" in line and f"OPENBLAS_CORETYPE={PINNED_KERNEL}" in line


def test_a_build_resumed_across_the_kernel_record_says_so():
    old = [{"scene_id": f"old{i}", "status": "ok"} for i in range(2)]  # built before scenes recorded `blas`
    assert warning_lines(old) == []  # nothing is known: nothing to say
    (line,) = warning_lines([*old, {"scene_id": "new", "status": "ok", "blas": "openblas Nehalem"}])
    assert "2 BLAS kernels" in line and f"{UNRECORDED_KERNEL} for 2 scenes: old0, old1" in line
