"""One demo room in the ScanNet++ layout: `data/<id>/scans/` (z-up metric mesh, per-vertex segments, segGroups
with `obb`) and `data/<id>/iphone/` (a 60 fps `rgb.mkv`, lz4 `depth.bin`, `pose_intrinsic_imu.json`).

Demo frame k is iPhone frame k * FRAME_STEP (0.5 s apart, as in the ScanNet layout). The video and depth.bin hold
every slot of the 60 fps stream: between two rendered frames the video repeats the last image and depth.bin holds
empty (all-zero) frames; the pose file lists the rendered frames only (a real one lists every frame).
FFmpeg's Matroska muxer stamps random UIDs into `rgb.mkv`: its decoded frames are identical for a seed, its
bytes are not (every other file is).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from sources.scannetpp.depth import HEIGHT, WIDTH, encode_lz4_frames
from sources.scannetpp.stream import depth_camera_for
from sources.scene import Camera

from .boxes import obb_json
from .files import write_json, write_ply
from .labels import label_row
from .mesh import SceneMesh
from .render import Renderer
from .rooms import Room
from .scene_writer import write_truth

FRAME_STEP = 30  # of a 60 fps stream
STREAM_FPS = 60
CLOCK_START_S = 1234.5  # the phone's clock at frame 0 (real timestamps do not start at 0)


def scannetpp_scene_id(index: int) -> str:
    return f"de{index:08x}"  # 10 hex digits, like the real ids; "de" for demo


def write_scannetpp_scene(
    scene_dir: Path,
    scene_id: str,
    room: Room,
    mesh: SceneMesh,
    poses: list[np.ndarray],
    color_cam: Camera,
    progress: Callable[[str], None] | None = None,
) -> None:
    scans, iphone = scene_dir / "scans", scene_dir / "iphone"
    scans.mkdir(parents=True, exist_ok=True)
    iphone.mkdir(parents=True, exist_ok=True)
    write_ply(scans / "mesh_aligned_0.05.ply", mesh.vertices.astype(np.float32), mesh.colors, mesh.faces)
    write_json(
        scans / "segments.json",
        {"params": {}, "sceneId": scene_id, "segIndices": list(range(len(mesh.vertices)))},
    )
    groups, object_ids = [], {}
    for k, ent in enumerate(mesh.entities):
        if not ent.annotated:
            continue
        object_ids[k] = len(object_ids)
        groups.append(
            {
                "id": len(groups),
                "objectId": len(groups) + 1,  # ScanNet++ ids start at 1 (<= 0: no object)
                "label": label_row(ent.raw_label).category,
                "segments": [int(v) for v in np.flatnonzero(mesh.entity == k)],
                "obb": obb_json(ent),
            }
        )
    write_json(
        scans / "segments_anno.json",
        {"sceneId": scene_id, "appId": "sicorpus-demo", "annId": 0, "segGroups": groups},
    )
    frame_indices = [k * FRAME_STEP for k in range(len(poses))]
    write_truth(scene_dir / "demo_truth.json", scene_id, room, mesh, np.eye(4), object_ids, frame_indices)
    _write_iphone(iphone, mesh, poses, color_cam, progress or (lambda _: None))


def _write_iphone(
    iphone: Path, mesh: SceneMesh, poses: list[np.ndarray], color_cam: Camera, progress: Callable[[str], None]
) -> None:
    depth_cam = depth_camera_for(color_cam)
    renderer = Renderer(mesh)
    video = cv2.VideoWriter(
        str(iphone / "rgb.mkv"),
        cv2.VideoWriter_fourcc(*"mp4v"),
        STREAM_FPS,
        (color_cam.width, color_cam.height),
    )
    if not video.isOpened():
        raise OSError("OpenCV cannot write an mp4v .mkv (FFMPEG backend missing)")
    depth_frames: list[np.ndarray] = []
    empty = np.zeros((HEIGHT, WIDTH), dtype=np.uint16)
    entries = {}
    k = np.array([[color_cam.fx, 0, color_cam.cx], [0, color_cam.fy, color_cam.cy], [0, 0, 1]])
    for n, pose in enumerate(poses):
        color = renderer.color_bgr(color_cam, pose)
        depth = renderer.depth_mm(depth_cam, pose)
        slots = 1 if n == len(poses) - 1 else FRAME_STEP
        for slot in range(slots):
            video.write(color)
            depth_frames.append(depth if slot == 0 else empty)
        frame = n * FRAME_STEP
        entries[f"frame_{frame:06d}"] = {
            "timestamp": round(CLOCK_START_S + frame / STREAM_FPS, 6),
            "aligned_pose": [[round(float(v), 8) for v in row] for row in pose],
            "intrinsic": [[round(float(v), 6) for v in row] for row in k],
            "imu": {"gravity": [0.0, 0.0, -9.81]},
        }
        if (n + 1) % max(1, len(poses) // 4) == 0:
            progress(f"frames {n + 1}/{len(poses)}")
    video.release()
    (iphone / "depth.bin").write_bytes(encode_lz4_frames(depth_frames))
    write_json(iphone / "pose_intrinsic_imu.json", entries)
