"""`sicorpus decontaminate`: the scans of a corpus that a benchmark evaluates on (docs/benchmark-hygiene.md).

Works from the parquet index alone (`source`, `scene_id`, `images`) and the files under media/, so a built, an
ingested or a mixed corpus is checked the same way. By scene id: a scan overlaps a benchmark when it shows a room
the benchmark uses (`sources.splits.room_of`); the scans named by media paths (`<source>/<scene>/...`) count too.
By image: each distinct media file is hashed once, in sorted order from DuckDB, and compared with the hashes of a
benchmark parquet's embedded images (`shards.image_match`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from schemas.errors import UserError
from shards.image_match import CROPS, BenchmarkImages, image_hashes, load_benchmark
from shards.index import connect
from shards.layout import media_dir
from sources.splits import IMAGE_ONLY_BENCHMARKS, benchmark_names, benchmark_overlap, room_of

FETCH_ROWS = 2048

# Distinct frame paths first, then their scan folders: 6x faster than splitting every row's paths.
_SCANS_SQL = (
    "SELECT source, scene_id FROM qa GROUP BY ALL UNION "
    "SELECT split_part(ref, '/', 1), split_part(ref, '/', 2) FROM (SELECT DISTINCT unnest(images) AS ref FROM qa) "
    "WHERE len(string_split(ref, '/')) >= 3"
)
_FRAMES_SQL = (
    "SELECT ref, min(source), min(scene_id) FROM (SELECT source, scene_id, unnest(images) AS ref FROM qa) "
    "GROUP BY ref ORDER BY ref"
)


def _scans_sql(con) -> str:
    """Ingested rows name their scan's dataset in `scene_source` (their `source` is the QA dataset's name)."""
    columns = {row[0] for row in con.execute("DESCRIBE qa").fetchall()}
    if "scene_source" not in columns:  # a corpus written before the column existed
        return _SCANS_SQL
    return _SCANS_SQL + " UNION SELECT scene_source, scene_id FROM qa WHERE coalesce(scene_source, '') <> ''"


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def resolve_benchmarks(args: list[str]) -> tuple[list[str], list[Path]]:
    """(benchmark names checked by scene id, benchmark parquet files checked by image). No NAME given: every
    benchmark known by scene id."""
    known = {_key(n): n for n in benchmark_names()}
    image_only = {_key(n): n for n in IMAGE_ONLY_BENCHMARKS}
    names: list[str] = []
    files: list[Path] = []
    for arg in args:
        path = Path(arg)
        if _key(arg) in known and not path.exists():
            names.append(known[_key(arg)])
        elif path.suffix == ".parquet" or path.exists():
            if not path.is_file():
                raise UserError(f"benchmark file {path} does not exist")
            files.append(path)
        elif _key(arg) in image_only:
            raise UserError(
                f"{image_only[_key(arg)]} ships images, not scene ids: download its parquet and pass "
                "--benchmark FILE.parquet"
            )
        else:
            raise UserError(
                f"unknown benchmark {arg!r}; known: {', '.join(benchmark_names())}, or a .parquet of benchmark images"
            )
    return (sorted(set(names)) or benchmark_names()), files


@dataclass
class Finding:
    """What one scan of the corpus shares with the benchmarks."""

    source: str
    scene_id: str
    benchmarks: set[str] = field(default_factory=set)  # by room
    room: str | None = None
    frames: dict[str, list[tuple[str, str, int]]] = field(
        default_factory=dict
    )  # file -> [(ref, image, dist)]

    def names(self) -> list[str]:
        return sorted(self.benchmarks) + sorted(set(self.frames) - self.benchmarks)

    def detail(self) -> str:
        parts = []
        if self.benchmarks and self.room:
            parts.append(self.room if self.room.startswith("visit ") else f"room {self.room}")
        for name, hits in sorted(self.frames.items()):
            ref, where, dist = hits[0]
            count = f"{len(hits)} frame{'s' if len(hits) > 1 else ''}"
            parts.append(f"{count} match {name} images, e.g. {ref} ~ {where}, distance {dist}/256")
        return "; ".join(parts)


@dataclass
class DecontaminationResult:
    benchmarks: list[str]  # every benchmark checked (names, then files by stem)
    scans: int
    frames: int = 0  # distinct media files hashed
    missing_frames: int = 0  # media files named by the index but absent
    unreadable: int = 0  # benchmark images that could not be decoded
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        multi = len({s for s, _ in self.findings}) > 1
        out = []
        for (source, scene_id), f in sorted(self.findings.items()):
            label = f"{source}/{scene_id}" if multi else scene_id
            out.append(f"{label}: {', '.join(f.names())} ({f.detail()})")
        return out

    def summary(self) -> str:
        checked = f"checked {self.scans} scans"
        if self.frames or self.missing_frames:
            checked += f" ({self.frames} frames hashed, {self.missing_frames} missing)"
        checked += f" against {', '.join(self.benchmarks)}"
        if self.unreadable:
            checked += f" ({self.unreadable} benchmark images unreadable)"
        if self.ok:
            return f"{checked}: clean"
        n = len(self.findings)
        return f"{checked}: {n} scan{'s' if n > 1 else ''} overlap{'' if n > 1 else 's'}"


def decontaminate(out: Path, benchmarks: list[str]) -> DecontaminationResult:
    names, files = resolve_benchmarks(benchmarks)
    wanted = set(names)
    con = connect(Path(out))
    con.execute("SET enable_progress_bar = false")  # stdout and stderr carry the report
    try:
        scans = con.execute(_scans_sql(con)).fetchall()
        result = DecontaminationResult(names + [p.stem for p in files], len(scans))
        for source, scene_id in scans:
            hits = [name for name, _ in benchmark_overlap(source, scene_id) if name in wanted]
            if hits:
                f = result.findings.setdefault((source, scene_id), Finding(source, scene_id))
                f.benchmarks.update(hits)
                f.room = room_of(source, scene_id)
        if files:
            loaded = [load_benchmark(p) for p in files]
            result.unreadable = sum(b.unreadable for b in loaded)
            _match_frames(con, Path(out), loaded, result)
            if not result.frames and result.missing_frames:
                raise UserError(
                    f"none of the {result.missing_frames} media files the index names is under {media_dir(Path(out))}: "
                    "the image check needs the corpus frames"
                )
    finally:
        con.close()
    return result


def _match_frames(con, out: Path, loaded: list[BenchmarkImages], result: DecontaminationResult) -> None:
    """Hash every distinct media file once (streamed in sorted order) and compare it with each benchmark."""
    root = media_dir(out)
    cursor = con.execute(_FRAMES_SQL)
    while rows := cursor.fetchmany(FETCH_ROWS):
        for ref, source, scene_id in rows:
            rel = Path(ref)
            path = root / rel
            if rel.is_absolute() or ".." in rel.parts or not path.is_file():
                result.missing_frames += 1
                continue
            try:
                frame = image_hashes(path, CROPS)
            except OSError:
                result.missing_frames += 1
                continue
            result.frames += 1
            for bench in loaded:
                found = bench.matches(frame)
                if not found:
                    continue
                i, dist = min(found, key=lambda m: m[1])
                f = result.findings.setdefault((source, scene_id), Finding(source, scene_id))
                f.frames.setdefault(bench.name, []).append((ref, bench.where[i], dist))
