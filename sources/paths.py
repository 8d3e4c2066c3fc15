"""The input boundary: every file a reader opens must resolve (symlinks followed) inside the dataset.

A colour frame that is a symlink to /etc/passwd, or a pose file linked out of the tree, is refused with a reason
instead of being read (docs/scannet.md "What is checked"). The boundary is the dataset root and the scene's own
folder as each resolves, so a `scans/` that is itself a link to another disk still works.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

OUTSIDE = "outside_root"


@dataclass(frozen=True)
class Boundary:
    roots: tuple[Path, ...]
    # folder -> where it resolves: a scene's hundreds of frame files share a few folders, and Path.resolve walks
    # every component of every path (an lstat each; ~15 ms of a ScanNet-scale scene's read)
    resolved_folders: dict[str, Path] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, *folders: Path) -> Boundary:
        return cls(tuple(dict.fromkeys(Path(f).resolve() for f in folders)))

    def resolve(self, path: Path) -> Path:
        """`Path(path).resolve()`: a file that is not itself a link resolves to where its folder resolves."""
        path = Path(path)
        try:
            is_link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:  # missing or unreadable: resolved as it is, like Path.resolve
            return path.resolve()
        if is_link or path.name in ("", ".", ".."):
            return path.resolve()
        folder = str(path.parent)
        if folder not in self.resolved_folders:
            self.resolved_folders[folder] = path.parent.resolve()
        return self.resolved_folders[folder] / path.name

    def contains(self, path: Path) -> bool:
        resolved = self.resolve(path)
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def problem(self, path: Path) -> str | None:
        """None when `path` resolves inside, else a one-line reason."""
        if self.contains(path):
            return None
        return f"{Path(path).name} resolves outside the dataset root (to {self.resolve(path)})"
