"""`sicorpus mix`: a corpus of `target` samples drawn from other corpora by a recipe (docs/mix-export.md).

Selection rule: every candidate gets the key md5(seed, id); a cell (category, subtask, source) takes its first k
candidates in key order, so adding an input never reorders the others. Counts come from shares: categories get
`target x share` (largest remainder), a category's subtasks share it evenly (max-min fair: a small subtask gives
what it lacks to the others), a subtask's sources share it by the `[source]` weights (evenly without them).
Explicit `[subtask]` shares are fixed counts; integer values in `[source]`/`[subtask]` are caps. `max_repeat`
lets a cell repeat its samples (every sample k//n times, the first k%n once more).

Everything runs over the inputs' parquet indexes in DuckDB (spilling to disk, bounded memory); a sample's JSON is
read from its input tar at the index's byte offset; frames are hard-linked (a symlink across filesystems), never
copied. The output is a corpus like a build's: shards, index, markers, media, manifest.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tarfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import tomllib
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, model_validator

from schemas.errors import UserError
from shards.atomic import atomic_write
from shards.index import committed_indexes
from shards.layout import manifest_path, media_dir, shards_dir
from shards.writer import write_scene_shard
from taxonomy import CATEGORIES
from taxonomy.ingest_map import ALL_SUBTASKS as SUBTASKS  # ingested corpora carry community subtasks too

MIX_VERSION = "1"
SHARE_TOLERANCE = 1e-6
SOURCE_SLACK = 0.01  # a source's realised share may miss its weight by this much of the target (docs)


class Recipe(BaseModel):
    """The recipe file (TOML). Floats in [source]/[subtask] are shares of `target`, integers are caps."""

    model_config = ConfigDict(extra="forbid")
    target: int = Field(gt=0)
    seed: int = 0
    inputs: list[str] = Field(min_length=1)
    category: dict[str, float] = Field(min_length=1)
    source: dict[str, StrictInt | StrictFloat] = Field(default_factory=dict)
    subtask: dict[str, StrictInt | StrictFloat] = Field(default_factory=dict)
    max_repeat: int = Field(default=1, ge=1)
    shard_size: int = Field(default=10_000, gt=0)

    @model_validator(mode="after")
    def _check(self) -> Recipe:
        for name in self.category:
            if name not in CATEGORIES:
                raise ValueError(f"unknown category {name!r}; one of: {', '.join(CATEGORIES)}")
        if any(v < 0 for v in self.category.values()):
            raise ValueError("category shares must not be negative")
        total = sum(self.category.values())
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"category shares sum to {total:g}, not 1")
        for table, values in (("source", self.source), ("subtask", self.subtask)):
            for name, v in values.items():
                if isinstance(v, float) and not 0 <= v <= 1:
                    raise ValueError(f"{table}.{name}: a share is a float in [0, 1] (an integer is a cap)")
                if isinstance(v, int) and v < 0:
                    raise ValueError(f"{table}.{name}: a cap must not be negative")
        shares = [v for v in self.source.values() if isinstance(v, float)]
        if shares and abs(sum(shares) - 1) > SHARE_TOLERANCE:
            raise ValueError(f"source shares sum to {sum(shares):g}, not 1")
        fixed: dict[str, float] = {}
        for name, v in self.subtask.items():
            if name not in SUBTASKS:
                raise ValueError(f"unknown subtask {name!r} (see `sicorpus subtasks`)")
            if isinstance(v, float):
                cat = SUBTASKS[name].category
                fixed[cat] = fixed.get(cat, 0.0) + v
        for cat, v in fixed.items():
            if v > self.category.get(cat, 0.0) + SHARE_TOLERANCE:
                raise ValueError(
                    f"subtask shares of {cat} sum to {v:g}, more than its category share {self.category.get(cat, 0.0):g}"
                )
        return self


def load_recipe(path: Path) -> tuple[Recipe, list[Path]]:
    """The validated recipe and its input folders (relative paths are relative to the recipe file)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"recipe {path} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"recipe {path}: not valid TOML: {e}") from None
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        message = first["msg"].removeprefix("Value error, ")
        raise UserError(f"recipe {path.name}: {where + ': ' if where else ''}{message}") from None
    inputs = []
    for raw in recipe.inputs:
        folder = Path(raw) if Path(raw).is_absolute() else path.parent / raw
        if not committed_indexes(folder):
            raise UserError(f"recipe input {raw}: no corpus index under {folder}/shards")
        inputs.append(folder)
    return recipe, inputs


# ------------------------------------------------------------------------------------------------ the plan


def fair_split(total: int, caps: list[int], weights: list[float]) -> list[int]:
    """Weighted max-min fair integer split of `total` under `caps`: a share a child cannot take goes to the
    others in proportion to their weights; integer rounding by largest remainder, ties to the lower index."""
    alloc = [0] * len(caps)
    active = [i for i, (c, w) in enumerate(zip(caps, weights, strict=True)) if c > 0 and w > 0]
    remaining = total
    while remaining > 0 and active:
        wsum = sum(weights[i] for i in active)
        shares = {i: remaining * weights[i] / wsum for i in active}
        capped = [i for i in active if alloc[i] + shares[i] >= caps[i]]
        if capped:
            for i in capped:
                remaining -= caps[i] - alloc[i]
                alloc[i] = caps[i]
            active = [i for i in active if i not in capped]
            continue
        floors = {i: math.floor(shares[i]) for i in active}
        extra = remaining - sum(floors.values())
        for i in sorted(active, key=lambda i: (-(shares[i] - floors[i]), i))[:extra]:
            floors[i] += 1
        for i in active:
            alloc[i] += floors[i]
        remaining = 0
    return alloc


def largest_remainder(total: int, shares: dict[str, float]) -> dict[str, int]:
    exact = {k: total * v for k, v in shares.items()}
    out = {k: math.floor(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[: total - sum(out.values())]:
        out[k] += 1
    return out


@dataclass
class Row:
    cell: str
    available: int
    wanted: int
    taken: int
    fixed: bool  # a count the recipe fixed (a shortfall here means the recipe is not met)

    @property
    def shortfall(self) -> int:
        return max(0, self.wanted - self.taken)


@dataclass
class Plan:
    target: int
    rows: list[Row]
    alloc: dict[
        tuple[str, str, str], tuple[int, int]
    ]  # (category, subtask, source) -> (k taken, n available)
    source_rows: list[Row] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return sum(k for k, _ in self.alloc.values())

    def failures(self) -> list[Row]:
        short = [r for r in self.rows if r.fixed and r.shortfall > 0]
        return short + [r for r in self.source_rows if r.shortfall > SOURCE_SLACK * self.target]

    def table(self) -> str:
        rows = [*self.rows, *self.source_rows]
        rows.append(Row("TOTAL", sum(n for _, n in self.alloc.values()), self.target, self.taken, True))
        header = ("cell", "available", "wanted", "taken", "shortfall")
        cells = [header] + [(r.cell, r.available, r.wanted, r.taken, r.shortfall) for r in rows]
        widths = [max(len(str(c[i])) for c in cells) for i in range(5)]
        lines = []
        for c in cells:
            lines.append(
                "  ".join(
                    str(v).ljust(w) if i == 0 else str(v).rjust(w)
                    for i, (v, w) in enumerate(zip(c, widths, strict=True))
                )
            )
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def shortfall_line(self) -> str | None:
        bad = self.failures()
        if not bad:
            return None
        worst = max(bad, key=lambda r: (r.shortfall, r.cell))
        more = f"; {len(bad) - 1} more cell(s) short" if len(bad) > 1 else ""
        return (
            f"recipe cannot be met: {worst.cell} wants {worst.wanted}, only {worst.taken} can be taken "
            f"({worst.available} available){more} (table above; --allow-shortfall writes what there is)"
        )


def make_plan(recipe: Recipe, available: dict[tuple[str, str, str], int]) -> Plan:
    """Counts per cell from the recipe and the available samples per (category, subtask, source)."""
    source_caps = {k: v for k, v in recipe.source.items() if isinstance(v, int)}
    source_shares = {k: v for k, v in recipe.source.items() if isinstance(v, float)}
    source_total: dict[str, int] = {}
    for (_, _, src), n in available.items():
        source_total[src] = source_total.get(src, 0) + n * recipe.max_repeat

    def capacity(key: tuple[str, str, str]) -> int:
        n = available[key] * recipe.max_repeat
        src = key[2]
        if src in source_caps and source_total[src] > source_caps[src]:
            n = n * source_caps[src] // source_total[src]  # a source cap thins it evenly over its cells
        if source_shares and source_shares.get(src, 0.0) <= 0:
            n = 0  # with [source] shares, an unnamed source is left out
        return n

    def weight(src: str) -> float:
        return source_shares.get(src, 0.0) if source_shares else 1.0

    rows: list[Row] = []
    alloc: dict[tuple[str, str, str], tuple[int, int]] = {}
    wanted_cat = largest_remainder(recipe.target, {c: s for c, s in recipe.category.items() if s > 0})
    for cat in CATEGORIES:
        if cat not in wanted_cat:
            continue
        subtasks = [s for s in SUBTASKS if SUBTASKS[s].category == cat]
        leaves = {s: sorted(k for k in available if k[0] == cat and k[1] == s) for s in subtasks}
        sub_cap = {s: sum(capacity(k) for k in leaves[s]) for s in subtasks}
        for s in subtasks:
            cap = recipe.subtask.get(s)
            if isinstance(cap, int):
                sub_cap[s] = min(sub_cap[s], cap)
        fixed = {
            s: round(recipe.target * v)
            for s, v in recipe.subtask.items()
            if s in leaves and isinstance(v, float)
        }
        free = [s for s in subtasks if s not in fixed and sub_cap[s] > 0]
        remaining = max(0, wanted_cat[cat] - sum(fixed.values()))
        split = dict(
            zip(free, fair_split(remaining, [sub_cap[s] for s in free], [1.0] * len(free)), strict=True)
        )
        sub_rows = []
        cat_avail = 0
        for s in subtasks:
            want = fixed.get(s, split.get(s, 0))
            ks = leaves[s]
            got = fair_split(min(want, sub_cap[s]), [capacity(k) for k in ks], [weight(k[2]) for k in ks])
            for k, g in zip(ks, got, strict=True):
                alloc[k] = (g, available[k])
            avail = sum(available[k] for k in ks)
            cat_avail += avail
            if s in fixed or avail:
                sub_rows.append(
                    Row(f"{cat}/{s}", avail, want if s in fixed else sum(got), sum(got), s in fixed)
                )
        taken = sum(r.taken for r in sub_rows)
        rows.append(Row(cat, cat_avail, wanted_cat[cat], taken, True))
        rows.extend(sub_rows)
    source_rows = []
    for src in sorted({k[2] for k in available} | set(source_shares)):
        taken = sum(k for key, (k, _) in alloc.items() if key[2] == src)
        avail = sum(n for key, n in available.items() if key[2] == src)
        wanted = round(recipe.target * source_shares[src]) if src in source_shares else taken
        rows_src = Row(f"source:{src}", avail, wanted, taken, src in source_shares)
        source_rows.append(rows_src)
    return Plan(recipe.target, rows, {k: v for k, v in alloc.items() if v[0] > 0}, source_rows)


# -------------------------------------------------------------------------------------------- the DuckDB side


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(
    inputs: list[Path], spill: Path | None = None, memory_limit: str = "2GB"
) -> duckdb.DuckDBPyConnection:
    """Views `allrows` (every index row of every input, with its input number) and `cand` (one row per id: the
    first input that holds it)."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    if spill is not None:
        spill.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    parts = [
        f'SELECT {i} AS input_no, id, category, subtask, source, shard, "offset", byte_offset, images '
        f"FROM read_parquet({_sql_list(committed_indexes(folder))}, union_by_name = true)"
        for i, folder in enumerate(inputs)
    ]
    con.execute("CREATE VIEW allrows AS " + " UNION ALL ".join(parts))
    if len(inputs) > 1:  # the same sample in two inputs (a mix of a mix and its input) is taken once
        con.execute(
            "CREATE VIEW cand AS SELECT * FROM allrows "
            "QUALIFY row_number() OVER (PARTITION BY id ORDER BY input_no) = 1"
        )
    else:
        con.execute("CREATE VIEW cand AS SELECT * FROM allrows")
    return con


def available_counts(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], int]:
    rows = con.execute("SELECT category, subtask, source, count(*) FROM cand GROUP BY ALL").fetchall()
    return {(c, s, src): int(n) for c, s, src, n in rows}


def select_sql(seed: int) -> str:
    """The selected samples (input_no, shard, byte_offset, id, rep) and their output order key `o` (narrow: the
    sort carries no image lists)."""
    return f"""
        WITH keyed AS (
            SELECT input_no, id, category, subtask, source, shard, byte_offset, md5_number('{int(seed)}/' || id) AS h
            FROM cand),
        ranked AS (
            SELECT keyed.*, row_number() OVER (PARTITION BY category, subtask, source ORDER BY h, id) AS rk
            FROM keyed),
        taken AS (
            SELECT r.*, (a.k // a.n) + CASE WHEN r.rk <= a.k % a.n THEN 1 ELSE 0 END AS copies
            FROM ranked r JOIN alloc a USING (category, subtask, source) WHERE r.rk <= a.k),
        copies AS (SELECT *, unnest(range(copies)) AS rep FROM taken)
        SELECT input_no, shard, byte_offset, id, rep, md5_number('{int(seed)}/' || id || '/' || rep) AS o
        FROM copies
    """


def register_alloc(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE alloc (category VARCHAR, subtask VARCHAR, source VARCHAR, k BIGINT, n BIGINT)"
    )
    rows = [(c, s, src, k, n) for (c, s, src), (k, n) in sorted(plan.alloc.items())]
    if rows:
        con.executemany("INSERT INTO alloc VALUES (?, ?, ?, ?, ?)", rows)


def plan_mix(
    recipe: Recipe, inputs: list[Path], spill: Path | None = None
) -> tuple[Plan, duckdb.DuckDBPyConnection]:
    con = connect(inputs, spill)
    return make_plan(recipe, available_counts(con)), con


# ----------------------------------------------------------------------------------------------- the writing


class ShardReader:
    """Reads one sample's JSON from an input tar at its index byte offset; keeps a few files open."""

    def __init__(self, inputs: list[Path], keep_open: int = 32) -> None:
        self.inputs = inputs
        self.keep_open = keep_open
        self.files: OrderedDict[tuple[int, str], Any] = OrderedDict()

    def read(self, input_no: int, shard: str, byte_offset: int, sample_id: str) -> dict[str, Any]:
        key = (input_no, shard)
        f = self.files.pop(key, None)
        if f is None:
            f = open(shards_dir(self.inputs[input_no]) / shard, "rb")  # noqa: SIM115 (kept open across calls)
            if len(self.files) >= self.keep_open:
                self.files.popitem(last=False)[1].close()
        self.files[key] = f
        f.seek(byte_offset)
        tar = tarfile.open(
            fileobj=f, mode="r:"
        )  # reads from the current position (handles long-name headers)
        member = tar.next()
        if member is None or member.name != f"{sample_id}.json":
            raise UserError(
                f"{self.inputs[input_no]}/shards/{shard}: index offset {byte_offset} is not {sample_id}"
            )
        data = tar.extractfile(member)
        assert data is not None
        return json.loads(data.read())

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.files.clear()


def _same_file(a: Path, b: Path) -> bool:
    if os.path.samefile(a, b):
        return True
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()


def link_media(con: duckdb.DuckDBPyConnection, inputs: list[Path], out: Path) -> dict[str, int]:
    """Every frame the selection uses, hard-linked once into OUT/media (a symlink when linking fails)."""
    counts = {"linked": 0, "symlinked": 0}
    cursor = con.execute(
        "SELECT DISTINCT ref, input_no FROM (SELECT a.input_no, unnest(a.images) AS ref FROM allrows a "
        "SEMI JOIN selection s ON a.input_no = s.input_no AND a.id = s.id) ORDER BY ref, input_no"
    )
    previous: tuple[str, int] | None = None
    while batch := cursor.fetchmany(10_000):
        for ref, input_no in batch:
            src = media_dir(inputs[input_no]) / ref
            dst = media_dir(out) / ref
            if not src.is_file():
                raise UserError(
                    f"input {inputs[input_no]}: frame media/{ref} is missing (a sample refers to it)"
                )
            if previous is not None and previous[0] == ref:
                if not _same_file(dst, src):
                    raise UserError(
                        f"inputs {inputs[previous[1]]} and {inputs[input_no]} hold different files under media/{ref}; "
                        "mix corpora whose scene ids do not collide"
                    )
                continue
            previous = (ref, input_no)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if dst.exists() or dst.is_symlink():
                if os.path.samefile(dst, src):
                    counts["linked"] += 1
                    continue
                dst.unlink()
            try:
                os.link(src, dst)
                counts["linked"] += 1
            except OSError:
                os.symlink(src.resolve(), dst)
                counts["symlinked"] += 1
    return counts


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@dataclass
class MixResult:
    plan: Plan
    written: int = 0
    shards: int = 0
    media: dict[str, int] = field(default_factory=dict)


def run_mix(
    recipe_path: Path, out: Path, *, dry_run: bool = False, allow_shortfall: bool = False
) -> MixResult:
    """Plan, and unless `dry_run`, write the mixed corpus. Raises UserError when the recipe cannot be met
    (after the plan is known; `allow_shortfall` writes what there is)."""
    recipe, inputs = load_recipe(recipe_path)
    out = Path(out)
    if not dry_run:
        if any(out.resolve() == i.resolve() for i in inputs):
            raise UserError("--out must not be one of the recipe's inputs")
        previous = json.loads(manifest_path(out).read_text()) if manifest_path(out).is_file() else {}
        if (out / "plan.json").exists() or (previous and previous.get("kind") != "mix"):
            raise UserError(f"{out} holds a built corpus; mix into a new --out")
        ours = {
            "shards",
            "media",
            "rejects",
            ".mix-tmp",
            "manifest.json",
        }  # a mix's own (or a killed mix's) files
        if out.is_dir() and not previous and any(p.name not in ours for p in out.iterdir()):
            raise UserError(f"{out} is not empty and holds no mixed corpus; mix into a new --out")
    plan, con = plan_mix(recipe, inputs)
    result = MixResult(plan)
    if dry_run or (plan.failures() and not allow_shortfall):
        con.close()
        return result
    spill = out / ".mix-tmp"  # DuckDB spills the selection here when it outgrows its memory limit
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
    try:
        _clear(out)
        register_alloc(con, plan)
        con.execute(f"CREATE TEMP TABLE selection AS {select_sql(recipe.seed)}")
        result.media = link_media(con, inputs, out)
        result.written, shard_records = _write_shards(con, inputs, out, recipe.shard_size)
        result.shards = len(shard_records)
        input_counts = dict(con.execute("SELECT input_no, count(*) FROM allrows GROUP BY 1").fetchall())
    finally:
        con.close()
        _remove_tree(spill)
    manifest = {
        "kind": "mix",
        "mix_version": MIX_VERSION,
        "recipe": recipe.model_dump(mode="json"),
        "seed": recipe.seed,
        "inputs": [
            {
                "path": raw,
                "manifest_sha256": _digest(manifest_path(folder)),
                "samples": input_counts.get(i, 0),
            }
            for i, (raw, folder) in enumerate(zip(recipe.inputs, inputs, strict=True))
        ],
        "plan": [
            {
                "cell": r.cell,
                "available": r.available,
                "wanted": r.wanted,
                "taken": r.taken,
                "shortfall": r.shortfall,
            }
            for r in [*plan.rows, *plan.source_rows]
        ],
        "scenes": shard_records,
        "totals": {
            "scenes": len(shard_records),
            "ok": len(shard_records),
            "failed": 0,
            "samples": result.written,
            "rejects": 0,
        },
    }
    atomic_write(manifest_path(out), json.dumps(manifest, sort_keys=True, indent=1).encode())
    return result


def _write_shards(
    con: duckdb.DuckDBPyConnection, inputs: list[Path], out: Path, shard_size: int
) -> tuple[int, list[dict[str, Any]]]:
    reader = ShardReader(inputs)
    cursor = con.execute("SELECT input_no, shard, byte_offset, id, rep FROM selection ORDER BY o, id, rep")
    records: list[dict[str, Any]] = []
    buffer: list[dict[str, Any]] = []
    written = 0

    def flush() -> None:
        shard_no = len(records)
        record = {"shard_no": shard_no, "source": "mix", "scene_id": None, "reason": None}
        records.append(write_scene_shard(out, shard_no, buffer, [], record))

    try:
        while batch := cursor.fetchmany(10_000):
            for input_no, shard, byte_offset, sample_id, rep in batch:
                sample = reader.read(input_no, shard, byte_offset, sample_id)
                if rep:
                    sample["id"] = f"{sample_id}-r{rep}"  # a repeat keeps its content under a unique key
                buffer.append(sample)
                if len(buffer) == shard_size:
                    flush()
                    written += len(buffer)
                    buffer = []
        if buffer:
            flush()
            written += len(buffer)
    finally:
        reader.close()
    return written, records


def _clear(out: Path) -> None:
    """A rerun into the same folder starts from an empty corpus (media links are kept and re-checked)."""
    folder = shards_dir(out)
    if folder.is_dir():
        for p in folder.iterdir():
            p.unlink()
    rejects = out / "rejects"
    if rejects.is_dir():
        for p in rejects.glob("qa-*.parquet"):
            p.unlink()
    manifest_path(out).unlink(missing_ok=True)


def _remove_tree(path: Path | None) -> None:
    if path is None or not path.exists():
        return
    for p in sorted(path.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    path.rmdir()
