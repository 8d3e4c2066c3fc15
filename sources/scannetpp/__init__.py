"""ScanNet++ source: the aligned laser mesh with its per-vertex annotation and the iPhone RGB-D stream."""

from __future__ import annotations

from sources.scannetpp.reader import list_scenes, mesh_size, read_scene

__all__ = ["list_scenes", "mesh_size", "read_scene"]
