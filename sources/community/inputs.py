"""Input files cut into chunks that a task reads on its own, in constant memory: byte ranges of a jsonl (a line
belongs to the chunk its first byte lies in), row groups of a parquet, a whole file for a JSON array."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from schemas.errors import UserError


@dataclass(frozen=True)
class Chunk:
    file: str  # as given (or found under a given folder)
    kind: str  # jsonl | json | parquet
    start: int  # jsonl: byte offset; parquet: first row group; json: 0
    end: int  # jsonl: byte offset (exclusive); parquet: row group after the last; json: 0

    def label(self) -> str:
        return f"{self.file}:{self.start}-{self.end}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def expand(paths: list[Path], suffixes: tuple[str, ...]) -> list[Path]:
    """Files named, and files with a format's suffix under folders named (sorted), in command-line order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(suffixes))
            if not found:
                raise UserError(f"no {'/'.join(suffixes)} files under {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"input {path} does not exist")
    seen: set[Path] = set()
    return [f for f in files if not (f.resolve() in seen or seen.add(f.resolve()))]


def _is_json_array(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    return head.startswith(b"[")


def plan_chunks(files: list[Path], chunk_bytes: int, parquet_rows: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    for path in files:
        name = str(path)
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            start, rows = 0, 0
            for g in range(meta.num_row_groups):
                rows += meta.row_group(g).num_rows
                if rows >= parquet_rows:
                    chunks.append(Chunk(name, "parquet", start, g + 1))
                    start, rows = g + 1, 0
            if start < meta.num_row_groups:
                chunks.append(Chunk(name, "parquet", start, meta.num_row_groups))
        elif _is_json_array(path):
            chunks.append(Chunk(name, "json", 0, 0))
        else:
            size = path.stat().st_size
            for start in range(0, max(size, 1), chunk_bytes):
                chunks.append(Chunk(name, "jsonl", start, min(start + chunk_bytes, size)))
    return chunks


def iter_objects(chunk: Chunk) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(record index, object) per record of the chunk; a string instead of an object says why it is unreadable.
    Index: byte offset of the line (jsonl), row number (parquet), array position (json)."""
    if chunk.kind == "jsonl":
        yield from _jsonl(chunk)
    elif chunk.kind == "json":
        with open(chunk.file, encoding="utf-8") as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as e:
                yield 0, f"malformed json: {e.msg} at line {e.lineno}"
                return
        if not isinstance(data, list):
            yield 0, "malformed json: the file is not an array of records"
            return
        for i, obj in enumerate(data):
            yield i, obj if isinstance(obj, dict) else "malformed record: not an object"
    else:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(chunk.file)
        row = sum(pf.metadata.row_group(g).num_rows for g in range(chunk.start))
        for g in range(chunk.start, chunk.end):
            for batch in pf.iter_batches(row_groups=[g], batch_size=256):
                for obj in batch.to_pylist():
                    yield row, obj
                    row += 1


def _jsonl(chunk: Chunk) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with open(chunk.file, "rb") as f:
        if chunk.start > 0:
            f.seek(chunk.start - 1)
            f.readline()  # the line that began before the chunk belongs to the previous one
        while True:
            offset = f.tell()
            if offset >= chunk.end and not (chunk.end == 0 and offset == 0):
                return
            line = f.readline()
            if not line:
                return
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                yield offset, "malformed json: a line is not valid JSON"
                continue
            yield offset, obj if isinstance(obj, dict) else "malformed record: not an object"
