"""One build per OUT: the lock names its holder, a dead holder's lock is stale, an unwritable OUT is one error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.errors import UserError
from shards.lock import BuildLock, lock_path


def test_a_held_lock_refuses_a_second_build_and_names_the_holder(tmp_path: Path) -> None:
    with BuildLock(tmp_path / "out"):
        holder = json.loads(lock_path(tmp_path / "out").read_text())
        assert (holder["pid"], holder["host"]) == (os.getpid(), socket.gethostname())
        with pytest.raises(UserError, match=f"another build \\(pid {os.getpid()} on {socket.gethostname()}"):
            BuildLock(tmp_path / "out").acquire()
    assert not lock_path(tmp_path / "out").exists()  # released: the file goes with it
    with BuildLock(tmp_path / "out"):  # and can be taken again
        pass


def test_a_lock_held_by_another_process(tmp_path: Path) -> None:
    code = (
        "import sys, time; from pathlib import Path; from shards.lock import BuildLock\n"
        "lock = BuildLock(Path(sys.argv[1])); lock.acquire(); print('held', flush=True); time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(UserError, match=f"pid {child.pid} "):
            BuildLock(tmp_path).acquire()
    finally:
        child.kill()  # like kill -9: the kernel releases the lock, the file stays behind
        child.wait()
    assert lock_path(tmp_path).exists()
    lock = BuildLock(tmp_path)
    with lock:
        assert lock.took_over is not None and lock.took_over["pid"] == child.pid  # the stale lock taken over


def test_an_output_folder_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file, not a folder"):
        BuildLock(tmp_path / "file").acquire()
    with pytest.raises(UserError, match="cannot be created"):
        BuildLock(tmp_path / "file" / "out").acquire()
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "ro").mkdir(mode=0o500)
        with pytest.raises(UserError, match="not writable"):
            BuildLock(tmp_path / "ro").acquire()


def test_without_flock_the_recorded_pid_and_host_decide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shards.lock

    monkeypatch.setattr(shards.lock, "_flock", lambda fd: None)  # a file system without flock
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    here = socket.gethostname()
    for holder, held in (
        ({"pid": int(dead.stdout), "host": here, "started": 0}, False),  # stale: that process is gone
        ({"pid": os.getppid(), "host": here, "started": 0}, True),  # alive on this host
        ({"pid": 1, "host": "other-node", "started": 0}, True),  # another host: cannot be checked, trusted
    ):
        lock_path(tmp_path).write_text(json.dumps(holder))
        if held:
            with pytest.raises(UserError, match=f"pid {holder['pid']} on {holder['host']}"):
                BuildLock(tmp_path).acquire()
        else:
            with BuildLock(tmp_path) as lock:
                assert lock.took_over == holder
