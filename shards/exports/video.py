"""`--video mp4`: a video sample's frames as one mp4 (OpenCV VideoWriter), written once per distinct frame list."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2

FPS = 2.0  # frames are seconds apart in the scan; trainers resample by their own fps anyway


def video_ref(refs: list[str]) -> str:
    """videos/<source>/<scene>/<digest of the frame list>.mp4 (the frames' folder, one file per frame list)."""
    digest = hashlib.sha1("\n".join(refs).encode()).hexdigest()[:16]
    folder = Path(refs[0]).parent.as_posix()
    return f"videos/{folder}/{digest}.mp4"


def encode_mp4(frames: list[Path], dst: Path) -> None:
    """Encode the frames in order; frames of another size are resized to the first one's."""
    first = cv2.imread(str(frames[0]), cv2.IMREAD_COLOR)
    if first is None:
        raise ValueError(f"cannot decode {frames[0]}")
    h, w = first.shape[:2]

    def write(path: Path) -> None:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
        if not writer.isOpened():
            raise RuntimeError("OpenCV cannot write mp4 (mp4v) here")
        try:
            for i, frame in enumerate(frames):
                image = first if i == 0 else cv2.imread(str(frame), cv2.IMREAD_COLOR)
                if image is None:
                    raise ValueError(f"cannot decode {frame}")
                if image.shape[:2] != (h, w):
                    image = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
                writer.write(image)
        finally:
            writer.release()

    # the temporary name must still end in .mp4: OpenCV picks the container from the suffix
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.tmp.mp4")
    write(tmp)
    tmp.replace(dst)


def frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        n = 0
        while capture.read()[0]:
            n += 1
        return n
    finally:
        capture.release()
