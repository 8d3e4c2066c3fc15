"""ScanNet `.sens` v4 streams: an indexing reader that never loads payloads, and a writer.

Layout (little endian): uint32 version=4; uint64 n + sensor name; float32[16] x4 (intrinsic_color, extrinsic_color,
intrinsic_depth, extrinsic_depth); int32 colour compression (2 = JPEG); int32 depth compression (1 = zlib of
uint16); uint32 colour w, h, depth w, h; float32 depth_shift; uint64 frame count; then per frame float32[16]
camera-to-world, uint64 colour/depth timestamps (microseconds), uint64 colour/depth byte counts, the two payloads.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sources.scene import SceneError

COLOR_JPEG = 2
DEPTH_ZLIB_USHORT = 1
DEPTH_RAW_USHORT = 0
_FRAME_HEAD = struct.Struct("<16f4Q")  # pose, colour ts, depth ts, colour bytes, depth bytes


@dataclass
class SensHeader:
    intrinsic_color: np.ndarray  # (4, 4)
    intrinsic_depth: np.ndarray  # (4, 4)
    color_size: tuple[int, int]  # (width, height)
    depth_size: tuple[int, int]
    extrinsic_color: np.ndarray = field(default_factory=lambda: np.eye(4))
    extrinsic_depth: np.ndarray = field(default_factory=lambda: np.eye(4))
    depth_shift: float = 1000.0
    sensor_name: str = "StructureSensor"
    color_compression: int = COLOR_JPEG
    depth_compression: int = DEPTH_ZLIB_USHORT
    frame_count: int = 0  # as declared in the file


@dataclass
class SensFrame:
    pose: np.ndarray  # (4, 4) camera-to-world
    color_jpeg: bytes
    depth: np.ndarray  # (H, W) uint16, depth units (depth_shift per metre)
    color_timestamp: int = 0  # microseconds
    depth_timestamp: int = 0


@dataclass
class SensIndex:
    """Where each frame's payloads lie, plus its pose and timestamps; built without reading payloads."""

    path: Path
    header: SensHeader
    poses: np.ndarray  # (n, 4, 4) float64
    color_timestamps: np.ndarray  # (n,) uint64
    depth_timestamps: np.ndarray
    color_offsets: np.ndarray  # (n,) int64 byte offsets
    color_sizes: np.ndarray
    depth_offsets: np.ndarray
    depth_sizes: np.ndarray
    truncated: int  # declared frames missing from the end of the file

    def __len__(self) -> int:
        return len(self.poses)


def _read_exact(handle, size: int, what: str, name: str) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise SceneError(f"{name}: truncated .sens header ({what})")
    return data


def _read_header(handle, name: str) -> SensHeader:
    (version,) = struct.unpack("<I", _read_exact(handle, 4, "version", name))
    if version != 4:
        raise SceneError(f"{name}: unsupported .sens version {version} (expected 4)")
    (name_len,) = struct.unpack("<Q", _read_exact(handle, 8, "name length", name))
    if name_len > 4096:
        raise SceneError(f"{name}: corrupt .sens header (sensor name of {name_len} bytes)")
    sensor = _read_exact(handle, name_len, "sensor name", name).decode("utf-8", errors="replace")
    mats = np.frombuffer(_read_exact(handle, 256, "matrices", name), dtype="<f4").astype(np.float64)
    mats = mats.reshape(4, 4, 4)
    color_c, depth_c, cw, ch, dw, dh, shift, count = struct.unpack(
        "<iiIIIIfQ", _read_exact(handle, 36, "sizes", name)
    )
    return SensHeader(
        intrinsic_color=mats[0], extrinsic_color=mats[1], intrinsic_depth=mats[2], extrinsic_depth=mats[3],
        color_size=(cw, ch), depth_size=(dw, dh), depth_shift=float(shift), sensor_name=sensor,
        color_compression=color_c, depth_compression=depth_c, frame_count=int(count),
    )  # fmt: skip


def read_sens_header(path: Path) -> SensHeader:
    with Path(path).open("rb") as handle:
        return _read_header(handle, Path(path).name)


def read_sens_index(path: Path) -> SensIndex:
    """Parse the header, then hop from frame head to frame head seeking over the payloads."""
    path = Path(path)
    name = path.name
    file_size = path.stat().st_size
    with path.open("rb", buffering=0) as handle:  # unbuffered: each read fetches a frame head, nothing more
        header = _read_header(handle, name)
        if header.depth_shift <= 0 or not np.isfinite(header.depth_shift):
            raise SceneError(f"{name}: invalid depth_shift {header.depth_shift}")
        n = header.frame_count
        # A garbage count must not allocate gigabytes: no more frames than frame heads fit in the file.
        capacity = min(n, max(0, file_size - handle.tell()) // _FRAME_HEAD.size)
        poses = np.empty((capacity, 4, 4), dtype=np.float64)
        stamps = np.empty((capacity, 2), dtype=np.uint64)
        sizes = np.empty((capacity, 2), dtype=np.int64)
        offsets = np.empty((capacity, 2), dtype=np.int64)
        position = handle.tell()
        done = 0
        for i in range(capacity):
            head = handle.read(_FRAME_HEAD.size)
            if len(head) != _FRAME_HEAD.size:
                break
            values = _FRAME_HEAD.unpack(head)
            color_bytes, depth_bytes = values[18], values[19]
            color_at = position + _FRAME_HEAD.size
            end = color_at + color_bytes + depth_bytes
            if end > file_size:
                break
            poses[i] = np.asarray(values[:16], dtype=np.float64).reshape(4, 4)
            stamps[i] = values[16:18]
            sizes[i] = (color_bytes, depth_bytes)
            offsets[i] = (color_at, color_at + color_bytes)
            position = end
            handle.seek(position)
            done = i + 1
    return SensIndex(
        path=path, header=header, poses=poses[:done],
        color_timestamps=stamps[:done, 0], depth_timestamps=stamps[:done, 1],
        color_offsets=offsets[:done, 0], color_sizes=sizes[:done, 0],
        depth_offsets=offsets[:done, 1], depth_sizes=sizes[:done, 1],
        truncated=n - done,
    )  # fmt: skip


def decode_depth(payload: bytes, header: SensHeader) -> np.ndarray:
    """uint16 depth (H, W) in depth units from one frame's depth payload."""
    if header.depth_compression == DEPTH_ZLIB_USHORT:
        payload = zlib.decompress(payload)
    elif header.depth_compression != DEPTH_RAW_USHORT:
        raise ValueError(f"unsupported .sens depth compression {header.depth_compression}")
    width, height = header.depth_size
    return np.frombuffer(payload, dtype="<u2").reshape(height, width)


def write_sens(path: Path, header: SensHeader, frames: Iterable[SensFrame]) -> int:
    """Write a v4 stream (JPEG colour, zlib depth); frames may be a generator. Returns the frame count."""
    path = Path(path)
    name = header.sensor_name.encode("utf-8")
    with path.open("wb") as handle:
        handle.write(struct.pack("<IQ", 4, len(name)) + name)
        for matrix in (
            header.intrinsic_color,
            header.extrinsic_color,
            header.intrinsic_depth,
            header.extrinsic_depth,
        ):
            handle.write(np.asarray(matrix, dtype="<f4").reshape(16).tobytes())
        handle.write(struct.pack("<iiIIIIf", COLOR_JPEG, DEPTH_ZLIB_USHORT, *header.color_size, *header.depth_size,
                                 header.depth_shift))  # fmt: skip
        count_at = handle.tell()
        handle.write(struct.pack("<Q", 0))
        count = 0
        for frame in frames:
            depth = np.ascontiguousarray(frame.depth, dtype="<u2")
            if depth.shape != (header.depth_size[1], header.depth_size[0]):
                raise ValueError(f"frame {count}: depth {depth.shape} does not match the header's depth size")
            depth_payload = zlib.compress(depth.tobytes(), 6)
            pose = np.asarray(frame.pose, dtype="<f4").reshape(16)
            handle.write(pose.tobytes())
            handle.write(struct.pack("<4Q", frame.color_timestamp, frame.depth_timestamp,
                                     len(frame.color_jpeg), len(depth_payload)))  # fmt: skip
            handle.write(frame.color_jpeg)
            handle.write(depth_payload)
            count += 1
        handle.seek(count_at)
        handle.write(struct.pack("<Q", count))
    return count
