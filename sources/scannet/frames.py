"""FrameStore implementations: the export folders (color/, depth/) and a `.sens` stream read by seeking.

Both decode one frame per call and hold no pixels; both pickle cheaply (paths and small index arrays), so a
scene can travel to a worker process.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import cv2
import numpy as np

from sources.paths import OUTSIDE, Boundary
from sources.scannet.sens import COLOR_JPEG, SensIndex, decode_depth
from sources.scene import FrameError

EXPORT_DEPTH_SHIFT = 1000.0  # export PNGs hold millimetres


class ExportFrameStore:
    """Frames of the export folders; a file that resolves outside `boundary` or cannot be read is a FrameError."""

    def __init__(
        self, scene_dir: Path, depth_shift: float = EXPORT_DEPTH_SHIFT, boundary: Boundary | None = None
    ) -> None:
        self.scene_dir = Path(scene_dir)
        self.depth_shift = depth_shift
        self.boundary = boundary or Boundary.of(self.scene_dir)

    def path(self, folder: str, index: int, suffix: str) -> Path:
        path = self.scene_dir / folder / f"{index}{suffix}"
        problem = self.boundary.problem(path)
        if problem is not None:
            raise FrameError(OUTSIDE, problem)
        return path

    def depth(self, index: int) -> np.ndarray:
        path = self.path("depth", index, ".png")
        raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if raw is None:
            raise FrameError("depth_unreadable", f"cannot decode {path.name}")
        if raw.dtype != np.uint16 or raw.ndim != 2:
            raise FrameError("depth_not_uint16", f"{path.name} is {raw.dtype} {raw.shape}")
        return raw.astype(np.float32) / np.float32(self.depth_shift)

    def color_jpeg(self, index: int) -> bytes:
        path = self.path("color", index, ".jpg")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise FrameError("color_unreadable", f"{path.name}: {exc.strerror or exc}") from exc


class SensFrameStore:
    """Reads one frame's payload at its indexed offset; the file handle is opened lazily and not pickled."""

    def __init__(self, index: SensIndex) -> None:
        self.index = index
        self._handle = None

    def __getstate__(self) -> dict:
        return {"index": self.index, "_handle": None}

    def __del__(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def _read(self, offset: int, size: int) -> bytes:
        if self._handle is None:
            self._handle = self.index.path.open("rb")
        self._handle.seek(int(offset))
        data = self._handle.read(int(size))
        if len(data) != size:
            raise FrameError("short_read", f"{self.index.path.name} at byte {offset}")
        return data

    def depth(self, index: int) -> np.ndarray:
        try:
            raw = decode_depth(
                self._read(self.index.depth_offsets[index], self.index.depth_sizes[index]), self.index.header
            )
        except (ValueError, zlib.error) as exc:  # a payload that is not the header's W x H uint16
            raise FrameError("depth_unreadable", f"frame {index}: {exc}") from exc
        return raw.astype(np.float32) / np.float32(self.index.header.depth_shift)

    def color_jpeg(self, index: int) -> bytes:
        payload = self._read(self.index.color_offsets[index], self.index.color_sizes[index])
        if self.index.header.color_compression == COLOR_JPEG:
            return payload
        # PNG (1) payloads re-encode; raw (0) colour is H x W x 3 RGB.
        if self.index.header.color_compression == 1:
            image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
            if image is None:
                raise FrameError("color_undecodable", f"frame {index}: PNG payload")
        else:
            width, height = self.index.header.color_size
            if len(payload) != width * height * 3:
                raise FrameError("color_size_mismatch", f"frame {index}: raw payload of {len(payload)} bytes")
            image = np.frombuffer(payload, np.uint8).reshape(height, width, 3)[..., ::-1]
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise OSError("JPEG encoding failed")
        return encoded.tobytes()
