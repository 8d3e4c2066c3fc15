"""The CLI as users run it: a real subprocess, its stdout, stderr and exit status."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import validate_sample

REPO = Path(__file__).resolve().parents[2]
SICORPUS = [sys.executable, "-m", "pipeline.cli"]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([*SICORPUS, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_generate_prints_only_json_lines_of_valid_samples(demo_root: Path):
    scene = sorted(p.name for p in (demo_root / "scans").iterdir())[0]
    result = run("generate", "spatial_relations", "--root", str(demo_root), "--scene", scene)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines
    for line in lines:
        sample = json.loads(line)
        assert sample["category"] == "spatial_relations"
        model, reason = validate_sample(sample)
        assert reason is None, reason


def test_generate_one_subtask(demo_root: Path):
    scene = sorted(p.name for p in (demo_root / "scans").iterdir())[0]
    result = run(
        "generate",
        "comprehensive_reasoning",
        "--subtask",
        "object_count",
        "--root",
        str(demo_root),
        "--scene",
        scene,
    )
    assert result.returncode == 0, result.stderr
    assert {json.loads(line)["subtask"] for line in result.stdout.splitlines()} == {"object_count"}


@pytest.mark.parametrize(
    "args",
    [
        ("build", "--root", "/no/such/folder", "--out", "/tmp/sicorpus-never"),
        ("generate", "metric_measurement", "--root", "/no/such/folder", "--scene", "scene0000_00"),
        ("generate", "not_a_category", "--root", ".", "--scene", "x"),
        ("stats", "/no/such/corpus"),
    ],
)
def test_user_mistakes_give_one_line_and_no_traceback(args):
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")


def test_make_shards_on_scannet_says_what_to_set():
    result = subprocess.run(
        ["make", "-s", "shards", "SOURCE=scannet"], capture_output=True, text=True, cwd=REPO, timeout=600
    )
    assert result.returncode != 0
    assert "SCANNET_ROOT" in result.stderr and "scan-net.org" in result.stderr


def test_corpus_tools_from_the_command_line(corpus: Path, tmp_path: Path):
    stats = run("stats", str(corpus), "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["totals"]["samples"] > 0

    counted = run("query", str(corpus), "select count(*) as n from qa", "--format", "csv")
    assert counted.returncode == 0 and counted.stdout.splitlines()[0] == "n"
    assert int(counted.stdout.splitlines()[1]) == json.loads(stats.stdout)["totals"]["samples"]
    bad = run("query", str(corpus), "select nope from qa")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr

    audited = run("audit", str(corpus))
    verdict = json.loads((corpus / "audit.json").read_text())["ok"]
    assert audited.returncode == (0 if verdict else 1)
    assert "audit:" in audited.stdout

    exported = run("export", str(corpus), "--format", "internvl", "--dest", str(tmp_path / "export"))
    assert exported.returncode == 0, exported.stderr
    lines = [
        json.loads(line) for line in next((tmp_path / "export").glob("*.jsonl")).read_text().splitlines()
    ]
    assert lines and all(
        line["conversations"][0]["value"].count("<image>") == len(line["image"]) for line in lines
    )
    assert all((tmp_path / "export" / image).is_file() for line in lines for image in line["image"])

    reported = run("report", str(corpus))
    assert reported.returncode == 0, reported.stderr
    assert Path(reported.stdout.strip()).is_file()
