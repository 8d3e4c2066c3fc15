"""The demo scene's RGB-D stream on disk: ScanNet's export folders, a `.sens` v4 stream, or both.

Demo frame k is source frame k * FRAME_STEP of a 30 Hz stream. The export layout holds only those frames, named
by source index. A `.sens` numbers frames by position, so to give every frame the same index in both layouts it
holds every slot of the stream: the kept frames with their images, and between two of them FRAME_STEP - 1
placeholders with an all -inf pose (ScanNet's mark of a lost track), an empty colour payload and an all-zero
depth (~300 bytes each instead of a rendered frame), which a reader skips as unusable. Timestamps are
index * 1e6 / 30 microseconds, so the reader's stream clock gives the export layout's index / 30 s.
Poses and intrinsics go into the .sens as the float32 of the values the export text files hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sources.scannet.sens import SensFrame, SensHeader, write_sens
from sources.scene import Camera

from .files import format_matrix
from .mesh import SceneMesh
from .render import Renderer, matrix4

FRAME_STEP = 15  # exported every 15th frame of a 30 Hz stream: consecutive demo frames are 0.5 s apart
STREAM_FPS = 30
JPEG_QUALITY = 90
RGBD_LAYOUTS = ("export", "sens", "both")


@dataclass(frozen=True)
class Resized:
    """The trait of real resized exports (e.g. the 640x480 2D releases): colour frames resized after writing
    while the `.txt` (and `.sens`) header keeps the original size. `intrinsic_color` is rewritten for the new
    size, or with `stale_intrinsics` keeps the original values too."""

    size: tuple[int, int]  # (width, height) of the JPEGs on disk
    stale_intrinsics: bool = False

    def intrinsics_of(self, color_cam: Camera) -> Camera:
        return color_cam if self.stale_intrinsics else color_cam.scaled_to(*self.size)


@dataclass
class RenderedFrame:
    index: int  # source frame index (k * FRAME_STEP)
    pose: np.ndarray  # (4, 4) camera-to-world, unaligned frame
    depth: np.ndarray  # (H, W) uint16 millimetres
    color_jpeg: bytes


def as_written(m: np.ndarray) -> np.ndarray:
    """The matrix exactly as its export text file states it (6 decimals)."""
    return np.array(format_matrix(m).split(), dtype=np.float64).reshape(4, 4)


def timestamp_us(index: int) -> int:
    return round(index * 1_000_000 / STREAM_FPS)


def write_stream(
    scene_dir: Path,
    scene_id: str,
    mesh: SceneMesh,
    poses: list[np.ndarray],
    unalign: np.ndarray,
    depth_cam: Camera,
    color_cam: Camera,
    progress: Callable[[str], None],
    rgbd: str = "export",
    resized: Resized | None = None,
) -> None:
    """Render each frame once and write it to the layouts `rgbd` names; one frame in memory at a time.
    `resized`: colour JPEGs resized after rendering while the headers keep `color_cam` (see `Resized`)."""
    if rgbd not in RGBD_LAYOUTS:
        raise ValueError(f"rgbd must be one of {', '.join(RGBD_LAYOUTS)}, got {rgbd!r}")
    frames = _rendered(mesh, poses, unalign, depth_cam, color_cam, progress, resized)
    intrinsic_cam = color_cam if resized is None else resized.intrinsics_of(color_cam)
    if rgbd in ("export", "both"):
        frames = _exported(scene_dir, frames, depth_cam, intrinsic_cam)
    if rgbd == "export":
        for _ in frames:
            pass
        return
    header = SensHeader(
        intrinsic_color=as_written(matrix4(intrinsic_cam)),
        intrinsic_depth=as_written(matrix4(depth_cam)),
        color_size=(color_cam.width, color_cam.height),
        depth_size=(depth_cam.width, depth_cam.height),
        depth_shift=1000.0,
    )
    write_sens(scene_dir / f"{scene_id}.sens", header, _stream_slots(frames, depth_cam))


def _rendered(
    mesh: SceneMesh,
    poses: list[np.ndarray],
    unalign: np.ndarray,
    depth_cam: Camera,
    color_cam: Camera,
    progress: Callable[[str], None],
    resized: Resized | None = None,
) -> Iterator[RenderedFrame]:
    renderer = Renderer(mesh)
    report_every = max(1, len(poses) // 4)
    for k, pose in enumerate(poses):
        depth = renderer.depth_mm(depth_cam, pose)
        color = renderer.color_bgr(color_cam, pose)
        if resized is not None:
            color = cv2.resize(color, resized.size, interpolation=cv2.INTER_AREA)
        jpeg = cv2.imencode(".jpg", color, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes()
        yield RenderedFrame(k * FRAME_STEP, unalign @ pose, depth, jpeg)
        if (k + 1) % report_every == 0 or k + 1 == len(poses):
            progress(f"frames {k + 1}/{len(poses)}")


def _exported(
    scene_dir: Path, frames: Iterator[RenderedFrame], depth_cam: Camera, color_cam: Camera
) -> Iterator[RenderedFrame]:
    """Write each frame into color/ depth/ pose/ (and the intrinsic/ files first), passing it on."""
    for sub in ("color", "depth", "pose", "intrinsic"):
        (scene_dir / sub).mkdir(exist_ok=True)
    intr = scene_dir / "intrinsic"
    (intr / "intrinsic_color.txt").write_text(format_matrix(matrix4(color_cam)))
    (intr / "intrinsic_depth.txt").write_text(format_matrix(matrix4(depth_cam)))
    (intr / "extrinsic_color.txt").write_text(format_matrix(np.eye(4)))
    (intr / "extrinsic_depth.txt").write_text(format_matrix(np.eye(4)))
    for frame in frames:
        (scene_dir / "depth" / f"{frame.index}.png").write_bytes(
            cv2.imencode(".png", frame.depth)[1].tobytes()
        )
        (scene_dir / "color" / f"{frame.index}.jpg").write_bytes(frame.color_jpeg)
        (scene_dir / "pose" / f"{frame.index}.txt").write_text(format_matrix(frame.pose))
        yield frame


def _stream_slots(frames: Iterator[RenderedFrame], depth_cam: Camera) -> Iterator[SensFrame]:
    """Every slot of the 30 Hz stream up to the last kept frame: kept frames, placeholders between them."""
    lost_pose = np.full((4, 4), -np.inf)
    no_depth = np.zeros((depth_cam.height, depth_cam.width), dtype=np.uint16)
    index = 0
    for frame in frames:
        for slot in range(index, frame.index):
            yield SensFrame(lost_pose, b"", no_depth, timestamp_us(slot), timestamp_us(slot))
        stamp = timestamp_us(frame.index)
        yield SensFrame(as_written(frame.pose), frame.color_jpeg, frame.depth, stamp, stamp)
        index = frame.index + 1
