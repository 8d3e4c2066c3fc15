"""Corpus-level promises of docs/taxonomy.md, checked on the demo build: coverage, wording variety, letter balance."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import duckdb

from generators.prompt_frame import question_stem
from shards.writer import read_shard
from taxonomy import SUBTASKS


def index(corpus: Path) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(f"select * from read_parquet('{corpus}/shards/*.parquet')")


def test_demo_build_contains_every_subtask(corpus: Path):
    present = {row[0] for row in index(corpus).aggregate("subtask").fetchall()}
    assert present == set(SUBTASKS)


def test_no_letter_is_right_much_more_than_its_share(corpus: Path):
    rows = index(corpus).aggregate("subtask, n_options, answer, count(*) as k").fetchall()
    groups: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for subtask, n_options, answer, k in rows:
        if n_options:
            groups[(subtask, n_options)][answer] = k
    checked = 0
    for (subtask, n_options), letters in groups.items():
        total = sum(letters.values())
        if total < 40:  # too few to judge a share to 5 points
            continue
        checked += 1
        assert max(letters.values()) / total <= 1 / n_options + 0.05, (subtask, n_options, dict(letters))
    assert checked >= 10


def test_every_subtask_is_asked_in_at_least_five_wordings(corpus: Path):
    samples = [s for tar in sorted((corpus / "shards").glob("*.tar")) for s in read_shard(tar)]
    labels = {o["label"] for s in samples for o in s["facts"]["objects"]}
    names = re.compile(
        r"\b(" + "|".join(sorted(map(re.escape, labels), key=len, reverse=True)) + r")(s|es)?\b"
    )
    wordings: dict[str, set[str]] = defaultdict(set)
    counts: Counter = Counter()
    for s in samples:
        stem = names.sub("X", question_stem(s["question"]))
        wordings[s["subtask"]].add(re.sub(r"\d+(\.\d+)?", "N", stem))
        counts[s["subtask"]] += 1
    for subtask, n in counts.items():
        if n >= 30:
            assert len(wordings[subtask]) >= 5, (subtask, sorted(wordings[subtask]))


def test_the_demo_build_passes_the_shortcut_audit(corpus: Path, tmp_path: Path):
    import shutil

    from shards.audit import audit

    copy = tmp_path / "corpus"  # the audit writes audit.json: keep the shared corpus untouched
    shutil.copytree(corpus, copy)
    result = audit(copy)
    assert result.ok, result.failures[:5]
