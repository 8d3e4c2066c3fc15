"""The scene's `<id>.txt`: CRLF "key = value" lines, whose values may hold spaces and slashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sources.scene import SceneError


def parse_meta(path: Path) -> dict[str, str]:
    text = Path(path).read_bytes().decode("utf-8", errors="replace")
    meta: dict[str, str] = {}
    for line in text.splitlines():  # handles \r\n, \n and stray \r
        line = line.strip()
        if not line:
            continue
        key, sep, value = line.partition(" = ")
        if not sep:  # tolerate "key=value" written without spaces
            key, sep, value = line.partition("=")
        if sep:
            meta[key.strip()] = value.strip()
    return meta


def axis_alignment(meta: dict[str, str]) -> np.ndarray:
    """The 4x4 row-major axisAlignment; identity when the line is absent (test scenes, old files)."""
    raw = meta.get("axisAlignment")
    if raw is None:
        return np.eye(4)
    try:
        values = np.array([float(v) for v in raw.split()], dtype=np.float64)
    except ValueError as exc:
        raise SceneError(f"axisAlignment is not numeric: {raw[:60]!r}") from exc
    if values.size != 16 or not np.all(np.isfinite(values)):
        raise SceneError(f"axisAlignment needs 16 finite numbers, got {values.size}")
    matrix = values.reshape(4, 4)
    if not np.allclose(matrix[3], [0, 0, 0, 1]):
        raise SceneError("axisAlignment is not an affine transform (last row is not 0 0 0 1)")
    return matrix


def image_size(meta: dict[str, str], stream: str) -> tuple[int, int] | None:
    """(width, height) of the `color` or `depth` stream when the .txt states it."""
    try:
        width, height = int(meta[f"{stream}Width"]), int(meta[f"{stream}Height"])
    except (KeyError, ValueError):
        return None
    return (width, height) if width > 0 and height > 0 else None


def intrinsic_from_meta(meta: dict[str, str], stream: str) -> np.ndarray | None:
    """3x3 from fx_/fy_/mx_/my_ lines: the fallback when intrinsic/*.txt and the .sens are both absent."""
    try:
        fx, fy, cx, cy = (float(meta[f"{k}_{stream}"]) for k in ("fx", "fy", "mx", "my"))
    except (KeyError, ValueError):
        return None
    return np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1]], dtype=np.float64)
