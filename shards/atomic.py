"""Write-then-rename, so a crash never leaves a partial file under its final name.

Temporaries are named `.<final name>.sicorpus-tmp-<pid>` beside their final file: a resumed build removes
exactly these (`is_temporary`), never a user's own hidden or temporary files.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

TEMP_TAG = ".sicorpus-tmp-"
_TEMPORARY = re.compile(r"\..+" + re.escape(TEMP_TAG) + r"\d+")


def temporary_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{TEMP_TAG}{os.getpid()}")


def is_temporary(name: str) -> bool:
    """True for a name `temporary_path` makes (and for nothing a user is likely to name a file)."""
    return _TEMPORARY.fullmatch(name) is not None


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write(path: Path, data: bytes) -> None:
    with atomic_file(path) as f:
        f.write(data)


def atomic_write_with(path: Path, write: Callable[[Path], None]) -> None:
    """For libraries that want a path (pyarrow): write to a temporary path, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
