"""`sicorpus make-demo --layout` and `generate --source` for the ScanNet++ and ARKitScenes layouts, as users run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipeline.test_cli import run


@pytest.mark.slow
def test_make_demo_writes_a_layout_and_generate_reads_it(tmp_path: Path) -> None:
    root = tmp_path / "arkitscenes"  # one layout: the CLI option is a thin pass-through to make_demo(layout=)
    result = run(
        "make-demo",
        str(root),
        "--scenes",
        "1",
        "--frames",
        "3",
        "--vertices",
        "4000",
        "--layout",
        "arkitscenes",
    )
    assert result.returncode == 0, result.stderr
    assert (root / "3dod" / "metadata.csv").is_file()
    scene = "99000000"
    result = run(
        "generate", "metric_measurement", "--source", "arkitscenes", "--root", str(tmp_path / "arkitscenes"),
        "--scene", scene, "--subtask", "object_size",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    samples = [json.loads(line) for line in result.stdout.splitlines()]
    assert samples and all(s["source"] == "arkitscenes" and s["scene_id"] == scene for s in samples)


def test_unknown_layout_and_source_are_one_line_errors(tmp_path: Path) -> None:
    result = run("make-demo", str(tmp_path / "x"), "--layout", "matterport")
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "layout" in result.stderr
    result = run("build", "--source", "matterport", "--root", str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2 and result.stderr.startswith("error:") and "scannetpp" in result.stderr
