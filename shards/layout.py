"""Paths of the corpus layout (docs/corpus.md). Every writer and reader goes through these names."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

MANIFEST = "manifest.json"


def shard_name(shard_no: int) -> str:
    return f"qa-{shard_no:06d}"


def shards_dir(out: Path) -> Path:
    return out / "shards"


def tar_path(out: Path, shard_no: int) -> Path:
    return shards_dir(out) / f"{shard_name(shard_no)}.tar"


def index_path(out: Path, shard_no: int) -> Path:
    return shards_dir(out) / f"{shard_name(shard_no)}.parquet"


def done_marker(out: Path, shard_no: int) -> Path:
    """Written last, after the shard's tar and index: its presence means the shard is complete."""
    return shards_dir(out) / f"{shard_name(shard_no)}.done.json"


def failed_marker(out: Path, shard_no: int) -> Path:
    """A scene that failed deterministically; a resumed build does not retry it unless asked."""
    return out / "rejects" / "scenes" / f"{shard_name(shard_no)}.failed.json"


def rejects_path(out: Path, shard_no: int) -> Path:
    return out / "rejects" / f"{shard_name(shard_no)}.parquet"


def media_dir(out: Path) -> Path:
    return out / "media"


def media_path(out: Path, ref: str) -> Path:
    """OUT/media/<ref>. Every path a build writes stays under OUT: a reference that is absolute or climbs out
    (`..`) cannot come from a validated scene id, so it is a bug and raises ValueError."""
    parts = PurePosixPath(ref).parts
    if not ref or PurePosixPath(ref).is_absolute() or ".." in parts or "\\" in ref:
        raise ValueError(f"media reference {ref!r} would leave {media_dir(out)}")
    return media_dir(out).joinpath(*parts)


def manifest_path(out: Path) -> Path:
    return out / MANIFEST
