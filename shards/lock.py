"""One build per output folder: an exclusive lock file `OUT/.build.lock` naming its holder (pid, host, start).

The lock is a kernel lock (flock) on that file, so a holder killed with -9 releases it by dying: a lock file
whose lock is free is stale and is taken over. Where the file system has no flock (some network mounts), the
recorded pid and host decide instead: a live pid on this host holds it, a dead one is stale, and a holder on
another host is trusted until the user removes the file. Taking the lock is also the check that OUT is writable.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from schemas.errors import UserError

LOCK_NAME = ".build.lock"


def lock_path(out: Path) -> Path:
    return Path(out) / LOCK_NAME


class BuildLock:
    """`with BuildLock(out):` holds OUT for one build; raises UserError when another build holds it."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = lock_path(out)
        self.fd: int | None = None
        self.took_over: dict[str, Any] | None = None  # the stale holder this lock replaced, if any

    def __enter__(self) -> BuildLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        _make_out(self.out)
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise UserError(f"output folder {self.out} is not writable: {e.strerror}") from None
            try:
                locked = _flock(fd)
                if locked is None:  # no flock here: decide by the recorded holder
                    holder = _holder(fd)
                    if holder and _alive(holder):
                        raise UserError(_held_message(self.out, holder))
                elif not locked:
                    raise UserError(_held_message(self.out, _holder(fd)))
                # The file may have been unlinked by a holder releasing it between our open and our lock.
                if os.path.exists(self.path) and os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        self.took_over = _holder(fd)
        record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        os.fsync(fd)
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # still holding it: nobody else can be between open and lock
        finally:
            os.close(self.fd)  # releases the flock
            self.fd = None


def _make_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"output folder {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"output folder {out} cannot be created: {e.strerror}") from None


def _flock(fd: int) -> bool | None:
    """True when locked, False when another process holds it, None when the file system has no flock."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as e:
        if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
            return None
        raise


def _holder(fd: int) -> dict[str, Any] | None:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _alive(holder: dict[str, Any]) -> bool:
    """Whether the recorded holder may still run: a pid on another host cannot be checked, so it may."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname():
        return True
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _held_message(out: Path, holder: dict[str, Any] | None) -> str:
    who = "another build"
    if holder:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(holder.get("started", 0))))
        who = f"another build (pid {holder.get('pid')} on {holder.get('host')}, since {since})"
    return (
        f"{out} is being written by {who}; wait for it to finish or use another --out "
        f"(if that build is gone, delete {lock_path(out)})"
    )
