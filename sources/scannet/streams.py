"""The RGB-D stream of a scene: export folders or the .sens, subsampled, with both cameras and a FrameStore."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sources.images import encoded_size
from sources.paths import Boundary
from sources.scannet import meta as meta_txt
from sources.scannet.cameras import decide_camera, image_file_size, read_matrix
from sources.scannet.frames import ExportFrameStore, SensFrameStore
from sources.scannet.selection import export_frames, sens_frames
from sources.scannet.sens import SensHeader, SensIndex, read_sens_header, read_sens_index
from sources.scene import Camera, FrameError, FrameRef, FrameStore, SceneError

SIZE_PROBES = 3  # frames whose headers are read to learn a stream's image size


@dataclass
class SceneFrames:
    frames: list[FrameRef]
    store: FrameStore
    depth_camera: Camera
    color_camera: Camera
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # camera decisions worth a warning (header vs images)


def read_frames(
    scene_dir: Path,
    scene_id: str,
    meta: dict[str, str],
    align: np.ndarray,
    step: int,
    max_frames: int | None,
    use_sens: bool | None,
    boundary: Boundary | None = None,
) -> SceneFrames:
    """Frames with valid poses (aligned by `align`), chosen by step then uniform max_frames, and the cameras of
    the images they hold; SceneError if none. Files resolving outside `boundary` are refused."""
    boundary = boundary or Boundary.of(scene_dir)
    sens_path = scene_dir / f"{scene_id}.sens"
    pose_dir = scene_dir / "pose"
    has_export = pose_dir.is_dir() and any(pose_dir.iterdir())
    use_sens = use_sens if use_sens is not None else not has_export
    notes: list[str] = []
    if use_sens:
        if not sens_path.is_file():
            raise SceneError(
                f"no usable frame: no {sens_path.name}" + ("" if has_export else " and no export folders")
            )
        _inside(boundary, sens_path)
        index = read_sens_index(sens_path)
        frames, skipped = sens_frames(index, align, step, max_frames)
        store: FrameStore = SensFrameStore(index)
    else:
        if not has_export:
            raise SceneError("no usable frame: no exported pose/ folder")
        frames, skipped = export_frames(scene_dir, align, step, max_frames, boundary)
        store = ExportFrameStore(scene_dir, boundary=boundary)
    if not frames:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(skipped.items())) or "no frames"
        raise SceneError(f"no usable frame ({detail})")
    if use_sens:
        depth_camera, color_camera = _sens_cameras(index, meta, frames, notes)
    else:
        depth_camera, color_camera = _export_cameras(scene_dir, sens_path, meta, frames, boundary, notes)
    return SceneFrames(frames, store, depth_camera, color_camera, skipped, notes)


def _inside(boundary: Boundary, path: Path) -> Path:
    problem = boundary.problem(path)
    if problem is not None:
        raise SceneError(problem)
    return path


def _stated(
    meta: dict[str, str], header: SensHeader | None, stream: str
) -> list[tuple[str, tuple[int, int]]]:
    """The sizes the headers state for a stream, with where each was read."""
    stated = []
    size = meta_txt.image_size(meta, stream)
    if size is not None:
        stated.append((f"the .txt's {stream}Width/Height", size))
    if header is not None:
        stated.append((f"the .sens header's {stream} size", tuple(getattr(header, f"{stream}_size"))))
    return stated


def _common_size(sizes) -> tuple[int, int] | None:
    """The size most of a few frames' headers give (the first on a tie), so one odd or broken frame neither
    decides the camera nor hides it; the odd frames are skipped later (`color_size_mismatch`)."""
    found = [size for size in sizes if size is not None]
    return max(found, key=found.count) if found else None


def _export_cameras(
    scene_dir: Path, sens_path: Path, meta: dict[str, str], frames: list, boundary: Boundary, notes: list[str]
) -> tuple[Camera, Camera]:
    header = read_sens_header(sens_path) if sens_path.is_file() else None  # header only: no frame walk
    cameras = []
    for stream, suffix in (("depth", ".png"), ("color", ".jpg")):
        path = scene_dir / "intrinsic" / f"intrinsic_{stream}.txt"
        intrinsic = read_matrix(_inside(boundary, path)) if path.is_file() or path.is_symlink() else None
        if intrinsic is None and header is not None:
            intrinsic = getattr(header, f"intrinsic_{stream}")
        if intrinsic is None:
            intrinsic = meta_txt.intrinsic_from_meta(meta, stream)
        if intrinsic is None:
            raise SceneError(f"no {stream} intrinsics (intrinsic/, .sens and .txt all lack them)")
        candidates = (scene_dir / stream / f"{f.index}{suffix}" for f in frames[:SIZE_PROBES])
        size = _common_size(image_file_size(p) for p in candidates if boundary.contains(p))
        if size is None:
            raise SceneError(f"no readable {stream} image among the first {SIZE_PROBES} frames")
        camera, note = decide_camera(intrinsic, size, _stated(meta, header, stream), stream)
        notes.extend([note] if note else [])
        cameras.append(camera)
    return cameras[0], cameras[1]


def _sens_cameras(
    index: SensIndex, meta: dict[str, str], frames: list, notes: list[str]
) -> tuple[Camera, Camera]:
    """Colour size from the first frames' JPEG headers; depth must be the header's size (a zlib payload has no
    header of its own: its decoded length is checked against W x H)."""
    header = index.header
    store = SensFrameStore(index)
    depth = None
    for frame in frames[:SIZE_PROBES]:
        try:
            depth = store.depth(frame.index)
            break
        except FrameError:
            continue
    if depth is None:
        raise SceneError(
            f"no depth payload among the first {SIZE_PROBES} frames decodes to the .sens header's "
            f"{header.depth_size[0]}x{header.depth_size[1]}"
        )
    depth_camera, note = decide_camera(header.intrinsic_depth, header.depth_size, [], "depth")
    notes.extend([note] if note else [])
    color_sizes = []
    for frame in frames[:SIZE_PROBES]:
        try:
            color_sizes.append(encoded_size(store.color_jpeg(frame.index)))
        except FrameError:
            continue
    color_size = _common_size(color_sizes)
    if color_size is None:
        raise SceneError(f"no readable colour image among the first {SIZE_PROBES} frames of the .sens")
    color_camera, note = decide_camera(
        header.intrinsic_color, color_size, _stated(meta, header, "color"), "color"
    )
    notes.extend([note] if note else [])
    return depth_camera, color_camera
