"""The input boundary: every file a reader opens must resolve (symlinks followed) inside the dataset.

A colour frame that is a symlink to /etc/passwd, or a pose file linked out of the tree, is refused with a reason
instead of being read (docs/scannet.md "What is checked"). The boundary is the dataset root and the scene's own
folder as each resolves, so a `scans/` that is itself a link to another disk still works.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

OUTSIDE = "outside_root"


@dataclass(frozen=True)
class Boundary:
    roots: tuple[Path, ...]

    @classmethod
    def of(cls, *folders: Path) -> Boundary:
        return cls(tuple(dict.fromkeys(Path(f).resolve() for f in folders)))

    def contains(self, path: Path) -> bool:
        resolved = Path(path).resolve()
        return any(resolved == root or resolved.is_relative_to(root) for root in self.roots)

    def problem(self, path: Path) -> str | None:
        """None when `path` resolves inside, else a one-line reason."""
        if self.contains(path):
            return None
        return f"{Path(path).name} resolves outside the dataset root (to {Path(path).resolve()})"
