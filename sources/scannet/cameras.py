"""Intrinsics and image sizes: intrinsic/*.txt first, then the .sens header, then the .txt's fx_/mx_ lines."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from sources.scene import Camera, SceneError


def read_matrix(path: Path) -> np.ndarray | None:
    """A 3x3 or 4x4 whitespace matrix file (intrinsic_*.txt, pose/*.txt); None when unparsable."""
    try:
        values = np.array(
            [float(v) for v in Path(path).read_text(errors="replace").split()], dtype=np.float64
        )
    except (OSError, ValueError):
        return None
    if values.size == 16:
        return values.reshape(4, 4)
    if values.size == 9:
        return values.reshape(3, 3)
    return None


def make_camera(intrinsic: np.ndarray, size: tuple[int, int], stream: str) -> Camera:
    k = np.asarray(intrinsic, dtype=np.float64)[:3, :3]
    fx, fy, cx, cy = float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2])
    if not (np.isfinite([fx, fy, cx, cy]).all() and fx > 0 and fy > 0):
        raise SceneError(f"{stream} intrinsics are not a valid pinhole matrix")
    width, height = size
    if width <= 0 or height <= 0:
        raise SceneError(f"{stream} image size {width}x{height} is invalid")
    return Camera(fx=fx, fy=fy, cx=cx, cy=cy, width=int(width), height=int(height))


def image_file_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG from its IHDR without decoding; other formats through OpenCV."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(24)
    except OSError:
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) == 24:
        width, height = struct.unpack(">II", head[16:24])
        return int(width), int(height)
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    return None if image is None else (int(image.shape[1]), int(image.shape[0]))
