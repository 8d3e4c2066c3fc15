"""A cache of geometry-stage output, shared by `build` and `generate`, so rule work does not redo geometry.

The key is everything the facts depend on: the scene's input files (relative path, size and mtime of every file
the source names for the scene; a file rewritten in place gets a new mtime), the reader and geometry settings, and
the code of the stages that produce facts (sources/, pipeline/geometry/, schemas/facts.py). Change any of them and
the entry is simply not found; stale entries are never read. Entries are pickles written atomically, so a crash
leaves either the old state or the new entry. Location: $SICORPUS_CACHE, else $XDG_CACHE_HOME/sicorpus, else
~/.cache/sicorpus; `SICORPUS_CACHE=off` disables it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.numerics import blas_kernel
from schemas.facts import SceneFacts
from shards.atomic import atomic_write

FORMAT = 2  # bump when the pickled layout changes in a way the code digest cannot see
_CODE_ROOTS = ("sources", "pipeline/geometry", "schemas/facts.py")  # with sources/data (e.g. sky directions)


def cache_root() -> Path | None:
    """The cache folder, or None when disabled."""
    env = os.environ.get("SICORPUS_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sicorpus"


@cache
def code_digest() -> str:
    """Digest of the code that turns input files into facts (a rule-only change leaves it unchanged)."""
    repo = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(str(FORMAT).encode())
    for rel in _CODE_ROOTS:
        base = repo / rel
        files = (
            [base]
            if base.is_file()
            else sorted(f for f in base.rglob("*") if f.suffix in (".py", ".csv", ".txt"))
        )
        for f in files:
            h.update(str(f.relative_to(repo)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def inputs_digest(paths: list[Path]) -> str:
    """(relative path, size, mtime_ns) of every file under the given files/folders, in sorted order."""
    h = hashlib.sha256()
    for top in paths:
        top = Path(top)
        if not top.exists():  # an optional input (a label map, metadata.csv) that is not there
            h.update(str(top).encode() + b"\0absent\n")
            continue
        if top.is_file():
            entries = [(top.name, top)]
        else:
            entries = sorted(
                (str(Path(d, f).relative_to(top)), Path(d, f))
                for d, _, names in os.walk(top, followlinks=False)
                for f in names
            )
        h.update(str(top).encode() + b"\0")
        for rel, path in entries:
            st = path.stat()
            h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def facts_key(source: str, scene_id: str, inputs: list[Path], settings: dict[str, Any]) -> str:
    h = hashlib.sha256()
    for part in (source, scene_id, inputs_digest(inputs), repr(sorted(settings.items())), code_digest()):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def geometry_settings(geometry_config: Any, reader: dict[str, Any]) -> dict[str, Any]:
    """The settings that change facts: the geometry config (minus the thread count), the reader's options and the
    BLAS kernel."""
    settings = {f"geometry.{k}": v for k, v in asdict(geometry_config).items() if k != "threads"}
    if settings.get("geometry.device") == "auto":  # CUDA facts equal CPU facts only within tolerance
        settings["geometry.device"] = "auto-gpu" if Path("/dev/nvidia0").exists() else "auto-cpu"
    settings.update({f"reader.{k}": str(v) for k, v in reader.items()})
    settings["numerics.blas"] = blas_kernel()  # kernels differ in the last bits (pipeline/numerics.py)
    return settings


@dataclass
class CachedFacts:
    """What the geometry stage leaves behind: the facts, and the frames it skipped and warnings it added to the
    scene (a cached build's manifest must say what a computed one says)."""

    facts: SceneFacts
    skipped_frames: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load(key: str) -> CachedFacts | None:
    root = cache_root()
    if root is None:
        return None
    path = _entry(root, key)
    try:
        with path.open("rb") as f:
            entry = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None  # absent, or written by an incompatible version: recompute
    return entry if isinstance(entry, CachedFacts) and isinstance(entry.facts, SceneFacts) else None


def store(key: str, entry: CachedFacts) -> None:
    root = cache_root()
    if root is None:
        return
    try:
        atomic_write(_entry(root, key), pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a full or read-only cache never fails a build; the facts are still used


def _entry(root: Path, key: str) -> Path:
    return root / "facts" / key[:2] / f"{key}.pkl"
