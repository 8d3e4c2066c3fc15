"""One demo room in the ARKitScenes 3DOD layout: `3dod/Training/<video>/` with the room mesh, objects as boxes only
(`<video>_3dod_annotation.json`), and low-res frames stored as the phone held them.

Frames are rendered upright, then stored turned by the video's sky direction (pixels, `.pincam` intrinsics and
the `.traj` pose alike), so a reader that turns them upright recovers the rendered view. Timestamps run on the
phone's clock (0.5 s apart, as demo frames in the other layouts); file names carry 3 decimals and the trajectory
8, a little off the frame times, so the reader's tolerant matching is exercised. Labels are ARKitScenes classes
where one names the demo's category (chair, table, tv -> tv_monitor, ...); other categories are written as they
are (real files hold only the 17 classes), so every demo object has a box and the layouts stay comparable.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from sources.arkitscenes.annotation import CLASS_NAMES
from sources.arkitscenes.upright import stored_image, stored_pose, turns_for, upright_camera
from sources.scene import Camera

from .boxes import obb_json
from .files import write_json, write_ply
from .labels import label_row
from .mesh import SceneMesh
from .render import Renderer, demo_camera
from .rooms import Room
from .scene_writer import write_truth

WIDTH, HEIGHT = 256, 192
FRAME_DT_S = 0.5
CLOCK_START_S = 6843.1172  # the phone's clock at the first frame
TRAJ_OFFSET_S = (
    0.0013  # the trajectory's samples lie this far from the frame times (within the 5 ms tolerance)
)
SKY_CYCLE = ("Down", "Left", "Up", "Right")  # scene i's sky direction
_ARKIT_CLASS = {name: cls for cls, name in CLASS_NAMES.items()}


def arkit_video_id(index: int) -> str:
    return f"{99000000 + index}"  # 8 digits like the real ids; 99... is no real video


def sky_of(index: int) -> str:
    return SKY_CYCLE[index % len(SKY_CYCLE)]


def stored_camera() -> Camera:
    """The phone's low-res camera as stored (256 x 192 landscape, the demo's field of view across it)."""
    return demo_camera(WIDTH, HEIGHT)


def write_arkit_scene(
    video_dir: Path,
    video_id: str,
    sky: str,
    room: Room,
    mesh: SceneMesh,
    poses: list[np.ndarray],
    progress: Callable[[str], None] | None = None,
) -> None:
    video_dir.mkdir(parents=True, exist_ok=True)
    write_ply(
        video_dir / f"{video_id}_3dod_mesh.ply", mesh.vertices.astype(np.float32), mesh.colors, mesh.faces
    )
    data, object_ids = [], {}
    for k, ent in enumerate(mesh.entities):
        if not ent.annotated or ent.mount == "structure":  # ARKitScenes boxes furniture only
            continue
        object_ids[k] = len(object_ids)
        category = label_row(ent.raw_label).category
        box = obb_json(ent)
        data.append(
            {
                "uid": f"{video_id}-{len(data):04d}-demo",
                "label": _ARKIT_CLASS.get(category, category),
                "objectId": 1,  # identical for every object, as in real files
                "attributes": {},
                "segments": {
                    "obbAligned": {k: box[k] for k in ("centroid", "axesLengths", "normalizedAxes")}
                },
            }
        )
    write_json(
        video_dir / f"{video_id}_3dod_annotation.json",
        {"data": data, "stats": {}, "comment": "", "confirm": True, "skipped": False},
    )
    stamps = [round(CLOCK_START_S + n * FRAME_DT_S, 3) for n in range(len(poses))]
    milliseconds = [round(t * 1000) for t in stamps]
    write_truth(video_dir / "demo_truth.json", video_id, room, mesh, np.eye(4), object_ids, milliseconds)
    _write_frames(video_dir / f"{video_id}_frames", video_id, turns_for(sky), mesh, poses, stamps, progress)


def _write_frames(
    frames_dir: Path,
    video_id: str,
    turns: int,
    mesh: SceneMesh,
    poses: list[np.ndarray],
    stamps: list[float],
    progress: Callable[[str], None] | None,
) -> None:
    for sub in ("lowres_wide", "lowres_depth", "lowres_wide_intrinsics"):
        (frames_dir / sub).mkdir(parents=True, exist_ok=True)
    stored = stored_camera()
    upright = upright_camera(stored, turns)
    pincam = f"{stored.width} {stored.height} {stored.fx} {stored.fy} {stored.cx} {stored.cy}\n"
    renderer = Renderer(mesh)
    lines = []
    for n, (pose, t) in enumerate(zip(poses, stamps, strict=True)):
        name = f"{video_id}_{t:.3f}"
        color = stored_image(renderer.color_bgr(upright, pose), turns)
        depth = stored_image(renderer.depth_mm(upright, pose), turns)
        cv2.imwrite(str(frames_dir / "lowres_wide" / f"{name}.png"), color)
        cv2.imwrite(str(frames_dir / "lowres_depth" / f"{name}.png"), depth)
        (frames_dir / "lowres_wide_intrinsics" / f"{name}.pincam").write_text(pincam)
        world_to_camera = np.linalg.inv(stored_pose(pose, turns))
        rvec, _ = cv2.Rodrigues(world_to_camera[:3, :3])
        values = [*rvec.ravel(), *world_to_camera[:3, 3]]
        lines.append(f"{t + TRAJ_OFFSET_S:.8f} " + " ".join(f"{v:.8f}" for v in values))
        if progress is not None and (n + 1) % max(1, len(poses) // 4) == 0:
            progress(f"frames {n + 1}/{len(poses)}")
    (frames_dir / "lowres_wide.traj").write_text("\n".join(lines) + "\n")


def write_metadata(path: Path, rows: list[tuple[str, str]]) -> None:
    """`3dod/metadata.csv`: video_id, visit_id, sky_direction, fold (one visit per demo video)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "visit_id", "sky_direction", "fold"])
        for video_id, sky in rows:
            writer.writerow([video_id, str(int(video_id) + 1000000), sky, "Training"])
