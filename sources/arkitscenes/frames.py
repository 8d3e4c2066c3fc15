"""The ARKitScenes low-res RGB-D stream: `lowres_wide/`, `lowres_depth/`, `lowres_wide_intrinsics/`,
`lowres_wide.traj`, every image turned upright by its video's sky direction.

A frame's index is its timestamp in integer milliseconds; its pose is the trajectory's within 5 ms (toolkit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from sources.arkitscenes.trajectory import (
    INTRINSIC_TOLERANCE_S,
    POSE_TOLERANCE_S,
    frame_stamp,
    nearest,
    read_pincam,
    read_traj,
)
from sources.arkitscenes.upright import upright_camera, upright_image, upright_pose
from sources.scannet.cameras import make_camera
from sources.scannet.selection import pose_problem, uniform
from sources.scene import Camera, FrameRef, SceneError

JPEG_QUALITY = 95


class LowresFrameStore:
    def __init__(self, frames_dir: Path, stems: dict[int, str], turns: int) -> None:
        self.frames_dir = Path(frames_dir)
        self.stems = stems  # frame index (ms) -> file stem `<video>_<ts>`
        self.turns = turns

    def _read(self, folder: str, index: int, flags: int) -> np.ndarray:
        path = self.frames_dir / folder / f"{self.stems[index]}.png"
        image = cv2.imread(str(path), flags)
        if image is None:
            raise OSError(f"cannot decode {folder}/{path.name}")
        return upright_image(image, self.turns)

    def depth(self, index: int) -> np.ndarray:
        raw = self._read("lowres_depth", index, cv2.IMREAD_UNCHANGED)
        if raw.dtype != np.uint16 or raw.ndim != 2:
            raise OSError(f"lowres_depth of frame {index}: expected single-channel uint16, got {raw.dtype}")
        return raw.astype(np.float32) / np.float32(1000.0)

    def color_jpeg(self, index: int) -> bytes:
        image = self._read("lowres_wide", index, cv2.IMREAD_COLOR)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise OSError("JPEG encoding failed")
        return encoded.tobytes()


@dataclass
class LowresStream:
    frames: list[FrameRef]
    store: LowresFrameStore
    camera: Camera  # upright; colour and depth share it
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _stamped(folder: Path, video_id: str, suffix: str) -> dict[float, str]:
    if not folder.is_dir():
        return {}
    found = {}
    for p in folder.iterdir():
        t = frame_stamp(p.name, video_id) if p.suffix == suffix else None
        if t is not None:
            found[t] = p.stem
    return found


def read_lowres(
    frames_dir: Path, video_id: str, turns: int, step: int, max_frames: int | None
) -> LowresStream:
    frames_dir = Path(frames_dir)
    traj_path = frames_dir / "lowres_wide.traj"
    if not traj_path.is_file():
        raise SceneError("no usable frame: missing lowres_wide.traj")
    pose_stamps, poses = read_traj(traj_path)
    colors = _stamped(frames_dir / "lowres_wide", video_id, ".png")
    if not colors:
        raise SceneError(f"no usable frame: no {video_id}_<ts>.png in lowres_wide/")
    depths = set(_stamped(frames_dir / "lowres_depth", video_id, ".png").values())
    pincams = _stamped(frames_dir / "lowres_wide_intrinsics", video_id, ".pincam")
    pincam_stamps = np.array(sorted(pincams))

    skipped: dict[str, int] = {}
    usable: list[tuple[float, str, np.ndarray, str]] = []
    for t in sorted(colors)[::step]:
        stem = colors[t]
        reason = None
        at = nearest(pose_stamps, t, POSE_TOLERANCE_S)
        intrinsic = nearest(pincam_stamps, t, INTRINSIC_TOLERANCE_S)
        if stem not in depths:
            reason = "missing_depth"
        elif at is None:
            reason = "missing_pose"
        elif intrinsic is None:
            reason = "missing_intrinsic"
        else:
            reason = pose_problem(poses[at])
        if reason is None:
            usable.append((t, stem, poses[at], pincams[float(pincam_stamps[intrinsic])]))
        else:
            skipped[reason] = skipped.get(reason, 0) + 1
    if not usable:
        detail = ", ".join(f"{r}={n}" for r, n in sorted(skipped.items())) or "no frames"
        raise SceneError(f"no usable frame ({detail})")
    chosen = uniform(list(range(len(usable))), max_frames)
    start = min(colors)
    frames, stems, seen = [], {}, set()
    for position in chosen:
        t, stem, pose, _ = usable[position]
        index = round(t * 1000)
        if index in seen:  # two files within a millisecond: keep the first
            continue
        seen.add(index)
        stems[index] = stem
        frames.append(FrameRef(index=index, timestamp=t - start, pose=upright_pose(pose, turns)))

    pincam_dir = frames_dir / "lowres_wide_intrinsics"
    intrinsics = np.array(
        [read_pincam(pincam_dir / f"{usable[p][3]}.pincam") for p in chosen], dtype=np.float64
    )
    warnings = []
    if np.any(intrinsics[:, :2] != intrinsics[0, :2]):
        raise SceneError("lowres_wide frames change size within the video")
    spread = float(np.abs(intrinsics[:, 2:] - intrinsics[0, 2:]).max() / intrinsics[0, 2])
    if spread > 0.01:
        warnings.append(
            f"lowres_wide intrinsics vary by {spread:.1%} of fx over the frames; the first is used"
        )
    w, h, fx, fy, cx, cy = intrinsics[0]
    stored = make_camera(np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]]), (int(w), int(h)), "lowres_wide")
    return LowresStream(
        frames, LowresFrameStore(frames_dir, stems, turns), upright_camera(stored, turns), skipped, warnings
    )
