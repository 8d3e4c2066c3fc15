"""The promises under stress: a build killed with SIGKILL resumes to the same bytes; a two-node cluster agrees."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shards.writer import read_shard
from tests.pipeline.test_build import corpus_digest

REPO = Path(__file__).resolve().parents[2]


def build_cmd(root: Path, out: Path, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pipeline.cli",
        "build",
        "--root",
        str(root),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--no-progress",
    ]


def test_sigkill_of_the_whole_process_group_then_resume_equals_uninterrupted(
    demo_root: Path, corpus: Path, tmp_path: Path
):
    out = tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    proc = subprocess.Popen(
        build_cmd(demo_root, out),
        cwd=REPO,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while (
        time.time() < deadline and proc.poll() is None and not list((out / "shards").glob("qa-*.done.json"))
    ):
        time.sleep(0.2)
    failed = [p.read_text() for p in (out / "rejects" / "scenes").glob("*.json")]
    assert not failed, failed[0]
    os.killpg(proc.pid, signal.SIGKILL)  # mid-build: the first scene committed, the second in flight
    proc.wait()
    assert list((out / "shards").glob("qa-*.done.json")), "the build did not commit a scene in time"
    assert not (out / "manifest.json").exists()
    result = subprocess.run(
        build_cmd(demo_root, out, workers=2), cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert corpus_digest(out) == corpus_digest(corpus)
    # No partial file is ever visible under a final name: every visible shard is committed and readable. (A
    # worker orphaned by the kill may still write a hidden temporary for a moment; the build removes those at
    # its start and end, but an orphan can outlive both by a few milliseconds, so they are not asserted here.)
    for tar in (out / "shards").glob("qa-*.tar"):
        assert tar.with_suffix(".done.json").exists() and read_shard(tar)


CLUSTER_SCRIPT = """
import sys
from pathlib import Path
import ray
from ray.cluster_utils import Cluster
from pipeline.build import run_build
from pipeline.config import BuildConfig

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
cluster.add_node(num_cpus=1)
ray.init(address=cluster.address, log_to_driver=False)
assert len([n for n in ray.nodes() if n["Alive"]]) == 2
run_build(BuildConfig(root=Path(sys.argv[1]), out=Path(sys.argv[2])), workers=2, show_progress=False)
ray.shutdown()
cluster.shutdown()
"""


def test_simulated_two_node_cluster_build_equals_local(demo_root: Path, corpus: Path, tmp_path: Path):
    out = tmp_path / "cluster"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    result = subprocess.run(
        [sys.executable, "-c", CLUSTER_SCRIPT, str(demo_root), str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert corpus_digest(out) == corpus_digest(corpus)
