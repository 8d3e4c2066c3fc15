"""A build over the real ScanNet fixtures (read in place): unannotated scenes fail cleanly, the build says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_build_over_real_unannotated_scenes_reports_each_and_exits_3(
    real_fixtures: Path, ray_cluster, tmp_path: Path
):
    out = tmp_path / "real"
    result = subprocess.run(
        [
            *[sys.executable, "-m", "pipeline.cli"],
            "build",
            "--root",
            str(real_fixtures),
            "--out",
            str(out),
            "--scenes",
            "scene0470_00,scene0707_00",
            "--split",
            "all",  # scene0707_00 is a ScanNet test scan
            "--workers",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 3, result.stderr  # completed, with failed scenes
    assert "Traceback" not in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    reasons = {r["scene_id"]: r["reason"] for r in manifest["scenes"]}
    assert set(reasons) == {"scene0470_00", "scene0707_00"}
    assert all("not annotated" in reason for reason in reasons.values()), reasons
    assert all(f"failed scene {sid}" in result.stderr for sid in reasons)
    assert not list(out.glob("shards/*.tar"))
