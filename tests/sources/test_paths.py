"""Boundary.resolve caches folders; it must still resolve every path exactly as Path.resolve does."""

from __future__ import annotations

from pathlib import Path

from sources.paths import Boundary


def test_resolve_agrees_with_path_resolve_for_files_links_and_missing_paths(tmp_path: Path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "scene" / "pose").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    (outside / "frames").mkdir()
    (outside / "frames" / "1.txt").write_text("x")
    (root / "scene" / "pose" / "0.txt").write_text("x")
    (root / "scene" / "pose" / "1.txt").symlink_to(outside / "secret.txt")  # a file linked out
    (root / "scene" / "linked").symlink_to(outside / "frames")  # a folder linked out
    (root / "scene" / "pose" / "2.txt").symlink_to(root / "scene" / "pose" / "0.txt")  # a link inside
    boundary = Boundary.of(root)
    paths = [
        root / "scene" / "pose" / "0.txt",
        root / "scene" / "pose" / "1.txt",
        root / "scene" / "pose" / "2.txt",
        root / "scene" / "pose" / "9.txt",  # missing
        root / "scene" / "linked" / "1.txt",
        root / "scene" / "pose" / ".." / "pose" / "0.txt",
        root / "scene" / "pose" / "..",
    ]
    for path in paths * 2:  # the second round reads the folder cache
        assert boundary.resolve(path) == path.resolve(), path
    inside = [boundary.contains(p) for p in paths]
    assert inside == [True, False, True, True, False, True, True]
