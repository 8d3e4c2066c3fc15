"""Terminal progress of a build: scenes done/failed, samples per second, ETA (rich on a terminal, lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class BuildProgress:
    def __init__(self, total: int, already: int, enabled: bool = True):
        self.total, self.done, self.failed, self.samples = total, already, 0, 0
        self.ran = 0  # scenes finished in this run (the ETA ignores those done before a resume)
        self.start = time.perf_counter()
        self.enabled = enabled
        self.console = Console(stderr=True)
        self.bar: Progress | None = None
        if enabled and self.console.is_terminal:
            self.bar = Progress(
                TextColumn("[bold]scenes"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self.task = self.bar.add_task("build", total=total, completed=already, status="")
            self.bar.start()
        elif enabled and already:
            print(f"resuming: {already}/{total} scenes already done", file=sys.stderr)

    def scene_finished(self, record: dict[str, Any]) -> None:
        self.done += 1
        if record.get("status") == "ok":
            self.samples += record.get("n_samples", 0)
        else:
            self.failed += 1
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = self.samples / elapsed
        self.ran += 1
        eta = elapsed / self.ran * (self.total - self.done)
        status = f"failed {self.failed} | {self.samples} samples | {rate:.0f} samples/s | ETA {eta:.0f} s"
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done, status=status)
        elif self.enabled:
            what = "ok" if record.get("status") == "ok" else f"FAILED ({record.get('reason')})"
            print(
                f"[{self.done}/{self.total}] {record.get('scene_id')}: {what} | {status}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
