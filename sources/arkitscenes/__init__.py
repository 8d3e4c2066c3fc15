"""ARKitScenes 3DOD source: room mesh, objects as oriented boxes only, low-res RGB-D frames turned upright."""

from __future__ import annotations

from sources.arkitscenes.reader import list_scenes, mesh_size, read_scene

__all__ = ["list_scenes", "mesh_size", "read_scene"]
