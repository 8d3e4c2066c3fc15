"""Near-duplicate images by perceptual hash: corpus frames against a benchmark's embedded images.

Two DCT hashes (imagehash.phash) per image: 64 bits (8x8) to find candidates, 256 bits (16x16) to confirm them, so
that at millions of frame-image pairs a chance agreement of the short hash is not reported. A corpus frame is also
hashed after centred crops of 3 % and 6 % per side, which covers benchmark images cropped slightly. Thresholds and
the measured distances behind them: docs/benchmark-hygiene.md.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from schemas.errors import UserError

SHORT_MAX = 12  # of 64 bits: re-encoded / resized frames measure 0-4, 3 % crops <= 10, other rooms >= 16
LONG_MAX = 64  # of 256 bits: re-encoded / resized 0-6, 3 % crops <= 46, other rooms >= 88
CROPS = (0.0, 0.03, 0.06)  # centred crops of a corpus frame, per side
DRAFT = (128, 128)  # JPEGs are decoded at a reduced scale (>= this size): the hashes read 64 px
BATCH_ROWS = 32  # benchmark rows read at a time (the images are embedded: rows are large)


@dataclass(frozen=True)
class Hashes:
    short: np.ndarray  # (V,) uint64, one per variant
    long: np.ndarray  # (V, 4) uint64


def _bits(h: imagehash.ImageHash) -> np.ndarray:
    return np.packbits(h.hash.flatten()).view(">u8").astype(np.uint64)


def _gray(data: bytes | Path) -> Image.Image:
    img = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    img.draft("L", DRAFT)  # JPEG only: decode at 1/2, 1/4 or 1/8 scale
    return img.convert("L")


def image_hashes(data: bytes | Path, crops: tuple[float, ...] = (0.0,)) -> Hashes:
    """Hashes of an image (file path or encoded bytes), one per centred crop."""
    img = _gray(data)
    w, h = img.size
    short, long = [], []
    for f in crops:
        dx, dy = int(f * w), int(f * h)
        part = (img.crop((dx, dy, w - dx, h - dy)) if f else img).resize((64, 64), Image.LANCZOS)
        short.append(_bits(imagehash.phash(part, hash_size=8))[0])  # reads it at 32 px
        long.append(_bits(imagehash.phash(part, hash_size=16)))  # at 64 px
    return Hashes(np.array(short, dtype=np.uint64), np.array(long, dtype=np.uint64))


@dataclass
class BenchmarkImages:
    """The hashes of every image of one benchmark file; `where[i]` says which row and column image i is."""

    name: str
    short: np.ndarray  # (N,) uint64
    long: np.ndarray  # (N, 4) uint64
    where: list[str]
    unreadable: int = 0

    def matches(self, frame: Hashes) -> list[tuple[int, int]]:
        """[(benchmark image index, long-hash distance)] of the images this frame nearly duplicates."""
        if not len(self.short):
            return []
        near = np.bitwise_count(frame.short[:, None] ^ self.short[None, :]).min(axis=0) <= SHORT_MAX
        found = []
        for i in np.flatnonzero(near):
            d = int(np.bitwise_count(frame.long ^ self.long[i][None, :]).sum(axis=1).min())
            if d <= LONG_MAX:
                found.append((int(i), d))
        return found


def _image_columns(schema: pa.Schema) -> list[str]:
    """Columns holding encoded images: binary, a struct with a `bytes` field (the Hugging Face Image feature),
    or a list of either."""

    def is_image(t: pa.DataType) -> bool:
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return True
        if pa.types.is_struct(t):
            return any(t.field(i).name == "bytes" and is_image(t.field(i).type) for i in range(t.num_fields))
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return is_image(t.value_type)
        return False

    return [f.name for f in schema if is_image(f.type)]


def _encoded(value: object) -> Iterator[bytes]:
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, dict):
        if value.get("bytes"):
            yield value["bytes"]
    elif isinstance(value, list):
        for v in value:
            yield from _encoded(v)


def load_benchmark(path: Path) -> BenchmarkImages:
    """Hash every image of a benchmark parquet, reading a few rows at a time."""
    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as e:
        raise UserError(f"{path} is not a readable parquet file: {str(e).splitlines()[0]}") from None
    columns = _image_columns(file.schema_arrow)
    if not columns:
        raise UserError(f"{path} has no image column (binary, or a struct with `bytes`, or a list of them)")
    short, long, where, unreadable = [], [], [], 0
    row = 0
    for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        for record in batch.to_pylist():
            for column in columns:
                for k, data in enumerate(_encoded(record[column])):
                    try:
                        h = image_hashes(data)
                    except (OSError, ValueError, Image.DecompressionBombError):
                        unreadable += 1
                        continue
                    short.append(h.short[0])
                    long.append(h.long[0])
                    where.append(f"row {row} {column}[{k}]")
            row += 1
    return BenchmarkImages(
        path.stem,
        np.array(short, dtype=np.uint64),
        np.array(long, dtype=np.uint64).reshape(-1, 4),
        where,
        unreadable,
    )
