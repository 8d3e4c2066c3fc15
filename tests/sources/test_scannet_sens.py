"""The .sens v4 stream: write_sens/read round trip, indexing that never touches payloads, damaged files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from sources.scannet.frames import SensFrameStore
from sources.scannet.sens import SensFrame, SensHeader, read_sens_header, read_sens_index, write_sens
from sources.scene import SceneError


def header() -> SensHeader:
    ic = np.array([[1165.7, 0, 649.1, 0], [0, 1165.7, 484.8, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    idp = np.array([[575.7, 0, 320.3, 0], [0, 578.1, 240.1, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    ext = np.eye(4)
    ext[:3, 3] = [0.025, 0, 0]
    return SensHeader(intrinsic_color=ic, intrinsic_depth=idp, color_size=(1296, 968), depth_size=(40, 30),
                      extrinsic_depth=ext, sensor_name="StructureSensor")  # fmt: skip


def frames(n: int, rng: np.random.Generator) -> list[SensFrame]:
    out = []
    for i in range(n):
        pose = np.eye(4)
        pose[:3, 3] = rng.normal(size=3)
        depth = rng.integers(0, 5000, size=(30, 40), dtype=np.uint16)
        jpeg = b"\xff\xd8" + rng.bytes(100 + 37 * i) + b"\xff\xd9"  # payload bytes are opaque to the format
        out.append(SensFrame(pose, jpeg, depth, 1_000_000 + 33_366 * i, 1_000_050 + 33_366 * i))
    return out


def test_round_trip_is_identical(tmp_path: Path) -> None:
    written = frames(7, np.random.default_rng(0))
    path = tmp_path / "a.sens"
    assert (
        write_sens(path, header(), iter(written)) == 7
    )  # a generator is fine: the count is patched at the end
    index = read_sens_index(path)
    assert len(index) == 7 and index.truncated == 0 and index.header.frame_count == 7
    h = index.header
    np.testing.assert_allclose(h.intrinsic_color, header().intrinsic_color, rtol=1e-6)
    np.testing.assert_allclose(h.intrinsic_depth, header().intrinsic_depth, rtol=1e-6)
    np.testing.assert_allclose(h.extrinsic_depth[:3, 3], [0.025, 0, 0], rtol=1e-6)
    assert (h.color_size, h.depth_size, h.depth_shift, h.sensor_name) == (
        (1296, 968),
        (40, 30),
        1000.0,
        "StructureSensor",
    )
    assert (h.color_compression, h.depth_compression) == (2, 1)
    store = SensFrameStore(index)
    for i, frame in enumerate(written):
        np.testing.assert_allclose(index.poses[i], frame.pose, atol=1e-6)  # float32 on disk
        assert index.color_timestamps[i] == frame.color_timestamp
        assert index.depth_timestamps[i] == frame.depth_timestamp
        assert store.color_jpeg(i) == frame.color_jpeg
        depth = store.depth(i)
        assert depth.dtype == np.float32 and depth.shape == (30, 40)
        np.testing.assert_array_equal(np.round(depth * 1000).astype(np.uint16), frame.depth)
    assert read_sens_header(path).frame_count == 7


def test_indexing_a_large_stream_reads_only_frame_heads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3000 frames declaring 2 MB payloads each (a 6 GB sparse file): indexing must seek, never read payloads."""
    path = tmp_path / "big.sens"
    write_sens(path, header(), [])
    n, color_bytes, depth_bytes = 3000, 1_500_000, 500_000
    with path.open("r+b") as handle:
        handle.seek(0, 2)
        start = handle.tell()
        handle.seek(start - 8)
        handle.write(struct.pack("<Q", n))
        for i in range(n):
            handle.seek(start + i * (96 + color_bytes + depth_bytes))
            handle.write(
                np.eye(4, dtype="<f4").tobytes() + struct.pack("<4Q", i * 33_000, i, color_bytes, depth_bytes)
            )
        handle.seek(start + n * (96 + color_bytes + depth_bytes) - 1)
        handle.write(b"\0")
    if path.stat().st_blocks * 512 > 200_000_000:
        pytest.skip("filesystem without sparse files")
    read_bytes: list[int] = []
    real_open = Path.open

    class CountingFile:
        def __init__(self, handle) -> None:
            self.handle = handle

        def read(self, size: int = -1) -> bytes:
            data = self.handle.read(size)
            read_bytes.append(len(data))
            return data

        def __getattr__(self, name: str):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

    monkeypatch.setattr(Path, "open", lambda self, *a, **k: CountingFile(real_open(self, *a, **k)))
    index = read_sens_index(path)
    assert len(index) == n and index.truncated == 0
    assert index.color_offsets[1] == start + (96 + color_bytes + depth_bytes) + 96
    assert index.depth_sizes[-1] == depth_bytes
    assert sum(read_bytes) < 400 + n * 96  # header + one frame head per frame, no payload byte


def test_truncated_stream_keeps_complete_frames(tmp_path: Path) -> None:
    path = tmp_path / "t.sens"
    write_sens(path, header(), frames(5, np.random.default_rng(1)))
    full = read_sens_index(path)
    path.write_bytes(path.read_bytes()[: int(full.depth_offsets[3]) + 5])  # frame 3's depth cut short
    index = read_sens_index(path)
    assert len(index) == 3 and index.truncated == 2


def test_damaged_header_is_a_scene_error(tmp_path: Path) -> None:
    path = tmp_path / "h.sens"
    path.write_bytes(struct.pack("<I", 3) + b"\0" * 400)
    with pytest.raises(SceneError, match="version 3"):
        read_sens_index(path)
    path.write_bytes(struct.pack("<IQ", 4, 10) + b"short")
    with pytest.raises(SceneError, match="truncated .sens header"):
        read_sens_index(path)


def test_garbage_frame_count_does_not_allocate(tmp_path: Path) -> None:
    path = tmp_path / "g.sens"
    write_sens(path, header(), frames(2, np.random.default_rng(2)))
    data = bytearray(path.read_bytes())
    count_at = 4 + 8 + len("StructureSensor") + 256 + 28
    data[count_at : count_at + 8] = struct.pack("<Q", 2**62)
    path.write_bytes(bytes(data))
    index = read_sens_index(path)
    assert len(index) == 2
