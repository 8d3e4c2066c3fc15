"""start_ray starts quietly; stop_ray: the local instance start_ray started goes away whole, its autoscaler
monitor included."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, ray
from pipeline.ray_session import start_ray, stop_ray

assert start_ray(1, None)
node = ray._private.worker._global_node
pids = {kind: [i.process.pid for i in infos] for kind, infos in node.all_processes.items()}
stop_ray()
print(json.dumps({"initialized": ray.is_initialized(), "pids": pids}))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:  # killed but not yet reaped by init: a zombie is gone too
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:  # reaped in between
        return False


def test_stop_ray_leaves_no_ray_process_behind():
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_MODE")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["initialized"] is False
    # the monitor is the process stop_ray kills itself; if a Ray release renames it, this says so
    assert result["pids"].get("monitor"), result["pids"]
    alive = {kind: pid for kind, pids in result["pids"].items() for pid in pids if _alive(pid)}
    assert alive == {}
    # neither the token-auth opt-out advice nor "Started a local Ray instance" reaches a build's console
    assert "Token authentication" not in done.stderr and " INFO " not in done.stderr, done.stderr
