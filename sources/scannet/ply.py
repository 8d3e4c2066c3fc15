"""A small PLY reader for ScanNet meshes: binary (either endianness) or ASCII, checked against its header.

A numpy reader of the known layout is fast on 100k-vertex meshes and, unlike generic loaders, says exactly what
is wrong with a truncated download (expected vs found body length).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sources.scene import SceneError

_SCALAR = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip


@dataclass
class _Element:
    name: str
    count: int
    scalars: list[tuple[str, str]]  # (property name, numpy type code)
    lists: list[tuple[str, str, str]]  # (property name, count type, item type)


@dataclass
class PlyMesh:
    vertex: np.ndarray  # structured array, one record per vertex (x, y, z, red, ..., label)
    faces: np.ndarray  # (M, 3) int32


def _parse_header(handle, name: str) -> tuple[str, list[_Element], int]:
    if handle.readline().strip() != b"ply":
        raise SceneError(f"{name}: not a PLY file")
    fmt = ""
    elements: list[_Element] = []
    while True:
        line = handle.readline()
        if not line:
            raise SceneError(f"{name}: PLY header has no end_header")
        words = line.decode("ascii", errors="replace").split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "end_header":
            return fmt, elements, handle.tell()
        if words[0] == "format":
            fmt = words[1]
        elif words[0] == "element":
            elements.append(_Element(words[1], int(words[2]), [], []))
        elif words[0] == "property" and elements:
            if words[1] == "list":
                elements[-1].lists.append((words[4], _SCALAR[words[2]], _SCALAR[words[3]]))
            else:
                elements[-1].scalars.append((words[2], _SCALAR[words[1]]))


def element_counts(path: Path) -> dict[str, int]:
    """Element name -> count from the header alone (cheap: no body is read)."""
    with open(path, "rb") as handle:
        _, elements, _ = _parse_header(handle, path.name)
    return {e.name: e.count for e in elements}


def read_ply(path: Path) -> PlyMesh:
    """Vertices as a structured array and triangles; SceneError on anything truncated or malformed."""
    path = Path(path)
    name = path.name
    try:
        with path.open("rb") as handle:
            fmt, elements, body_start = _parse_header(handle, name)
            body = handle.read()
    except (KeyError, ValueError, IndexError) as exc:
        raise SceneError(f"{name}: malformed PLY header ({exc})") from exc
    except OSError as exc:
        raise SceneError(f"{name}: cannot read ({exc.strerror})") from exc
    by_name = {e.name: e for e in elements}
    if "vertex" not in by_name:
        raise SceneError(f"{name}: PLY has no vertex element")
    if fmt == "ascii":
        mesh = _read_ascii(body, elements, name)
    elif fmt in ("binary_little_endian", "binary_big_endian"):
        mesh = _read_binary(body, elements, "<" if fmt == "binary_little_endian" else ">", name)
    else:
        raise SceneError(f"{name}: unsupported PLY format {fmt!r}")
    n = len(mesh.vertex)
    if mesh.faces.size and (mesh.faces.min() < 0 or mesh.faces.max() >= n):
        raise SceneError(f"{name}: face index out of range for {n} vertices")
    return mesh


def _read_binary(body: bytes, elements: list[_Element], order: str, name: str) -> PlyMesh:
    vertex = None
    faces = np.zeros((0, 3), dtype=np.int32)
    offset = 0
    for element in elements:
        if element.lists and element.name != "face":
            raise SceneError(f"{name}: list property in element {element.name!r} is not supported")
        if element.name == "face":
            faces, offset = _binary_faces(body, offset, element, order, name)
            continue
        dtype = np.dtype([(p, order + t) for p, t in element.scalars])
        size = dtype.itemsize * element.count
        if offset + size > len(body):
            raise SceneError(
                f"{name}: truncated: {element.name} needs {size} bytes at {offset}, body has {len(body)}"
            )
        records = np.frombuffer(body, dtype=dtype, count=element.count, offset=offset)
        offset += size
        if element.name == "vertex":
            vertex = records
    return PlyMesh(vertex=vertex, faces=faces)


def _binary_faces(
    body: bytes, offset: int, element: _Element, order: str, name: str
) -> tuple[np.ndarray, int]:
    if len(element.lists) != 1:
        raise SceneError(f"{name}: face element needs exactly one list property")
    _, count_type, item_type = element.lists[0]
    before = [(p, order + t) for p, t in element.scalars]  # scalars assumed before the list (as writers do)
    # Fast path: every face a triangle, which is what ScanNet writes; verified below through the count field.
    dtype = np.dtype([*before, ("n", order + count_type), ("v", order + item_type, (3,))])
    size = dtype.itemsize * element.count
    if offset + size > len(body):
        raise SceneError(
            f"{name}: truncated: {element.count} triangles need {size} bytes at {offset}, body has {len(body)}"
        )
    records = np.frombuffer(body, dtype=dtype, count=element.count, offset=offset)
    if element.count and not np.all(records["n"] == 3):
        raise SceneError(f"{name}: faces are not all triangles (or the face data is corrupt)")
    return records["v"].astype(np.int32), offset + size


def _read_ascii(body: bytes, elements: list[_Element], name: str) -> PlyMesh:
    lines = body.decode("ascii", errors="replace").splitlines()
    cursor = 0
    vertex = None
    faces = np.zeros((0, 3), dtype=np.int32)
    for element in elements:
        chunk = lines[cursor : cursor + element.count]
        cursor += element.count
        if len(chunk) < element.count:
            raise SceneError(
                f"{name}: truncated: {element.name} needs {element.count} lines, found {len(chunk)}"
            )
        try:
            if element.name == "face":
                rows = [row.split() for row in chunk]
                skip = len(element.scalars)
                if any(len(r) != skip + 4 or r[skip] != "3" for r in rows):
                    raise SceneError(f"{name}: faces are not all triangles")
                faces = np.array([r[skip + 1 : skip + 4] for r in rows], dtype=np.int32).reshape(-1, 3)
            elif element.name == "vertex":
                dtype = np.dtype([(p, t) for p, t in element.scalars])
                table = np.array([row.split()[: len(dtype)] for row in chunk], dtype=np.float64)
                vertex = np.zeros(element.count, dtype=dtype)
                for i, field_name in enumerate(dtype.names):
                    vertex[field_name] = table[:, i]
        except ValueError as exc:
            raise SceneError(f"{name}: malformed ASCII {element.name} data") from exc
    return PlyMesh(vertex=vertex, faces=faces)
