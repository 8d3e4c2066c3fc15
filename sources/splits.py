"""Official splits and benchmark scene lists, vendored as package data (provenance: `sources/data/*/PROVENANCE.md`).

One question answered in one place: may this scan enter training data? Benchmarks are matched by **room**, not by
id: ScanNet rescans `sceneRRRR_SS` share room `sceneRRRR`, ARKitScenes videos share a `visit_id`, a ScanNet++ scene
is its own room. Every reader, `build --split`, `ingest` and `decontaminate` ask this module.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

SPLITS = ("train", "val", "test", "all")
UNLISTED = "unlisted"  # a scan no official list names (a user's own scans): built with `train`

_SCANNET_ID = re.compile(r"^scene\d{4}_\d{2}$")


@dataclass(frozen=True)
class Benchmark:
    name: str
    source: str  # the dataset its scenes come from ("scannet", "scannetpp", "arkitscenes", "coco")
    file: str  # under sources/data/benchmarks/


BENCHMARKS = (
    Benchmark("VSI-Bench", "scannet", "vsibench_scannet.txt"),
    Benchmark("VSI-Bench", "scannetpp", "vsibench_scannetpp.txt"),
    Benchmark("VSI-Bench", "arkitscenes", "vsibench_arkitscenes.txt"),
    Benchmark("ViewSpatial-Bench", "scannet", "viewspatial_scannet.txt"),
    Benchmark("ViewSpatial-Bench", "coco", "viewspatial_coco_val2017.txt"),
)

# Benchmarks that ship their images embedded (a parquet), with no scene ids: `decontaminate --benchmark FILE.parquet`
# matches them by image hash (docs/benchmark-hygiene.md).
IMAGE_ONLY_BENCHMARKS = ("MMSI-Bench", "SPAR-Bench")

_SPLIT_FILES = {
    "scannet": {
        "train": "scannetv2_train.txt",
        "val": "scannetv2_val.txt",
        "test": "scannetv2_test.txt",
    },
    "scannetpp": {"train": "nvs_sem_train.txt", "val": "nvs_sem_val.txt"},
}
_ARKIT_FOLDS = {"Training": "train", "Validation": "val"}


def _data(kind: str, name: str) -> str:
    return resources.files("sources").joinpath("data", kind, name).read_text(encoding="utf-8")


def _ids(kind: str, name: str) -> list[str]:
    return [line.strip() for line in _data(kind, name).splitlines() if line.strip()]


@cache
def _arkit_table() -> dict[str, tuple[str | None, str | None]]:
    """video_id -> (visit_id or None, split or None), from the 3DOD splits and the raw metadata."""
    table: dict[str, tuple[str | None, str | None]] = {}
    for name in ("arkitscenes_metadata.csv", "arkitscenes_3dod_train_val_splits.csv"):
        for row in csv.DictReader(_data("splits", name).splitlines()):
            visit = row.get("visit_id") or ""
            visit = None if visit in ("", "NA") else visit
            table[row["video_id"]] = (visit, _ARKIT_FOLDS.get(row.get("fold", "")))
    return table


@cache
def arkit_sky_direction() -> dict[str, str]:
    """video_id -> sky_direction (Up, Down, Left, Right; NA dropped): how the stored frames are rotated."""
    rows = csv.DictReader(_data("splits", "arkitscenes_metadata.csv").splitlines())
    return {r["video_id"]: r["sky_direction"] for r in rows if r.get("sky_direction") not in (None, "", "NA")}


def room_of(source: str, scene_id: str) -> str:
    """The physical room a scan shows: what benchmark overlap is judged by."""
    if source == "scannet" and _SCANNET_ID.match(scene_id):
        return scene_id[:9]  # sceneRRRR
    if source == "arkitscenes":
        visit = _arkit_table().get(scene_id, (None, None))[0]
        return f"visit {visit}" if visit else scene_id
    return scene_id


@cache
def _split_index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = {}
    for source, files in _SPLIT_FILES.items():
        index[source] = {sid: split for split, f in files.items() for sid in _ids("splits", f)}
    index["arkitscenes"] = {vid: split for vid, (_, split) in _arkit_table().items() if split}
    return index


def official_split(source: str, scene_id: str) -> str:
    """`train`, `val`, `test`, or `unlisted` when no official list of the source names the scan."""
    return _split_index().get(source, {}).get(scene_id, UNLISTED)


@cache
def _benchmark_rooms() -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(source, room) -> [(benchmark name, benchmark scene id)] for every benchmark scan."""
    rooms: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for b in BENCHMARKS:
        for line in _ids("benchmarks", b.file):
            scene_id = line.split()[0]  # the ARKitScenes list carries "video_id visit_id"
            rooms.setdefault((b.source, room_of(b.source, scene_id)), []).append((b.name, scene_id))
    return rooms


def benchmark_overlap(source: str, scene_id: str) -> list[tuple[str, str]]:
    """[(benchmark name, benchmark scene id)] of every benchmark scan in the same room as this scan."""
    return list(_benchmark_rooms().get((source, room_of(source, scene_id)), []))


def benchmark_rooms(name: str | None = None) -> dict[str, set[str]]:
    """benchmark name -> set of 'source:room' it evaluates on (one benchmark when `name` is given)."""
    out: dict[str, set[str]] = {}
    for (source, room), hits in _benchmark_rooms().items():
        for bench, _ in hits:
            if name is None or bench == name:
                out.setdefault(bench, set()).add(f"{source}:{room}")
    return out


@dataclass(frozen=True)
class SplitDecision:
    keep: bool
    split: str  # the scan's official split, or `unlisted`
    reason: str | None  # why it is excluded (None when kept)
    benchmarks: tuple[tuple[str, str], ...] = ()  # benchmark scans sharing its room

    @property
    def kind(self) -> str | None:
        """Why it is excluded, in one word for counting: `split` or `benchmark room` (None when kept)."""
        return None if self.reason is None else self.reason.split(":")[0]


def decide(source: str, scene_id: str, split: str) -> SplitDecision:
    """May `scene_id` enter a build of `split`? `train` also takes unlisted scans and drops benchmark rooms;
    `all` keeps everything (the caller warns about benchmark rooms)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; one of: {', '.join(SPLITS)}")
    own = official_split(source, scene_id)
    overlap = tuple(benchmark_overlap(source, scene_id))
    if split == "all":
        return SplitDecision(True, own, None, overlap)
    wanted = own == split or (split == "train" and own == UNLISTED)
    if not wanted:
        return SplitDecision(False, own, f"split: {own}, not {split}", overlap)
    if split == "train" and overlap:
        names = ", ".join(sorted({b for b, _ in overlap}))
        shared = ", ".join(sorted({s for _, s in overlap}))
        return SplitDecision(
            False, own, f"benchmark room: {names} ({shared}, room {room_of(source, scene_id)})", overlap
        )
    return SplitDecision(True, own, None, overlap)


def partition(source: str, scene_ids: list[str], split: str) -> tuple[list[str], list[dict[str, Any]]]:
    """(kept ids in their order, one record per excluded scan: its split, the reason and the benchmarks
    sharing its room), as the build writes them into the manifest."""
    kept: list[str] = []
    excluded: list[dict[str, Any]] = []
    for scene_id in scene_ids:
        d = decide(source, scene_id, split)
        if d.keep:
            kept.append(scene_id)
            continue
        excluded.append(
            {
                "source": source,
                "scene_id": scene_id,
                "split": d.split,
                "kind": d.kind,
                "reason": d.reason,
                "room": room_of(source, scene_id),
                "benchmarks": sorted({b for b, _ in d.benchmarks}),
            }
        )
    return kept, excluded


def rooms_held(scans: list[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """benchmark name -> (how many of its rooms these (source, scene_id) scans show, how many rooms it has in
    the sources of these scans), for the benchmarks the scans touch."""
    held = {f"{source}:{room_of(source, scene_id)}" for source, scene_id in scans}
    sources = {source for source, _ in scans}
    out = {}
    for name, rooms in sorted(benchmark_rooms().items()):
        n = len(rooms & held)
        if n:
            out[name] = (n, sum(r.split(":", 1)[0] in sources for r in rooms))
    return out


def benchmark_names() -> list[str]:
    """The benchmarks known by scene id (the vendored lists)."""
    return sorted({b.name for b in BENCHMARKS})


@cache
def lists_version() -> str:
    """Digest of every vendored list: part of a build's identity, so a resume with other lists is refused."""
    h = hashlib.sha256()
    for kind in ("splits", "benchmarks"):
        folder = resources.files("sources").joinpath("data", kind)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".txt", ".csv")):
                h.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return h.hexdigest()[:16]
