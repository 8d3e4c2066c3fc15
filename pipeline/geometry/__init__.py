"""The geometry stage: `Scene` -> `SceneFacts` (objects and boxes, floor, distances, visibility, views).

Heavy geometry and the CPU/CUDA choice live here and nowhere else. The pipeline schedules it with `RESOURCES`
(add a GPU fraction when `gpu_available()`). Only the config is imported eagerly: the stage pulls scipy and Open3D,
which a facts-cache hit (`sicorpus generate` on a cached scene) never needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from pipeline.geometry.config import GeometryConfig

_LAZY = {
    "gpu_available": "pipeline.geometry.device",
    "object_facts": "pipeline.geometry.objects",
    "RESOURCES": "pipeline.geometry.stage",
    "compute_facts": "pipeline.geometry.stage",
    "memory_estimate": "pipeline.geometry.stage",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pipeline.geometry' has no attribute {name!r}")


__all__ = ["RESOURCES", "GeometryConfig", "compute_facts", "gpu_available", "memory_estimate", "object_facts"]
