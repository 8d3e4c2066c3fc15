"""The geometry stage: `Scene` -> `SceneFacts` (objects and boxes, floor, distances, visibility, views).

Heavy geometry and the CPU/CUDA choice live here and nowhere else. The pipeline schedules it with `RESOURCES`
(add a GPU fraction when `gpu_available()`).
"""

from __future__ import annotations

from pipeline.geometry.config import GeometryConfig
from pipeline.geometry.device import gpu_available
from pipeline.geometry.objects import object_facts
from pipeline.geometry.stage import RESOURCES, compute_facts, memory_estimate

__all__ = ["RESOURCES", "GeometryConfig", "compute_facts", "gpu_available", "memory_estimate", "object_facts"]
