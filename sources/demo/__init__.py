"""Procedural demo dataset in the exact ScanNet v2 layout: the built-in demo data and the tests' fixture factory.

Every random choice is seeded from (seed, scene index, stream), so the same arguments write byte-identical files,
and changing `frames` or `vertices` keeps the same rooms.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from schemas.errors import UserError

from .labels import write_label_tsv
from .mesh import build_mesh
from .render import demo_camera
from .rooms import make_room
from .scene_writer import random_alignment, write_scene
from .stream import RGBD_LAYOUTS, Resized
from .trajectory import camera_walk

__all__ = ["LAYOUTS", "RGBD_LAYOUTS", "make_demo", "demo_scene_id", "demo_scene_ids"]

LAYOUTS = ("scannet", "scannetpp", "arkitscenes")  # the same rooms written as each dataset stores them


def demo_scene_id(index: int, layout: str = "scannet") -> str:
    if layout == "scannetpp":
        from .scannetpp_writer import scannetpp_scene_id

        return scannetpp_scene_id(index)
    if layout == "arkitscenes":
        from .arkit_writer import arkit_video_id

        return arkit_video_id(index)
    return f"scene{9000 + index:04d}_00"


def demo_scene_ids(scenes: int, layout: str = "scannet") -> list[str]:
    return [demo_scene_id(i, layout) for i in range(scenes)]


def make_demo(
    root: Path,
    scenes: int = 3,
    seed: int = 0,
    frames: int = 60,
    vertices: int = 20000,
    depth_size: tuple[int, int] = (320, 240),
    color_size: tuple[int, int] = (640, 480),
    progress: Callable[[str], None] | None = None,
    rgbd: str = "export",
    ids: list[str] | None = None,
    resized_color: tuple[int, int] | None = None,
    stale_intrinsics: bool = False,
    layout: str = "scannet",
) -> list[str]:
    """Write `scenes` demo scenes under `root` (scannetv2-labels.combined.tsv + scans/<id>/...); returns their ids.

    Sizes are (width, height). Each scene holds `frames` RGB-D frames (indices 0, 15, 30, ...) and a mesh of about
    `vertices` vertices. `rgbd` says how the RGB-D stream is stored: "export" (color/ depth/ pose/ intrinsic/
    folders), "sens" (only `<scene>.sens`, whose frame positions are the same source indices) or "both".
    `ids` names the scenes (room i is the same room under any name; default scene9000_00, scene9001_00, ...),
    e.g. official ScanNet ids to test split and benchmark handling.
    `resized_color` (width, height): colour JPEGs resized to it after rendering at `color_size`, while the
    `.txt`/.sens headers keep `color_size` and `intrinsic_color` is rewritten for the new size (with
    `stale_intrinsics`, not even that): the trait of real resized exports.
    """
    if layout not in LAYOUTS:
        raise UserError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    if layout != "scannet":
        return _make_other_layout(Path(root), layout, scenes, seed, frames, vertices, color_size, progress)
    if rgbd not in RGBD_LAYOUTS:
        raise UserError(f"rgbd must be one of {', '.join(RGBD_LAYOUTS)}, got {rgbd!r}")
    if ids is not None and len(ids) != scenes:
        raise ValueError(f"ids names {len(ids)} scenes, not {scenes}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_label_tsv(root / "scannetv2-labels.combined.tsv")
    depth_cam, color_cam = demo_camera(*depth_size), demo_camera(*color_size)
    resized = None if resized_color is None else Resized(tuple(resized_color), stale_intrinsics)
    names = list(ids) if ids is not None else [demo_scene_id(i) for i in range(scenes)]
    for i, scene_id in enumerate(names):
        if progress is not None:
            progress(f"{scene_id}: building room")
        room = make_room(np.random.default_rng([seed, i, 0]), i)
        mesh = build_mesh(room, vertices, np.random.default_rng([seed, i, 1]))
        poses = camera_walk(room, frames, np.random.default_rng([seed, i, 2]))
        align = random_alignment(np.random.default_rng([seed, i, 3]))
        write_scene(
            root / "scans" / scene_id,
            scene_id,
            room,
            mesh,
            poses,
            align,
            depth_cam,
            color_cam,
            progress,
            rgbd,
            resized,
        )
    return names


def _make_other_layout(
    root: Path,
    layout: str,
    scenes: int,
    seed: int,
    frames: int,
    vertices: int,
    color_size: tuple[int, int],
    progress: Callable[[str], None] | None,
) -> list[str]:
    """The same rooms, meshes and camera walks as the ScanNet layout (same seeds), in the aligned frame."""
    ids, sky_rows = [], []
    for i in range(scenes):
        scene_id = demo_scene_id(i, layout)
        if progress is not None:
            progress(f"{scene_id}: building room")
        room = make_room(np.random.default_rng([seed, i, 0]), i)
        mesh = build_mesh(room, vertices, np.random.default_rng([seed, i, 1]))
        poses = camera_walk(room, frames, np.random.default_rng([seed, i, 2]))

        def report(message: str, scene_id: str = scene_id) -> None:
            if progress is not None:
                progress(f"{scene_id}: {message}")

        if layout == "scannetpp":
            from .scannetpp_writer import write_scannetpp_scene

            write_scannetpp_scene(
                root / "data" / scene_id, scene_id, room, mesh, poses, demo_camera(*color_size), report
            )
        else:
            from .arkit_writer import sky_of, write_arkit_scene

            write_arkit_scene(
                root / "3dod" / "Training" / scene_id, scene_id, sky_of(i), room, mesh, poses, report
            )
            sky_rows.append((scene_id, sky_of(i)))
        ids.append(scene_id)
    if layout == "scannetpp":
        (root / "splits").mkdir(parents=True, exist_ok=True)
        (root / "splits" / "nvs_sem_train.txt").write_text("".join(f"{s}\n" for s in ids))
    else:
        from .arkit_writer import write_metadata

        write_metadata(root / "3dod" / "metadata.csv", sky_rows)
    return ids
