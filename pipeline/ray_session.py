"""Starting or joining Ray, the one way the build and ingest do it."""

from __future__ import annotations

import os


def start_ray(workers: int | None, address: str | None) -> bool:
    """Join `address` (or RAY_ADDRESS) when given, else start a local instance of `workers` CPUs; True when this
    call started Ray (the caller shuts it down). Already initialised (tests, notebooks): used as it is."""
    import ray

    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        # "local": a fresh instance even when another Ray runs on this machine (never join one by accident)
        ray.init(
            address="local",
            num_cpus=workers or os.cpu_count() or 1,
            include_dashboard=False,
            log_to_driver=False,
        )
    return True
