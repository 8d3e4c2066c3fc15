"""`make bench`, corpus tools at scale: a synthetic N-row index (rows of a real build, repeated under new ids and
scene ids) and each index-only tool timed in its own process, with its peak memory.

The index is all that stats, audit (a per-subtask sample, see shards/audit.py), decontaminate and mix's planner
read, so a synthetic index measures them without writing N samples. Tools that do not exist in this build are
skipped by name.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb


def synthetic_index(template: Path, out: Path, rows: int, per_file: int = 1_000_000) -> int:
    """Write `rows` index rows under out/shards (plus done markers), repeating the template corpus's rows."""
    from shards.index import committed_indexes

    shutil.rmtree(out, ignore_errors=True)
    (out / "shards").mkdir(parents=True)
    sources = ", ".join(f"'{p}'" for p in committed_indexes(template))
    con = duckdb.connect(":memory:")
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet([{sources}], union_by_name = true)")
    base = con.execute("SELECT count(*) FROM t").fetchone()[0]
    if base == 0:
        raise RuntimeError(f"template corpus {template} has no rows")
    written, shard_no = 0, 0
    while written < rows:
        n = min(per_file, rows - written)
        reps = -(-n // base)
        name = f"qa-{shard_no:06d}"
        # A copy k of the template is another set of scenes: scene ids and sample ids get the copy number.
        con.execute(
            f"""COPY (
                SELECT * REPLACE (id || '-r' || (r.range + {written // base}) AS id,
                                  scene_id || '-r' || (r.range + {written // base}) AS scene_id,
                                  '{name}.tar' AS shard,
                                  row_number() OVER () - 1 AS "offset")
                FROM t, range({reps}) r LIMIT {n}
            ) TO '{out / "shards" / (name + ".parquet")}' (FORMAT parquet, COMPRESSION zstd)"""
        )
        (out / "shards" / f"{name}.done.json").write_text(
            json.dumps({"shard": f"{name}.tar", "status": "ok"})
        )
        written += n
        shard_no += 1
    return written


# tool name -> the sicorpus command line (OUT substituted); run in a fresh process each
TOOLS = {
    "stats": ["stats", "{out}", "--json"],
    "audit": ["audit", "{out}"],
    "decontaminate": ["decontaminate", "{out}"],
}


def time_tool(argv: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MiB, exit status) of one `sicorpus` command in its own process."""
    # Peak memory from VmHWM: ru_maxrss survives exec on Linux, so a child would report its parent's peak.
    code = (
        "import sys, time; from pipeline.cli import app; t = time.perf_counter()\n"
        "try:\n    app(sys.argv[1:], standalone_mode=False); rc = 0\n"
        "except SystemExit as e:\n    rc = e.code or 0\n"
        "except Exception:\n    rc = 99\n"
        "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0].split()[1]\n"
        "print('BENCH', time.perf_counter() - t, int(hwm) / 1024, rc, file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    line = next((ln for ln in done.stderr.splitlines() if ln.startswith("BENCH ")), None)
    if line is None:
        return float("nan"), float("nan"), done.returncode
    _, seconds, peak, rc = line.split()
    return float(seconds), float(peak), int(rc)


def known_commands() -> set[str]:
    from pipeline.cli import app

    return {c.name or c.callback.__name__ for c in app.registered_commands}


def tools_at_scale(template: Path, out: Path, rows: int) -> list[str]:
    """Lines for the bench report: one per tool on a synthetic `rows`-row index."""
    start = time.perf_counter()
    n = synthetic_index(template, out, rows)
    lines = [f"  synthetic index        {n:>10,} rows   (written in {time.perf_counter() - start:.1f} s)"]
    commands = known_commands()
    for name, argv in TOOLS.items():
        if argv[0] not in commands:
            lines.append(f"  {name:<22} (no such command in this build)")
            continue
        seconds, peak, rc = time_tool([a.format(out=out) for a in argv])
        note = "  (a few scenes repeated: shortcuts are expected)" if name == "audit" and rc == 1 else ""
        lines.append(f"  {name:<22} {seconds:8.2f} s   peak {peak:6.0f} MiB   exit {rc}{note}")
    lines.append(
        f"  (bench process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB)"
    )
    return lines
