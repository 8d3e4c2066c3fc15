"""The RGB-D stream of a scene: export folders or the .sens, subsampled, with both cameras and a FrameStore."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sources.scannet import meta as meta_txt
from sources.scannet.cameras import image_file_size, make_camera, read_matrix
from sources.scannet.frames import ExportFrameStore, SensFrameStore
from sources.scannet.selection import export_frames, sens_frames
from sources.scannet.sens import read_sens_header, read_sens_index
from sources.scene import Camera, FrameRef, FrameStore, SceneError


@dataclass
class SceneFrames:
    frames: list[FrameRef]
    store: FrameStore
    depth_camera: Camera
    color_camera: Camera
    skipped: dict[str, int] = field(default_factory=dict)


def read_frames(
    scene_dir: Path,
    scene_id: str,
    meta: dict[str, str],
    align: np.ndarray,
    step: int,
    max_frames: int | None,
    use_sens: bool | None,
) -> SceneFrames:
    """Frames with valid poses (aligned by `align`), chosen by step then uniform max_frames; SceneError if none."""
    sens_path = scene_dir / f"{scene_id}.sens"
    pose_dir = scene_dir / "pose"
    has_export = pose_dir.is_dir() and any(pose_dir.iterdir())
    use_sens = use_sens if use_sens is not None else not has_export
    if use_sens:
        if not sens_path.is_file():
            raise SceneError(
                f"no usable frame: no {sens_path.name}" + ("" if has_export else " and no export folders")
            )
        index = read_sens_index(sens_path)
        frames, skipped = sens_frames(index, align, step, max_frames)
        header = index.header
        depth_camera = make_camera(header.intrinsic_depth, header.depth_size, "depth")
        color_camera = make_camera(header.intrinsic_color, header.color_size, "color")
        store: FrameStore = SensFrameStore(index)
    else:
        if not has_export:
            raise SceneError("no usable frame: no exported pose/ folder")
        frames, skipped = export_frames(scene_dir, align, step, max_frames)
        store = ExportFrameStore(scene_dir)
    if not frames:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(skipped.items())) or "no frames"
        raise SceneError(f"no usable frame ({detail})")
    if not use_sens:
        depth_camera, color_camera = _export_cameras(scene_dir, sens_path, meta, frames)
    return SceneFrames(frames, store, depth_camera, color_camera, skipped)


def _export_cameras(
    scene_dir: Path, sens_path: Path, meta: dict[str, str], frames: list
) -> tuple[Camera, Camera]:
    header = read_sens_header(sens_path) if sens_path.is_file() else None  # header only: no frame walk
    cameras = []
    for stream, folder, suffix in (("depth", "depth", ".png"), ("color", "color", ".jpg")):
        intrinsic = read_matrix(scene_dir / "intrinsic" / f"intrinsic_{stream}.txt")
        if intrinsic is None and header is not None:
            intrinsic = getattr(header, f"intrinsic_{stream}")
        if intrinsic is None:
            intrinsic = meta_txt.intrinsic_from_meta(meta, stream)
        if intrinsic is None:
            raise SceneError(f"no {stream} intrinsics (intrinsic/, .sens and .txt all lack them)")
        size = meta_txt.image_size(meta, stream)
        if size is None and header is not None:
            size = getattr(header, f"{stream}_size")
        if size is None:
            size = image_file_size(scene_dir / folder / f"{frames[0].index}{suffix}")
        if size is None:
            raise SceneError(f"unknown {stream} image size")
        cameras.append(make_camera(intrinsic, size, stream))
    return cameras[0], cameras[1]
