"""Starting or joining Ray, and stopping what we started: the one way the build and ingest do it."""

from __future__ import annotations

import logging
import os
import subprocess

_TOKEN_SETUP_LOGGER = "ray._private.authentication.authentication_token_setup"


def _drop_token_auth_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("Token authentication is enabled")


def start_ray(workers: int | None, address: str | None) -> bool:
    """Join `address` (or RAY_ADDRESS) when given, else start a local instance of `workers` CPUs; True when this
    call started Ray (the caller shuts it down). Already initialised (tests, notebooks): used as it is.

    A local instance starts quietly: Ray's INFO lines ("Started a local Ray instance") are dropped, as the
    build's own progress says what happens; Ray's warnings still show."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)  # Ray says which cluster it joined: worth a line
    else:
        # Ray 2.60 turns token authentication on for a new local instance and warns, every time, how to opt
        # out: advice about Ray, not about the build. Only that notice is dropped (a renamed logger shows it).
        logging.getLogger(_TOKEN_SETUP_LOGGER).addFilter(_drop_token_auth_notice)
        # "local": a fresh instance even when another Ray runs on this machine (never join one by accident)
        ray.init(
            address="local",
            num_cpus=workers or os.cpu_count() or 1,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    return True


def stop_ray() -> None:
    """`ray.shutdown()` of the instance `start_ray` started, a second sooner.

    Ray stops its processes one after another, each with SIGTERM and up to a second before SIGKILL. Its
    autoscaler monitor (useless to a local build) never makes that second: its SIGTERM handler reports the
    "failure" to the GCS, which is already gone, so every shutdown waited a full second and then killed it
    (measured: 1.0 of 1.4 s). We kill it at once, which is the end Ray reaches anyway. The monitor is found
    through Ray's private node object; should a Ray release rename it, this does nothing and the shutdown only
    takes its second again."""
    import ray

    node = getattr(getattr(ray, "_private", None), "worker", None)
    node = getattr(node, "_global_node", None)
    processes = getattr(node, "all_processes", None) or {}
    for info in processes.get("monitor", []):
        process = getattr(info, "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # stuck in the kernel: Ray's own shutdown deals with it
                pass
    ray.shutdown()
