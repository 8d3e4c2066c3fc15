"""The DuckDB views agree with the tar shards sample for sample; query answers and fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.errors import UserError
from shards.index import NO_CORPUS, connect, query
from shards.layout import done_marker, manifest_path
from shards.report import read_sample
from shards.writer import read_shard, write_scene_shard
from tests.shards.corpus_factory import Plan, build_corpus, mc_sample, write_frames

PLAN = Plan(
    scenes=3,
    per_scene={"relative_distance": 7, "camera_left_right": 5, "object_height": 4},
    failed_scenes=1,
    rejects_per_scene=2,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    build_corpus(out, PLAN)
    return out


def tar_samples(out: Path) -> list[tuple[str, str, dict]]:
    """(shard, offset, sample) read from the tars, in shard order."""
    rows = []
    for tar in sorted((out / "shards").glob("qa-*.tar")):
        if done_marker(out, int(tar.stem.split("-")[1])).exists():
            rows += [(tar.name, i, s) for i, s in enumerate(read_shard(tar))]
    return rows


def test_view_matches_the_tars_sample_for_sample(corpus: Path) -> None:
    from_tars = tar_samples(corpus)
    assert len(from_tars) == 3 * (7 + 5 + 4)
    con = connect(corpus)
    plain = con.execute(
        'SELECT id, answer, answer_text, shard, "offset", byte_offset, n_images FROM qa'
    ).fetchall()
    ordered = con.execute('SELECT id FROM qa ORDER BY shard, "offset"').fetchall()
    assert [r[0] for r in plain] == [r[0] for r in ordered] == [s["id"] for _, _, s in from_tars]
    for (shard, offset, sample), (sid, answer, answer_text, r_shard, r_offset, byte_offset, n_images) in zip(
        from_tars, plain, strict=True
    ):
        assert (sid, answer, r_shard, r_offset, n_images) == (
            sample["id"],
            sample["answer"],
            shard,
            offset,
            len(sample["images"]),
        )
        if sample["options"]:
            assert f"{answer}. {answer_text}" in sample["options"]
        # the index's byte offset leads straight to the sample's JSON member
        assert read_sample(corpus, shard, byte_offset, sid) == sample
    assert con.execute("SELECT count(DISTINCT id) FROM qa").fetchone()[0] == len(from_tars)


def test_rejects_and_failed_scenes_views(corpus: Path) -> None:
    con = connect(corpus)
    rejects = con.execute("SELECT shard, reason FROM rejects ORDER BY shard, reason").fetchall()
    assert len(rejects) == 3 * 2
    assert {r[0] for r in rejects} == {"qa-000000.tar", "qa-000001.tar", "qa-000002.tar"}
    assert rejects[0][1] == "semantic: distance 0.5 below 0.2"
    failed = con.execute("SELECT source, scene_id, stage, reason, shard FROM failed_scenes").fetchall()
    assert failed == [("synth", "scene0003_00", "read", "corrupt mesh in scene0003_00", "qa-000003.tar")]


def test_failed_scenes_without_markers_come_from_the_manifest(tmp_path: Path) -> None:
    build_corpus(tmp_path, Plan(scenes=1, per_scene={"object_height": 2}, failed_scenes=2))
    for marker in (tmp_path / "rejects" / "scenes").glob("*.json"):
        marker.unlink()
    _, rows = query(tmp_path, "SELECT scene_id, stage, reason FROM failed_scenes ORDER BY scene_id")
    assert rows == [
        ("scene0001_00", None, "corrupt mesh in scene0001_00"),
        ("scene0002_00", None, "corrupt mesh in scene0002_00"),
    ]


def test_uncommitted_shard_is_not_in_the_view(tmp_path: Path) -> None:
    build_corpus(tmp_path, Plan(scenes=2, per_scene={"relative_distance": 3}))
    refs = write_frames(tmp_path, "scene0009_00", 2)
    extra = mc_sample(
        "scene0009_00", "relative_distance", 0, [0], refs, "Which one is it, really?", ["a", "b"], 0, ["a"]
    )
    write_scene_shard(tmp_path, 9, [extra], [], {"source": "synth", "scene_id": "scene0009_00"})
    assert query(tmp_path, "SELECT count(*) FROM qa")[1] == [(7,)]
    done_marker(tmp_path, 9).unlink()  # a build killed before the commit marker
    assert query(tmp_path, "SELECT count(*) FROM qa")[1] == [(6,)]


def test_query_returns_columns_and_rows(corpus: Path) -> None:
    columns, rows = query(corpus, "SELECT subtask, count(*) AS n FROM qa GROUP BY 1 ORDER BY 1")
    assert columns == ["subtask", "n"]
    assert rows == [("camera_left_right", 15), ("object_height", 12), ("relative_distance", 21)]


def test_query_errors_are_one_clear_line(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^query failed: .*no_such_column"):
        query(corpus, "SELECT no_such_column FROM qa")
    with pytest.raises(UserError) as missing:
        query(tmp_path / "nothing", "SELECT 1")
    assert str(missing.value) == NO_CORPUS
    (tmp_path / "empty" / "shards").mkdir(parents=True)
    with pytest.raises(UserError, match="run `sicorpus build` first"):
        connect(tmp_path / "empty")


def test_a_corpus_without_rejects_or_manifest_still_has_the_views(tmp_path: Path) -> None:
    build_corpus(tmp_path, Plan(scenes=1, per_scene={"object_height": 2}))
    for f in (tmp_path / "rejects").glob("*.parquet"):
        f.unlink()
    manifest_path(tmp_path).unlink()
    con = connect(tmp_path)
    assert con.execute("SELECT count(*) FROM rejects").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM failed_scenes").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM qa").fetchone() == (2,)


# --- read-only: the query sees the views and nothing else (docs/boundaries.md) ---


@pytest.fixture
def own_corpus(tmp_path: Path) -> Path:
    out = tmp_path / "corpus"
    build_corpus(
        out, Plan(scenes=2, per_scene={"relative_distance": 3, "object_height": 2}, rejects_per_scene=1)
    )
    return out


def test_copy_to_a_file_is_refused(own_corpus: Path, tmp_path: Path) -> None:
    target = tmp_path / "leak.csv"
    with pytest.raises(UserError, match=r"^query failed: Permission Error"):
        query(own_corpus, f"COPY qa TO '{target}'")
    assert not target.exists()


def test_reading_a_system_file_is_refused(own_corpus: Path) -> None:
    for sql in ("SELECT * FROM read_text('/etc/passwd')", "SELECT * FROM read_csv('/etc/passwd')"):
        with pytest.raises(UserError, match="Permission Error"):
            query(own_corpus, sql)


def test_a_shards_index_cannot_be_overwritten(own_corpus: Path) -> None:
    index = own_corpus / "shards" / "qa-000000.parquet"
    before = index.read_bytes()
    n = query(own_corpus, "SELECT count(*) FROM qa")[1]
    for options in ("", " (FORMAT parquet, USE_TMP_FILE false)"):
        with pytest.raises(UserError, match="Permission Error"):
            query(own_corpus, f"COPY (SELECT * FROM qa WHERE false) TO '{index}'{options}")
    assert index.read_bytes() == before
    assert query(own_corpus, "SELECT count(*) FROM qa")[1] == n == [(10,)]


def test_extensions_and_settings_are_locked(own_corpus: Path) -> None:
    for sql in ("INSTALL httpfs", "LOAD httpfs", "SELECT * FROM 'https://example.com/x.parquet'"):
        with pytest.raises(UserError, match="Permission Error"):
            query(own_corpus, sql)
    for sql in (
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET lock_configuration = false",
    ):
        with pytest.raises(UserError, match="configuration has been locked"):
            query(own_corpus, sql)
    with pytest.raises(UserError, match="Permission Error"):
        query(own_corpus, f"ATTACH '{own_corpus / 'x.duckdb'}'")
    assert not (own_corpus / "x.duckdb").exists()


def test_rejects_view_still_names_each_rows_shard(own_corpus: Path) -> None:
    _, rows = query(own_corpus, "SELECT shard, count(*) FROM rejects GROUP BY 1 ORDER BY 1")
    assert rows == [("qa-000000.tar", 1), ("qa-000001.tar", 1)]


def test_the_locked_views_show_the_same_rows(own_corpus: Path) -> None:
    for view, order in (("qa", 'shard, "offset"'), ("rejects", "shard, id"), ("failed_scenes", "scene_id")):
        sql = f"SELECT * FROM {view} ORDER BY {order}"
        plain, locked = connect(own_corpus), connect(own_corpus, locked=True)
        assert [d[0] for d in plain.execute(sql).description] == [
            d[0] for d in locked.execute(sql).description
        ]
        assert plain.execute(sql).fetchall() == locked.execute(sql).fetchall()
