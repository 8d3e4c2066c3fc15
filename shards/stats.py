"""Corpus statistics through DuckDB over the parquet index (never the tars): counts, balance, values, rejects.

Four passes read the index, each only the parquet columns it needs (projection pushdown): two fill small
count tables (`shards.index.create_count_tables`) that every count, balance and answer-text table is read
from, one computes the numeric value quantiles, one the labels. On 8M rows they take ~1 s together on 2 cores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from shards.index import connect, create_count_tables, load_manifest
from shards.layout import shards_dir
from taxonomy import CATEGORIES, SUBTASKS

TOP_ANSWERS = 12  # answer texts listed per MC subtask (the rest are counted in `distinct`)
TOP_LABELS = 20
TOP_REASONS = 20
EXCLUDED_LISTED = 20  # excluded scans named in the text report (all of them in --json and manifest.json)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _subtask_order(subtask: str) -> tuple[int, str]:
    order = list(SUBTASKS)
    return (order.index(subtask) if subtask in SUBTASKS else len(order), subtask)


def corpus_stats(out: Path) -> dict[str, Any]:
    """Every statistic as plain rows (lists of dicts) or small dicts; JSON-serialisable."""
    out = Path(out)
    con = connect(out)
    try:
        return _collect(con, out)
    finally:
        con.close()


def _collect(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, Any]:
    create_count_tables(con)
    total = con.execute(
        "SELECT coalesce(sum(n), 0), count(DISTINCT (source, scene_id)) FROM per_scene"
    ).fetchone()
    excluded = _excluded(out)
    n_samples, n_scenes = int(total[0]), int(total[1])

    counted = {
        r["category"]: r["n"] for r in _rows(con, "SELECT category, sum(n) AS n FROM per_scene GROUP BY 1")
    }
    by_category = [{"category": c, "n": counted.pop(c, 0)} for c in CATEGORIES] + [
        {"category": c, "n": n} for c, n in sorted(counted.items())
    ]
    for row in by_category:
        row["share"] = row["n"] / n_samples if n_samples else 0.0

    # one row of per_scene per scene of each (category, subtask, answer_type): count(*) counts its scenes
    by_subtask = _rows(
        con,
        "SELECT category, subtask, answer_type, sum(n) AS n, count(*) AS scenes FROM per_scene GROUP BY ALL "
        "ORDER BY ALL",
    )
    by_subtask.sort(key=lambda r: _subtask_order(r["subtask"]))
    for row in by_subtask:
        row["share"] = row["n"] / n_samples
    present = {r["subtask"] for r in by_subtask}
    missing_subtasks = [s for s in SUBTASKS if s not in present]

    by_source = _rows(
        con,
        "SELECT source, sum(n) AS n, count(DISTINCT scene_id) AS scenes FROM per_scene GROUP BY 1 ORDER BY 1",
    )
    by_scene = _rows(con, "SELECT source, scene_id, sum(n) AS n FROM per_scene GROUP BY 1, 2 ORDER BY 1, 2")
    per_scene = con.execute(
        "SELECT min(n), quantile_cont(n, 0.5), max(n) FROM "
        "(SELECT sum(n) AS n FROM per_scene GROUP BY source, scene_id)"
    ).fetchone()
    answer_types = _rows(con, "SELECT answer_type, sum(n) AS n FROM per_scene GROUP BY 1 ORDER BY 2 DESC, 1")

    return {
        "totals": {
            "samples": n_samples,
            "scenes": n_scenes,
            "sources": len(by_source),
            "subtasks": len(by_subtask),
            "rejects": int(con.execute("SELECT count(*) FROM rejects").fetchone()[0]),
            "failed_scenes": int(con.execute("SELECT count(*) FROM failed_scenes").fetchone()[0]),
            "excluded_scenes": len(excluded["scans"]),
        },
        "excluded": excluded,
        "by_category": by_category,
        "by_subtask": by_subtask,
        "missing_subtasks": missing_subtasks,
        "by_source": by_source,
        "by_scene": by_scene,
        "samples_per_scene": {
            "min": int(per_scene[0] or 0),
            "median": float(per_scene[1] or 0),
            "max": int(per_scene[2] or 0),
        },
        "answer_types": answer_types,
        "letter_balance": _letter_balance(con),
        "numeric_values": _numeric_values(con),
        "answer_texts": _answer_texts(con),
        "labels": _rows(
            con,
            "SELECT label, count(*) AS n FROM (SELECT unnest(labels) AS label FROM qa) "
            f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_LABELS}",
        ),
        "rejects_by_reason": _rows(
            con,
            "SELECT regexp_replace(reason, '[0-9]+(\\.[0-9]+)?', 'N', 'g') AS reason, count(*) AS n "
            f"FROM rejects GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_REASONS}",
        ),
        "rejects_by_subtask": _rows(
            con, "SELECT subtask, count(*) AS n FROM rejects GROUP BY 1 ORDER BY 2 DESC, 1"
        ),
        "failed_scenes": _rows(
            con, "SELECT source, scene_id, stage, reason FROM failed_scenes ORDER BY source, scene_id"
        ),
        "blind_baseline": _blind_baseline(out),
        "build": _build_summary(out),
        "drops": candidate_drops(out),
    }


def candidate_drops(out: Path) -> dict[str, dict[str, int]]:
    """{subtask: {reason: count}}: candidates each rule's filters and the guards dropped, summed over the
    committed scenes (their shard markers; docs/taxonomy.md names every filter). Subtasks in taxonomy order,
    reasons by count."""
    total: dict[str, dict[str, int]] = {}
    for marker in sorted(shards_dir(out).glob("*.done.json")):
        for subtask, reasons in (json.loads(marker.read_text(encoding="utf-8")).get("drops") or {}).items():
            into = total.setdefault(subtask, {})
            for reason, n in reasons.items():
                into[reason] = into.get(reason, 0) + int(n)
    return {
        subtask: dict(sorted(total[subtask].items(), key=lambda kv: (-kv[1], kv[0])))
        for subtask in sorted(total, key=_subtask_order)
    }


def _letter_balance(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Share of each correct letter per (MC subtask, number of options); chance is 1/n_options."""
    counts = _rows(
        con,
        "SELECT subtask, n_options, answer, sum(n) AS n FROM mc GROUP BY ALL "
        "ORDER BY subtask, n_options, answer",
    )
    groups: dict[tuple[str, int], dict[str, int]] = {}
    for r in counts:
        groups.setdefault((r["subtask"], int(r["n_options"])), {})[r["answer"]] = int(r["n"])
    rows = []
    for (subtask, n_options), letters in sorted(
        groups.items(), key=lambda kv: (_subtask_order(kv[0][0]), kv[0][1])
    ):
        n = sum(letters.values())
        shares = {chr(65 + i): letters.get(chr(65 + i), 0) / n for i in range(n_options)}
        chance = 1.0 / n_options if n_options else 0.0
        rows.append(
            {
                "subtask": subtask,
                "n_options": n_options,
                "n": n,
                "chance": chance,
                "shares": shares,
                "max_excess": max(shares.values()) - chance if shares else 0.0,
            }
        )
    return rows


def _numeric_values(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    # one quantile_cont over a list of quantiles sorts each group's values once, not three times
    rows = _rows(
        con,
        "SELECT subtask, unit, n, min, q[1] AS p25, q[2] AS median, q[3] AS p75, max, mean FROM ("
        "SELECT subtask, coalesce(unit, '') AS unit, count(*) AS n, min(value) AS min, "
        "quantile_cont(value, [0.25, 0.5, 0.75]) AS q, max(value) AS max, avg(value) AS mean "
        "FROM qa WHERE value IS NOT NULL GROUP BY ALL)",
    )
    rows.sort(key=lambda r: (_subtask_order(r["subtask"]), r["unit"]))
    return rows


def _answer_texts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Per MC subtask: the most frequent correct option texts (direction labels, object labels) and shares."""
    top = _rows(
        con,
        "WITH c AS (SELECT subtask, answer_text, sum(n) AS n FROM mc GROUP BY ALL), "
        "r AS (SELECT *, sum(n) OVER (PARTITION BY subtask) AS total, "
        "count(*) OVER (PARTITION BY subtask) AS distinct_texts, "
        "row_number() OVER (PARTITION BY subtask ORDER BY n DESC, answer_text) AS rank FROM c) "
        f"SELECT * FROM r WHERE rank <= {TOP_ANSWERS} ORDER BY subtask, rank",
    )
    groups: dict[str, dict[str, Any]] = {}
    for r in top:
        g = groups.setdefault(
            r["subtask"],
            {"subtask": r["subtask"], "n": int(r["total"]), "distinct": int(r["distinct_texts"]), "top": []},
        )
        g["top"].append({"answer_text": r["answer_text"], "n": int(r["n"]), "share": r["n"] / r["total"]})
    return [groups[s] for s in sorted(groups, key=_subtask_order)]


def _blind_baseline(out: Path) -> dict[str, Any] | None:
    """The summary of OUT/audit.json when an audit has been run, else None."""
    path = out / "audit.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return {
        "ok": data.get("ok"),
        "failures": data.get("failures", []),
        "subtasks": [
            {
                "subtask": s["subtask"],
                "n": s["n"],
                "chance": s.get("chance"),
                "blind_accuracy": s.get("blind_accuracy"),
                "blind_best": s.get("blind_best"),
            }
            for s in data.get("subtasks", [])
            if s.get("blind_accuracy") is not None
        ],
    }


def _excluded(out: Path) -> dict[str, Any]:
    """The scans the build's split left out (manifest.json), counted by kind: `split` or `benchmark room`."""
    split = (load_manifest(out) or {}).get("split") or {}
    scans = split.get("excluded") or []
    by_kind: dict[str, int] = {}
    for scan in scans:
        by_kind[scan.get("kind") or "?"] = by_kind.get(scan.get("kind") or "?", 0) + 1
    return {
        "split": split.get("name"),
        "lists_version": split.get("lists_version"),
        "by_kind": dict(sorted(by_kind.items())),
        "benchmark_rooms_held": split.get("benchmark_rooms_held") or {},
        "scans": scans,
    }


def _build_summary(out: Path) -> dict[str, Any] | None:
    manifest = load_manifest(out)
    if manifest is None:
        return None
    timings: dict[str, float] = {}
    for scene in manifest.get("scenes", []):
        for stage, seconds in (scene.get("timings") or {}).items():
            timings[stage] = timings.get(stage, 0.0) + float(seconds or 0.0)
    return {"seed": manifest.get("seed"), "totals": manifest.get("totals"), "timings_s": timings}


# ---------------------------------------------------------------------------------------------- text report


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[str(c) for c in header]] + [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    # text columns align left, number columns right
    numeric = [
        bool(rows) and all(isinstance(r[i], int | float) or r[i] is None for r in rows)
        for i in range(len(header))
    ]
    lines = [
        "  ".join(
            c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric, strict=True)
        ).rstrip()
        for r in cells
    ]
    return [lines[0], "  ".join("-" * w for w in widths), *lines[1:]]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return "" if value is None else str(value)


def _clip(text: str, n: int = 32) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f}%"


def format_stats(stats: dict[str, Any]) -> str:
    """A plain-text report of `corpus_stats` for the terminal."""
    t = stats["totals"]
    lines = [
        f"samples {t['samples']}  scenes {t['scenes']}  sources {t['sources']}  subtasks {t['subtasks']}  "
        f"rejects {t['rejects']}  failed scenes {t['failed_scenes']}  excluded scans {t['excluded_scenes']}",
        "samples per scene: min {min}  median {median:g}  max {max}".format(**stats["samples_per_scene"]),
        "",
        "== per category",
        *_table(
            ["category", "n", "share"],
            [[r["category"], r["n"], _pct(r["share"])] for r in stats["by_category"]],
        ),
        "",
        "== per subtask",
        *_table(
            ["subtask", "category", "type", "n", "scenes", "share"],
            [
                [r["subtask"], r["category"], r["answer_type"], r["n"], r["scenes"], _pct(r["share"])]
                for r in stats["by_subtask"]
            ],
        ),
    ]
    if stats["missing_subtasks"]:
        lines.append("no samples: " + ", ".join(stats["missing_subtasks"]))
    lines += [
        "",
        "== per source",
        *_table(["source", "n", "scenes"], [[r["source"], r["n"], r["scenes"]] for r in stats["by_source"]]),
    ]
    lines += [
        "",
        "== answer types",
        *_table(["answer_type", "n"], [[r["answer_type"], r["n"]] for r in stats["answer_types"]]),
    ]
    lines += ["", "== letter balance (share of each correct letter; chance = 1/options)"]
    lines += _table(
        ["subtask", "options", "n", "chance", "max excess", "shares"],
        [
            [
                r["subtask"],
                r["n_options"],
                r["n"],
                _pct(r["chance"]),
                _pct(r["max_excess"]),
                " ".join(f"{k}:{100 * v:.0f}" for k, v in r["shares"].items()),
            ]
            for r in stats["letter_balance"]
        ],
    )
    lines += ["", "== numeric values"]
    lines += _table(
        ["subtask", "unit", "n", "min", "p25", "median", "p75", "max"],
        [
            [r["subtask"], r["unit"], r["n"], r["min"], r["p25"], r["median"], r["p75"], r["max"]]
            for r in stats["numeric_values"]
        ],
    )
    lines += ["", "== correct option texts (MC)"]
    for g in stats["answer_texts"]:
        top = ", ".join(f"{_clip(a['answer_text'])} {100 * a['share']:.0f}%" for a in g["top"][:6])
        lines.append(f"{g['subtask']} ({g['distinct']} distinct): {top}")
    if stats["labels"]:
        lines += ["", "== most named labels: " + ", ".join(f"{r['label']} {r['n']}" for r in stats["labels"])]
    lines += ["", "== rejects by reason"]
    lines += (
        _table(["reason", "n"], [[r["reason"], r["n"]] for r in stats["rejects_by_reason"]])
        if stats["rejects_by_reason"]
        else ["none"]
    )
    ex = stats["excluded"]
    if ex["split"] is not None:
        kinds = ", ".join(f"{kind} {n}" for kind, n in ex["by_kind"].items()) or "none"
        lines += ["", f"== excluded scans (--split {ex['split']}): {kinds}"]
        lines += [
            f"{r['scene_id']}: {r['reason']}"
            + (
                f" (its room is in {', '.join(r['benchmarks'])})"
                if r["kind"] == "split" and r["benchmarks"]
                else ""
            )
            for r in ex["scans"][:EXCLUDED_LISTED]
        ]
        if len(ex["scans"]) > EXCLUDED_LISTED:
            lines.append(f"... {len(ex['scans']) - EXCLUDED_LISTED} more in manifest.json")
        for name, v in ex["benchmark_rooms_held"].items():
            lines.append(
                f"WARNING: the corpus holds {v['held']} of the {v['rooms']} rooms {name} evaluates on"
            )
    lines += ["", "== candidates dropped, by subtask and reason (all scenes)"]
    drop_rows = [
        [sub, reason, n] for sub, reasons in stats.get("drops", {}).items() for reason, n in reasons.items()
    ]
    lines += _table(["subtask", "reason", "n"], drop_rows) if drop_rows else ["none recorded"]
    lines += ["", "== failed scenes"]
    lines += [
        f"{r['source']}/{r['scene_id']} [{r['stage'] or '?'}]: {r['reason']}" for r in stats["failed_scenes"]
    ] or ["none"]
    blind = stats.get("blind_baseline")
    lines += ["", "== blind (text-only) baseline"]
    if blind is None:
        lines.append("not run (run `sicorpus audit OUT`)")
    else:
        lines.append("audit " + ("passed" if blind["ok"] else "FAILED"))
        lines += [f"  {f}" for f in blind["failures"]]
        lines += _table(
            ["subtask", "n", "chance", "blind", "best baseline"],
            [
                [r["subtask"], r["n"], _pct(r["chance"]), _pct(r["blind_accuracy"]), r["blind_best"] or ""]
                for r in blind["subtasks"]
            ],
        )
    return "\n".join(lines)
