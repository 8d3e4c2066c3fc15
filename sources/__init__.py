"""Dataset readers. Each source turns one of its scenes into a dataset-neutral `Scene`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sources.scene import Scene, SceneError


@dataclass(frozen=True)
class Source:
    name: str
    list_scenes: Callable[[Path], list[str]]
    read_scene: Callable[..., Scene]  # (root, scene_id, frame_step=, max_frames=, labels=) -> Scene
    hint: str  # where the data comes from, for the one-line error when the root is missing
    mesh_size: Callable[[Path, str], tuple[int, int] | None] = lambda root, scene_id: None  # for scheduling
    # the files and folders a scene is read from (the facts cache's key); None = not cacheable
    scene_inputs: Callable[[Path, str, Path | None], list[Path]] | None = None
    # Every id read_scene accepts (the default listing plus e.g. ScanNet's scans_test/); None: list_scenes.
    all_scenes: Callable[[Path], list[str]] | None = None
    # Checks what every scene of a build needs (ScanNet: the label map), raising SceneError, before any runs.
    preflight: Callable[[Path, Path | None], None] = lambda root, labels: None

    def known_scenes(self, root: Path) -> list[str]:
        return (self.all_scenes or self.list_scenes)(root)


def _scannet() -> Source:
    from sources.scannet import ReaderOptions, list_scenes, mesh_size, read_scene, scene_inputs
    from sources.scannet.reader import check_label_map, list_all_scenes

    def read(
        root: Path,
        scene_id: str,
        frame_step: int = 1,
        max_frames: int | None = None,
        labels: Path | None = None,
    ) -> Scene:
        return read_scene(
            root, scene_id, ReaderOptions(frame_step=frame_step, max_frames=max_frames, labels=labels)
        )

    return Source(
        "scannet",
        list_scenes,
        read,
        "ScanNet v2 (request access at http://www.scan-net.org/, then download with its script); "
        "SCANNET_ROOT is the folder holding scans/ and scannetv2-labels.combined.tsv",
        mesh_size,
        scene_inputs=scene_inputs,
        all_scenes=list_all_scenes,
        preflight=check_label_map,
    )


def _scannetpp() -> Source:
    from sources.scannetpp import list_scenes, mesh_size, read_scene
    from sources.scannetpp.reader import scene_inputs

    return Source(
        "scannetpp",
        list_scenes,
        read_scene,
        "ScanNet++ (apply at https://kaldir.vc.in.tum.de/scannetpp/, then download with its script); "
        "SCANNETPP_ROOT is the folder holding data/<scene_id>/scans and iphone",
        mesh_size,
        scene_inputs,
    )


def _arkitscenes() -> Source:
    from sources.arkitscenes import list_scenes, mesh_size, read_scene
    from sources.arkitscenes.reader import scene_inputs

    return Source(
        "arkitscenes",
        list_scenes,
        read_scene,
        "ARKitScenes 3DOD (download with the download_data.py script of github.com/apple/ARKitScenes); "
        "ARKITSCENES_ROOT is the folder holding 3dod/Training and 3dod/Validation",
        mesh_size,
        scene_inputs,
    )


_FACTORIES: dict[str, Callable[[], Source]] = {
    "scannet": _scannet,
    "scannetpp": _scannetpp,
    "arkitscenes": _arkitscenes,
}


def source_names() -> list[str]:
    return sorted(_FACTORIES)


def get_source(name: str) -> Source:
    if name not in _FACTORIES:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(source_names())}")
    return _FACTORIES[name]()


__all__ = ["Scene", "SceneError", "Source", "get_source", "source_names"]
