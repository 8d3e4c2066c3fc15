"""Cameras decided by the images: intrinsics from intrinsic/*.txt, else the .sens header, else the .txt's fx_/mx_
lines; the size from the frames' own JPEG/PNG headers (docs/scannet.md "Cameras").

Header fields (the .txt's colorWidth, the .sens colour size) only say which size the intrinsics were written
for. When they disagree with the images, the images win: intrinsics centred on the images are used as they are;
intrinsics written for another size are scaled when that size maps onto the images by one factor (a resized
export); anything else (a crop, a rotated image, another camera) fails the scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sources.images import encoded_size
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


HEAD_BYTES = 1 << 16  # JPEG frame headers sit after the APP segments: within the first 64 KiB in practice
CENTRE_TOLERANCE = 0.05  # a principal point within 5 % of the image size from its centre "fits" that size
ONE_FACTOR_TOLERANCE = 0.01  # x and y scales may differ by 1 % (1296x968 -> 640x480 is 0.4 %): one resize


def image_file_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a JPEG or PNG file from its header, without decoding; None when unreadable."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    return encoded_size(head)


def centring_error(intrinsic: np.ndarray, size: tuple[int, int]) -> float:
    """How far the principal point lies from the centre of an image of `size`, as a share of that size."""
    k = np.asarray(intrinsic, dtype=np.float64)
    width, height = size
    return max(abs((k[0, 2] + 0.5) / width - 0.5), abs((k[1, 2] + 0.5) / height - 0.5))


def decide_camera(
    intrinsic: np.ndarray, images: tuple[int, int], stated: list[tuple[str, tuple[int, int]]], stream: str
) -> tuple[Camera, str | None]:
    """The camera of the images a stream holds (`images`: their width, height), with a one-line note when a
    header disagreed or the intrinsics were scaled. `stated`: (where, size) the headers give."""
    camera = make_camera(intrinsic, images, stream)
    others = [(where, size) for where, size in stated if tuple(size) != tuple(images)]
    error = centring_error(intrinsic, images)
    fitting = sorted(
        (centring_error(intrinsic, size), where, tuple(size)) for where, size in others if min(size) > 0
    )
    if error <= CENTRE_TOLERANCE and not (fitting and fitting[0][0] < error):
        if not others:
            return camera, None
        said = ", ".join(f"{where} says {w}x{h}" for where, (w, h) in others)
        return camera, f"{stream}: {said}, the images are {images[0]}x{images[1]} and the intrinsics fit them"
    if fitting and fitting[0][0] <= CENTRE_TOLERANCE:
        _, where, written_for = fitting[0]
    else:  # no header names the size the intrinsics were written for: the principal point does
        k = np.asarray(intrinsic, dtype=np.float64)
        where, written_for = "the principal point", (round(2 * (k[0, 2] + 0.5)), round(2 * (k[1, 2] + 0.5)))
    sx, sy = images[0] / written_for[0], images[1] / written_for[1]
    if abs(sx / sy - 1.0) > ONE_FACTOR_TOLERANCE:
        raise SceneError(
            f"{stream} intrinsics are for {written_for[0]}x{written_for[1]} ({where}) but the images are "
            f"{images[0]}x{images[1]}: scales {sx:.3f} x {sy:.3f} are not one resize"
        )
    scaled = make_camera(intrinsic, written_for, stream).scaled_to(*images)
    return scaled, (
        f"{stream}: intrinsics for {written_for[0]}x{written_for[1]} ({where}) scaled by {sx:.4f} x {sy:.4f} "
        f"to the images' {images[0]}x{images[1]}"
    )
