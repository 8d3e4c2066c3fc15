"""Colour frames of the ScanNet++ iPhone stream: `iphone/rgb.mkv` decoded at the asked frames only, or the
extracted `iphone/rgb/frame_%06d.jpg` when the download carries them (their original bytes are shipped).

Frame k is the k-th decoded frame, as the toolkit's `ffmpeg -i rgb.mkv -start_number 0 frame_%06d.jpg` numbers
them. The capture stays open and moves forward: a short gap is grabbed through (grab() does not convert
pixels), a long one is a seek; asking for an earlier frame reopens the file.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sources.scene import SceneError

JPEG_QUALITY = 95
SEEK_GAP = 240  # frames: beyond this a seek is cheaper than grabbing through


def jpg_path(iphone: Path, k: int) -> Path:
    return iphone / "rgb" / f"frame_{k:06d}.jpg"


def probe_video(path: Path) -> tuple[int, int, int]:
    """(width, height, frame count or 0 when the container does not say); SceneError when it cannot be decoded."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        if not capture.isOpened():
            raise SceneError(f"{path.name}: cannot be opened as a video")
        ok, image = capture.read()
        if not ok or image is None:
            raise SceneError(f"{path.name}: no decodable frame")
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        return int(image.shape[1]), int(image.shape[0]), max(count, 0)
    finally:
        capture.release()


class VideoFrames:
    """JPEG bytes of video frame k; pickles as its path (the capture is reopened in the worker)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._capture = None
        self._next = 0  # index of the frame the next grab() returns

    def __getstate__(self) -> dict:
        return {"path": self.path, "_capture": None, "_next": 0}

    def __del__(self) -> None:
        if self._capture is not None:
            self._capture.release()

    def _open(self) -> None:
        if self._capture is not None:
            self._capture.release()
        self._capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        self._next = 0
        if not self._capture.isOpened():
            raise OSError(f"{self.path.name}: cannot be opened as a video")

    def image(self, k: int) -> np.ndarray:
        if self._capture is None or k < self._next:
            self._open()
        if k - self._next > SEEK_GAP:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, k)
            self._next = int(self._capture.get(cv2.CAP_PROP_POS_FRAMES))
            if self._next > k:  # the seek overshot: fall back to decoding from the start
                self._open()
        while self._next < k:
            if not self._capture.grab():
                raise OSError(f"{self.path.name}: the video ends at frame {self._next}, before frame {k}")
            self._next += 1
        ok, image = self._capture.read()
        if not ok or image is None:
            raise OSError(f"{self.path.name}: frame {k} cannot be decoded")
        self._next += 1
        return image

    def jpeg(self, k: int) -> bytes:
        ok, encoded = cv2.imencode(".jpg", self.image(k), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise OSError("JPEG encoding failed")
        return encoded.tobytes()
