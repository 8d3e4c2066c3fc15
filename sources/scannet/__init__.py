"""ScanNet v2 source: reads a scene folder (mesh, segs, aggregation, .txt, export frames or .sens) into a Scene."""

from __future__ import annotations

from sources.scannet.labels import LabelMap, load_label_map
from sources.scannet.reader import (
    ReaderOptions,
    list_scenes,
    mesh_size,
    read_scene,
    read_scene_frames,
    scene_inputs,
)
from sources.scannet.streams import SceneFrames

__all__ = [
    "LabelMap",
    "ReaderOptions",
    "SceneFrames",
    "list_scenes",
    "load_label_map",
    "mesh_size",
    "read_scene",
    "read_scene_frames",
    "scene_inputs",
]
