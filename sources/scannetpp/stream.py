"""The ScanNet++ iPhone stream: poses and intrinsics from `pose_intrinsic_imu.json`, depth from `depth.bin` or
`depth/frame_%06d.png`, colour from `rgb/frame_%06d.jpg` or `rgb.mkv`.

`aligned_pose` is camera-to-world in the aligned (mesh) frame with OpenCV axes, so it is used as it is. The
intrinsic matrix is the RGB camera's; the depth camera is it scaled by the resolution ratio to 256 x 192.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from sources.scannet.cameras import image_file_size, make_camera
from sources.scannet.selection import pose_problem, uniform
from sources.scannetpp.depth import HEIGHT, WIDTH, DepthReader, read_depth_index
from sources.scannetpp.video import VideoFrames, jpg_path, probe_video
from sources.scene import Camera, FrameRef, SceneError

STREAM_FPS = 60.0


def depth_camera_for(color: Camera, width: int = WIDTH, height: int = HEIGHT) -> Camera:
    """The depth camera: the RGB intrinsics times the resolution ratio (256/1920), as the toolkit's readers
    scale them (no half-pixel shift: ARKit scales its intrinsics this way for the LiDAR depth map)."""
    sx, sy = width / color.width, height / color.height
    return Camera(color.fx * sx, color.fy * sy, color.cx * sx, color.cy * sy, width, height)


class IphoneFrameStore:
    def __init__(self, iphone: Path, depth: DepthReader | None, video: VideoFrames | None) -> None:
        self.iphone = Path(iphone)
        self.depth_reader = depth
        self.video = video

    def depth(self, index: int) -> np.ndarray:
        if self.depth_reader is not None:
            return self.depth_reader.frame(index)
        path = self.iphone / "depth" / f"frame_{index:06d}.png"
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if raw is None or raw.dtype != np.uint16 or raw.ndim != 2:
            raise OSError(f"cannot decode depth image {path} as single-channel uint16")
        return raw.astype(np.float32) / np.float32(1000.0)

    def color_jpeg(self, index: int) -> bytes:
        path = jpg_path(self.iphone, index)
        if path.is_file():
            return path.read_bytes()
        if self.video is None:
            raise OSError(f"no colour for frame {index}: neither {path.name} nor rgb.mkv")
        return self.video.jpeg(index)


@dataclass
class IphoneStream:
    frames: list[FrameRef]
    store: IphoneFrameStore
    depth_camera: Camera
    color_camera: Camera
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _frame_number(name: str) -> int | None:
    stem = name.rsplit("_", 1)[-1]
    return int(stem) if name.startswith("frame_") and stem.isdigit() else None


def read_poses(path: Path) -> dict[int, dict]:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SceneError(f"{path.name}: invalid JSON ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict):
        raise SceneError(f"{path.name}: expected an object keyed by frame name")
    frames = {}
    for name, entry in data.items():
        k = _frame_number(str(name))
        if k is not None and isinstance(entry, dict):
            frames[k] = entry
    if not frames:
        raise SceneError(f"{path.name}: no frame_%06d entries")
    return frames


def _matrix(value: object, shape: tuple[int, int]) -> np.ndarray | None:
    try:
        m = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return m.reshape(shape) if m.size == shape[0] * shape[1] else None


def read_stream(iphone: Path, step: int, max_frames: int | None) -> IphoneStream:
    iphone = Path(iphone)
    pose_path = iphone / "pose_intrinsic_imu.json"
    if not pose_path.is_file():
        raise SceneError(f"no usable frame: missing iphone/{pose_path.name}")
    entries = read_poses(pose_path)

    depth_reader = None
    if (iphone / "depth.bin").is_file():
        depth_reader = DepthReader(read_depth_index(iphone / "depth.bin"))
    elif not (iphone / "depth").is_dir():
        raise SceneError("no usable frame: neither iphone/depth.bin nor iphone/depth/")
    video = None
    video_frames = 0
    color_size = None
    if (iphone / "rgb.mkv").is_file():
        width, height, video_frames = probe_video(iphone / "rgb.mkv")
        video, color_size = VideoFrames(iphone / "rgb.mkv"), (width, height)
    elif not (iphone / "rgb").is_dir():
        raise SceneError("no usable frame: neither iphone/rgb.mkv nor iphone/rgb/")

    skipped: dict[str, int] = {}
    usable: list[int] = []
    poses: dict[int, np.ndarray] = {}
    for k in sorted(entries)[::step]:
        reason = None
        pose = _matrix(entries[k].get("aligned_pose"), (4, 4))
        if depth_reader is not None and k >= len(depth_reader.index):
            reason = "missing_depth"
        elif depth_reader is None and not (iphone / "depth" / f"frame_{k:06d}.png").is_file():
            reason = "missing_depth"
        elif not jpg_path(iphone, k).is_file() and (video is None or (video_frames and k >= video_frames)):
            reason = "missing_color"
        elif _matrix(entries[k].get("intrinsic"), (3, 3)) is None:
            reason = "missing_intrinsic"
        else:
            reason = pose_problem(pose)
        if reason is None:
            usable.append(k)
            poses[k] = pose
        else:
            skipped[reason] = skipped.get(reason, 0) + 1
    if not usable:
        detail = ", ".join(f"{r}={n}" for r, n in sorted(skipped.items())) or "no frames"
        raise SceneError(f"no usable frame ({detail})")
    chosen = uniform(usable, max_frames)

    start = entries[min(entries)].get("timestamp")
    stamps = [start] + [entries[k].get("timestamp") for k in chosen]
    if all(isinstance(t, int | float) and np.isfinite(t) for t in stamps) and np.all(np.diff(stamps[1:]) > 0):
        seconds = [float(t) - float(start) for t in stamps[1:]]  # the stream's own clock
    else:  # the stream's constant rate
        seconds = [k / STREAM_FPS for k in chosen]
    frames = [FrameRef(index=k, timestamp=t, pose=poses[k]) for k, t in zip(chosen, seconds, strict=True)]

    warnings = []
    intrinsics = np.stack([_matrix(entries[k]["intrinsic"], (3, 3)) for k in chosen])
    spread = np.abs(intrinsics - intrinsics[0]).max() / intrinsics[0, 0, 0]
    if spread > 0.01:
        warnings.append(f"iPhone intrinsics vary by {spread:.1%} of fx over the frames; the first is used")
    if color_size is None:
        color_size = image_file_size(jpg_path(iphone, chosen[0]))
        if color_size is None:
            raise SceneError(f"cannot read the size of {jpg_path(iphone, chosen[0]).name}")
    color_camera = make_camera(intrinsics[0], color_size, "color")
    depth_size = (WIDTH, HEIGHT)
    if depth_reader is None:
        depth_size = image_file_size(iphone / "depth" / f"frame_{chosen[0]:06d}.png") or depth_size
    depth_camera = depth_camera_for(color_camera, *depth_size)
    store = IphoneFrameStore(iphone, depth_reader, video)
    return IphoneStream(frames, store, depth_camera, color_camera, skipped, warnings)
