"""ScanNet++ `iphone/depth.bin`: the three encodings the official toolkit reads, decoded one frame at a time.

1. one raw-deflate stream of float32 metres for the whole file (frames of 256 x 192 back to back);
2. per frame a 4-byte little-endian size, then an lz4 block of uint16 millimetres;
3. per frame a 4-byte size, then a raw-deflate block of float32 metres.
Layouts 2 and 3 are told apart per frame (lz4 first, as the toolkit does); layout 1 is what a file is when its
size prefixes do not walk exactly to its end. Frame k of the file is iPhone frame k (`frame_%06d`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sources.scene import SceneError

WIDTH, HEIGHT = 256, 192
FLOAT_FRAME = WIDTH * HEIGHT * 4
MM_FRAME = WIDTH * HEIGHT * 2
CHUNK = 1 << 20


@dataclass
class DepthIndex:
    path: Path
    offsets: np.ndarray | None  # (F,) start of each frame's payload (per-frame layouts); None = one stream
    sizes: np.ndarray | None
    frames: int

    def __len__(self) -> int:
        return self.frames


def _walk_prefixes(path: Path, file_size: int) -> tuple[np.ndarray, np.ndarray] | None:
    offsets, sizes = [], []
    position = 0
    with path.open("rb") as handle:
        while position < file_size:
            head = handle.read(4)
            if len(head) < 4:
                return None
            size = int.from_bytes(head, "little")
            if size == 0 or size > FLOAT_FRAME + 1024 or position + 4 + size > file_size:
                return None
            offsets.append(position + 4)
            sizes.append(size)
            position += 4 + size
            handle.seek(position)
    return np.asarray(offsets, dtype=np.int64), np.asarray(sizes, dtype=np.int64)


def read_depth_index(path: Path) -> DepthIndex:
    """Where every frame is; SceneError when the file is none of the three layouts (truncated, not deflate)."""
    path = Path(path)
    try:
        file_size = path.stat().st_size
    except OSError as exc:
        raise SceneError(f"{path.name}: unreadable ({exc})") from exc
    if file_size == 0:
        raise SceneError(f"{path.name}: empty")
    walked = _walk_prefixes(path, file_size)
    if walked is not None:
        return DepthIndex(path, walked[0], walked[1], len(walked[0]))
    total = 0
    for block in _inflate(path):
        total += len(block)
    if total == 0 or total % FLOAT_FRAME:
        raise SceneError(f"{path.name}: {total} decoded bytes are not whole {WIDTH}x{HEIGHT} float32 frames")
    return DepthIndex(path, None, None, total // FLOAT_FRAME)


def _inflate(path: Path):
    decoder = zlib.decompressobj(-zlib.MAX_WBITS)
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                yield decoder.decompress(chunk)
            yield decoder.flush()
        except zlib.error as exc:
            raise SceneError(
                f"{path.name}: neither size-prefixed frames nor one deflate stream ({exc})"
            ) from exc
    if not decoder.eof:
        raise SceneError(f"{path.name}: deflate stream is truncated")


def decode_frame(payload: bytes, name: str) -> np.ndarray:
    """One size-prefixed payload -> float32 metres (lz4 uint16 mm, else raw-deflate float32 m)."""
    try:
        import lz4.block

        raw = lz4.block.decompress(payload, uncompressed_size=MM_FRAME)
        if len(raw) == MM_FRAME:
            return np.frombuffer(raw, dtype="<u2").reshape(HEIGHT, WIDTH).astype(np.float32) / np.float32(
                1000
            )
    except Exception:  # noqa: BLE001 - not an lz4 block: the toolkit falls back to deflate the same way
        pass
    try:
        raw = zlib.decompress(payload, wbits=-zlib.MAX_WBITS)
    except zlib.error as exc:
        raise OSError(f"{name}: a depth frame is neither lz4 nor deflate ({exc})") from exc
    if len(raw) != FLOAT_FRAME:
        raise OSError(f"{name}: a depth frame holds {len(raw)} bytes, expected {FLOAT_FRAME}")
    return np.frombuffer(raw, dtype="<f4").reshape(HEIGHT, WIDTH).copy()


@dataclass
class DepthReader:
    """Decodes frame k on demand; for the single-stream layout it inflates forward (restarting when asked for
    an earlier frame), so frames asked in increasing order cost one pass over the file."""

    index: DepthIndex
    _stream: object = field(default=None, repr=False)
    _next: int = field(default=0, repr=False)
    _buffer: bytes = field(default=b"", repr=False)

    def __getstate__(self) -> dict:
        return {"index": self.index, "_stream": None, "_next": 0, "_buffer": b""}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def frame(self, k: int) -> np.ndarray:
        if not 0 <= k < self.index.frames:
            raise OSError(f"{self.index.path.name}: no depth frame {k} (it holds {self.index.frames})")
        if self.index.offsets is not None:
            with self.index.path.open("rb") as handle:
                handle.seek(int(self.index.offsets[k]))
                payload = handle.read(int(self.index.sizes[k]))
            return decode_frame(payload, self.index.path.name)
        if self._stream is None or k < self._next:
            self._stream, self._next, self._buffer = _inflate(self.index.path), 0, b""
        pending = bytearray(self._buffer)
        while True:
            while len(pending) < FLOAT_FRAME:
                pending += next(self._stream)
            self._next += 1
            if self._next - 1 == k:
                frame = np.frombuffer(bytes(pending[:FLOAT_FRAME]), dtype="<f4").reshape(HEIGHT, WIDTH).copy()
                self._buffer = bytes(pending[FLOAT_FRAME:])
                return frame
            del pending[:FLOAT_FRAME]  # frames passed over are dropped without a copy of the rest


def encode_lz4_frames(frames_mm: list[np.ndarray]) -> bytes:
    """The per-frame lz4 layout (what the demo writes)."""
    import lz4.block

    out = bytearray()
    for depth in frames_mm:
        block = lz4.block.compress(np.ascontiguousarray(depth, dtype="<u2").tobytes(), store_size=False)
        out += len(block).to_bytes(4, "little") + block
    return bytes(out)
