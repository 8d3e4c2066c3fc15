"""A DuckDB connection over a built corpus: the views `qa`, `rejects` and `failed_scenes`.

Only committed shards (those with a `.done.json` marker) are read, so a build killed between writing a
shard's index and its marker never shows half a scene. Rows of `qa` come in index order (shard, offset)
when read without ORDER BY; say `ORDER BY shard, "offset"` when the order matters.

`connect(out, locked=True)` (what `sicorpus query` runs a user's SQL on) is read-only towards the outside world
(docs/boundaries.md): pyarrow opens the index files and DuckDB sees them as registered datasets, so once the
views exist DuckDB's own file system, extension installs and configuration changes are switched off and locked.
`COPY ... TO`, `read_text('/etc/...')`, `ATTACH`, `INSTALL httpfs` then fail with a permission error instead of
touching the disk or the network. (DuckDB's `allowed_paths` would keep its faster native parquet reader, but it
lets a query write the allowed files too.) Our own readers (stats, audit, report) run only our SQL and keep
DuckDB's native reader: 3x faster on 200k rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from schemas.errors import UserError
from shards.layout import manifest_path, shards_dir

if TYPE_CHECKING:  # pyarrow is imported where it is used: stats and audit start ~0.2 s faster without it
    import pyarrow as pa
    import pyarrow.dataset as ds

NO_CORPUS = "no corpus index under OUT/shards — run `sicorpus build` first"

FAILED_COLUMNS = ("shard", "source", "scene_id", "stage", "reason")

_EMPTY_REJECTS = (
    "SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS category, NULL::VARCHAR AS subtask, NULL::VARCHAR AS source, "
    "NULL::VARCHAR AS scene_id, NULL::VARCHAR AS reason, NULL::VARCHAR AS sample, NULL::VARCHAR AS shard WHERE false"
)

# Applied after the views exist, in this order (lock_configuration last: nothing may switch them back on).
LOCKDOWN = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET allow_community_extensions = false",
    "SET lock_configuration = true",
)


def committed_indexes(out: Path) -> list[Path]:
    """Index files of the shards whose commit marker exists, in shard order."""
    folder = shards_dir(out)
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("qa-*.parquet")) if p.with_suffix(".done.json").is_file()]


def load_manifest(out: Path) -> dict[str, Any] | None:
    path = manifest_path(out)
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def failed_scene_rows(out: Path) -> list[dict[str, Any]]:
    """Failed scenes from the markers under rejects/scenes/ and the manifest, one row per scene."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for marker in sorted((out / "rejects" / "scenes").glob("qa-*.failed.json")):
        data = json.loads(marker.read_text(encoding="utf-8"))
        key = (str(data.get("source", "")), str(data.get("scene_id", "")))
        rows[key] = {
            "shard": marker.name.split(".")[0] + ".tar",
            "source": key[0],
            "scene_id": key[1],
            "stage": data.get("stage"),
            "reason": data.get("reason"),
        }
    for scene in (load_manifest(out) or {}).get("scenes", []):
        if scene.get("status") != "failed":
            continue
        key = (str(scene.get("source", "")), str(scene.get("scene_id", "")))
        row = rows.setdefault(
            key, {"shard": None, "source": key[0], "scene_id": key[1], "stage": None, "reason": None}
        )
        row["shard"] = row["shard"] or scene.get("shard")
        row["reason"] = row["reason"] or scene.get("reason")
        row["stage"] = row["stage"] or scene.get("stage")
    return [rows[k] for k in sorted(rows)]


def _dataset(paths: list[Path], shard_column: bool = False) -> ds.Dataset:
    """The parquet files as one pyarrow dataset (schemas unified by name, like DuckDB's union_by_name); with
    `shard_column`, each file's rows carry `shard` = its tar's name, taken from the file name."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    schema = pa.unify_schemas([pq.read_schema(p) for p in paths])
    partitions = None
    if shard_column:
        schema = schema.append(pa.field("shard", pa.string()))
        partitions = [ds.field("shard") == pa.scalar(p.name.split(".")[0] + ".tar") for p in paths]
    return ds.FileSystemDataset.from_paths(
        [str(p.resolve()) for p in paths],
        schema=schema,
        format=ds.ParquetFileFormat(),
        filesystem=pafs.LocalFileSystem(),
        partitions=partitions,
    )


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def connect(out: Path, locked: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views `qa`, `rejects` and `failed_scenes` over OUT; `locked`:
    no file, network, extension or settings access once the views exist (for SQL a user wrote)."""
    out = Path(out)
    indexes = committed_indexes(out)
    if not indexes:
        raise UserError(NO_CORPUS)
    con = duckdb.connect(":memory:")
    # Rejects of the committed shards only, like `qa`; `shard` is derived from the file name.
    reject_files = [out / "rejects" / p.name for p in indexes if (out / "rejects" / p.name).is_file()]
    if locked:
        con.register("qa_index", _dataset(indexes))
        con.execute("CREATE VIEW qa AS SELECT * FROM qa_index")
    else:
        con.execute(
            f"CREATE VIEW qa AS SELECT * FROM read_parquet({_sql_list(indexes)}, union_by_name = true)"
        )
    if reject_files and locked:
        con.register("rejects_index", _dataset(reject_files, shard_column=True))
        con.execute("CREATE VIEW rejects AS SELECT * FROM rejects_index")
    elif reject_files:
        con.execute(
            "CREATE VIEW rejects AS SELECT * EXCLUDE (filename), "
            "regexp_extract(filename, '(qa-[0-9]+)\\.parquet$', 1) || '.tar' AS shard "
            f"FROM read_parquet({_sql_list(reject_files)}, union_by_name = true, filename = true)"
        )
    else:
        con.execute(f"CREATE VIEW rejects AS {_EMPTY_REJECTS}")
    _failed_scenes_view(con, failed_scene_rows(out))
    if locked:
        for statement in LOCKDOWN:
            con.execute(statement)
    return con


def _failed_scenes_view(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """The view `failed_scenes` over a few rows held in the connection (plain inserts: no pyarrow needed)."""
    con.execute(f"CREATE TEMP TABLE failed_scenes_rows ({', '.join(f'{c} VARCHAR' for c in FAILED_COLUMNS)})")
    if rows:
        placeholders = ", ".join("?" for _ in FAILED_COLUMNS)
        con.executemany(
            f"INSERT INTO failed_scenes_rows VALUES ({placeholders})",
            [[row[c] for c in FAILED_COLUMNS] for row in rows],
        )
    con.execute("CREATE VIEW failed_scenes AS SELECT * FROM failed_scenes_rows")


def create_count_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Two passes over `qa` into small temporary tables that stats and audit read their counts from, instead
    of one pass over all rows per count (grouping millions of strings is what costs, ~0.3 s a pass at 8M rows):
    `per_scene`, the samples per (category, subtask, answer type, source, scene), ~65k rows at 8M samples;
    `mc`, the correct answers per (MC subtask, options, letter, option text), a few thousand."""
    con.execute(
        "CREATE TEMP TABLE per_scene AS SELECT category, subtask, answer_type, source, scene_id, "
        "count(*) AS n FROM qa GROUP BY ALL"
    )
    con.execute(
        "CREATE TEMP TABLE mc AS SELECT subtask, n_options, answer, answer_text, count(*) AS n "
        "FROM qa WHERE answer_type = 'multiple_choice' GROUP BY ALL"
    )


def fetch_arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's result as a pyarrow Table (the method's name changed between DuckDB 1.x and 2.x)."""
    relation = con.sql(sql)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def query(out: Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run any SQL over the views; returns (column names, rows). A bad query, or one that reaches outside the
    views (files, network, extensions, settings), raises UserError with DuckDB's first line."""
    con = connect(out, locked=True)
    try:
        cursor = con.execute(sql)
        if cursor.description is None:
            return [], []
        columns = [d[0] for d in cursor.description]
        return columns, cursor.fetchall()
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"query failed: {first}") from e
    finally:
        con.close()
