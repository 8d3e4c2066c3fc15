"""What each command checks at its boundary (docs/boundaries.md): one `error:` line and exit 2 for a user's
mistake, before anything is written; a traceback for a bug; paths kept inside the root and OUT."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.build import plan_scenes, remove_stale_temporaries, run_build
from pipeline.cli import app, user_errors
from pipeline.config import BuildConfig
from pipeline.summary import warning_lines
from schemas.errors import UserError
from shards.atomic import is_temporary, temporary_path
from shards.layout import media_path
from shards.lock import BuildLock
from tests.shards.corpus_factory import Plan, build_corpus

REPO = Path(__file__).resolve().parents[2]
LABELS_HEADER = "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\n"


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a bug: let the test show it
    return result.exit_code, result.stdout, result.stderr


def assert_one_error(code: int, stderr: str, *needles: str) -> None:
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    """Scene folders (empty: enough for planning) and a label map with the right header."""
    root = tmp_path / "root"
    for split, scene in (
        ("scans", "scene0000_00"),
        ("scans", "scene0001_00"),
        ("scans_test", "scene0707_00"),
    ):
        (root / split / scene).mkdir(parents=True)
    (root / "scannetv2-labels.combined.tsv").write_text(LABELS_HEADER + "1\tchair\tchair\t1\t5\t\t\tchair\n")
    return root


# --- scene ids and paths ---


@pytest.mark.parametrize(
    "scene", ["../../../elsewhere/x", "scene0000_00/../x", "/etc", "a/b", "..", "x\\y", ""]
)
def test_scene_ids_that_reach_other_folders_are_refused(tiny_root: Path, scene: str) -> None:
    with pytest.raises(UserError, match="is not a scene name"):
        plan_scenes(BuildConfig(root=tiny_root, out=tiny_root / "o", scenes=[scene]))


def test_scene_ids_must_be_listed_by_the_source(tiny_root: Path) -> None:
    with pytest.raises(UserError, match="no scene 'scene0999_00' under"):
        plan_scenes(BuildConfig(root=tiny_root, out=tiny_root / "o", scenes=["scene0000_00", "scene0999_00"]))
    named, _ = plan_scenes(
        BuildConfig(root=tiny_root, out=tiny_root / "o", scenes=["scene0707_00", "scene0000_00"], split="all")
    )
    assert named == ["scene0000_00", "scene0707_00"]  # scans_test/ is the source's too
    listed, _ = plan_scenes(BuildConfig(root=tiny_root, out=tiny_root / "o"))
    assert listed == ["scene0000_00", "scene0001_00"]


def test_media_paths_stay_under_out(tmp_path: Path) -> None:
    assert (
        media_path(tmp_path, "scannet/scene0000_00/000001.jpg")
        == tmp_path / "media/scannet/scene0000_00/000001.jpg"
    )
    for ref in ("../x.jpg", "scannet/../../x.jpg", "/etc/passwd", "", "a\\..\\b"):
        with pytest.raises(ValueError, match="would leave"):
            media_path(tmp_path, ref)


# --- one build per OUT, and only our own temporaries ---


def test_only_the_builds_own_temporaries_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ours = [
        temporary_path(out / "shards" / "qa-000000.tar"),
        temporary_path(out / "media" / "scannet" / "scene0000_00" / "000001.jpg"),
        temporary_path(out / "rejects" / "scenes" / "qa-000001.failed.json"),
        temporary_path(out / "manifest.json"),
    ]
    users = [
        out / "notes" / ".draft.md.tmp-1",
        out / ".notes.tmp-3",
        out / "shards" / ".backup.tmp-12",
        out / "media" / "scannet" / ".thumbs.tmp-4",
        out / "notes" / f".x{'.sicorpus-tmp-'}5",  # our pattern, but in a folder no build writes
    ]
    for path in ours + users:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert all(is_temporary(p.name) for p in ours)
    remove_stale_temporaries(out)
    assert [p.exists() for p in ours] == [False] * len(ours)
    assert all(p.exists() for p in users)


def test_a_second_build_into_a_locked_out_is_refused_before_it_writes(
    tiny_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with BuildLock(out):
        with pytest.raises(UserError, match="is being written by another build"):
            run_build(BuildConfig(root=tiny_root, out=out), workers=1, show_progress=False)
    assert sorted(p.name for p in out.iterdir()) == []  # no plan.json, nothing else


# --- up-front checks: nothing is written, Ray never starts ---


def test_a_label_map_without_its_header_fails_once_up_front(tiny_root: Path, tmp_path: Path) -> None:
    bad = tmp_path / "labels.tsv"
    bad.write_text("name\tclass\nchair\tchair\n")
    with pytest.raises(UserError, match="no raw_category column"):
        run_build(BuildConfig(root=tiny_root, out=tmp_path / "out", labels=bad), show_progress=False)
    with pytest.raises(UserError, match="label map not found"):
        run_build(
            BuildConfig(root=tiny_root, out=tmp_path / "out", labels=tmp_path / "no.tsv"), show_progress=False
        )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("workers", [0, -1])
def test_zero_or_negative_workers_are_refused_before_ray(
    tiny_root: Path, tmp_path: Path, workers: int
) -> None:
    with pytest.raises(UserError, match=f"workers = {workers}"):
        run_build(BuildConfig(root=tiny_root, out=tmp_path / "out"), workers=workers, show_progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--limit", "0"], "limit = 0 (from --limit)"),
        (["--workers", "0"], "workers = 0 (from --workers)"),
        (["--workers", "-1"], "workers = -1 (from --workers)"),
        (["--scenes", "../../../elsewhere/x"], "is not a scene name"),
        (["--scenes", "scene0999_00"], "no scene 'scene0999_00'"),
        (["--source", "nope"], "unknown source 'nope'"),
        (["--config", "CONFIG", "--seed", "1"], "scene_cap = True"),
    ],
)
def test_build_flags_are_checked_before_anything_is_written(
    tiny_root: Path, tmp_path: Path, args, needle
) -> None:
    config = tmp_path / "b.toml"
    config.write_text("scene_cap = true\n")
    args = [str(config) if a == "CONFIG" else a for a in args]
    code, _, stderr = cli("build", "--root", tiny_root, "--out", tmp_path / "out", *args)
    assert_one_error(code, stderr, needle)
    assert not (tmp_path / "out").exists()


def test_the_build_driver_applies_the_device_rule_to_the_cluster(
    tiny_root: Path, tmp_path: Path, ray_cluster
) -> None:
    import ray

    from pipeline.geometry.device import NO_CUDA

    if ray.cluster_resources().get("GPU", 0) > 0:
        pytest.skip("this cluster has a GPU")
    with pytest.raises(UserError) as e:
        run_build(BuildConfig(root=tiny_root, out=tmp_path / "out", device="cuda"), show_progress=False)
    assert str(e.value) == NO_CUDA  # not a silent CPU run
    assert not (tmp_path / "out" / "shards").exists()


# --- the other commands ---


def test_user_errors_are_one_line_and_bugs_keep_their_traceback() -> None:
    @user_errors
    def mistaken() -> None:
        raise UserError("a bad flag\nsecond line")

    @user_errors
    def buggy() -> None:
        raise ValueError("a bug")

    with pytest.raises(typer.Exit) as e:
        mistaken()
    assert e.value.exit_code == 2
    with pytest.raises(ValueError, match="a bug"):
        buggy()


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    out = tmp_path / "corpus"
    build_corpus(out, Plan(scenes=1, per_scene={"relative_distance": 3}))
    return out


def test_query_outside_the_views_is_one_error_line(small_corpus: Path, tmp_path: Path) -> None:
    for sql in (
        f"COPY qa TO '{tmp_path / 'leak.csv'}'",
        "SELECT * FROM read_text('/etc/passwd')",
        f"COPY (SELECT * FROM qa WHERE false) TO '{small_corpus / 'shards' / 'qa-000000.parquet'}'",
        "INSTALL httpfs",
        "SELECT nope FROM qa",
    ):
        code, stdout, stderr = cli("query", small_corpus, sql)
        assert_one_error(code, stderr, "query failed: ")
        assert stdout == ""
    assert not (tmp_path / "leak.csv").exists()
    assert cli("query", small_corpus, "SELECT count(*) AS n FROM qa", "--format", "csv")[1] == "n\n3\n"


def test_export_or_report_to_an_existing_file_is_one_error_line(small_corpus: Path, tmp_path: Path) -> None:
    dest = tmp_path / "notes.txt"
    dest.write_text("mine")
    for command in ("export", "report"):
        code, _, stderr = cli(command, small_corpus, "--dest", dest)
        assert_one_error(code, stderr, "is a file")
    assert dest.read_text() == "mine"
    code, _, stderr = cli("export", tmp_path / "nothing", "--dest", tmp_path / "d")
    assert_one_error(code, stderr, "run `sicorpus build` first")


def test_generate_on_an_unknown_or_broken_scene(demo_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    good = sorted((demo_root / "scans").iterdir())[0]
    (root / "scans").mkdir(parents=True)
    shutil.copy(demo_root / "scannetv2-labels.combined.tsv", root / "scannetv2-labels.combined.tsv")
    broken = root / "scans" / good.name
    shutil.copytree(good, broken, ignore=shutil.ignore_patterns("color", "depth", "pose", "*.sens"))
    mesh = broken / f"{good.name}_vh_clean_2.ply"
    mesh.write_bytes(mesh.read_bytes()[:3000])
    for scene, needle in (
        (good.name, "truncated"),
        ("scene0999_00", "no scene 'scene0999_00'"),
        ("../x", "not a scene name"),
    ):
        code, stdout, stderr = cli("generate", "spatial_relations", "--root", root, "--scene", scene)
        assert_one_error(code, stderr, needle)
        assert stdout == ""


def test_a_real_process_shows_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "build", "--root", str(tmp_path), "--out", str(tmp_path / "o"), "--limit", "0"],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_warnings_are_summarised_one_line_per_kind() -> None:
    records = [
        {"scene_id": "a", "skipped_frames": {"invalid_pose": 2, "truncated_stream": 32}, "warnings": ["dropped 3 duplicate segGroups"]},
        {"scene_id": "b", "skipped_frames": {"invalid_pose": 1}, "warnings": ["labels not in the label map, kept raw: x, y"]},
        {"scene_id": "c", "skipped_frames": {}, "warnings": ["dropped 1 duplicate segGroups"]},
    ]  # fmt: skip
    assert warning_lines(records) == [
        "warning: skipped 3 frames (invalid pose) in 2 scenes: a, b",
        "warning: skipped 32 frames (truncated stream) in 1 scene: a",
        "warning: dropped N duplicate segGroups in 2 scenes: a, c",
        "warning: labels not in the label map, kept raw in 1 scene: b",
    ]


# --- one small build through the CLI, shared by the slow tests ---


@pytest.fixture(scope="module")
def cli_build(demo_root: Path, ray_cluster, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("cli-build")
    root = base / "root"
    (root / "scans").mkdir(parents=True)
    good = sorted((demo_root / "scans").iterdir())[0]
    scene = root / "scans" / good.name
    shutil.copytree(good, scene)
    first_pose = sorted((scene / "pose").glob("*.txt"), key=lambda p: int(p.stem))[0]
    first_pose.write_text("\n".join(["nan nan nan nan"] * 4) + "\n")  # one skipped frame
    broken = root / "scans" / "scene9100_00"
    broken.mkdir()
    (broken / "scene9100_00_vh_clean_2.ply").write_bytes(b"ply\nformat ascii 1.0\n")
    labels = base / "my-labels.tsv"
    shutil.copy(demo_root / "scannetv2-labels.combined.tsv", labels)
    config = base / "build.toml"
    config.write_text(f'seed = 7\nlabels = "{labels}"\nscene_cap = 400\n[frames]\nmax_frames = 16\n')
    out = base / "out"
    user_temp = out / "notes" / ".draft.md.tmp-1"
    user_temp.parent.mkdir(parents=True)
    user_temp.write_text("my draft")
    stale = temporary_path(out / "shards" / "qa-000000.tar")  # left by a killed run
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"partial")
    args = ["build", "--root", root, "--out", out, "--config", config, "--workers", "2", "--no-progress"]
    first = cli(*args)
    again = cli(*args)
    retried = cli(*args, "--retry-failed")
    return {
        "retried": retried,
        "out": out,
        "first": first,
        "again": again,
        "user_temp": user_temp,
        "stale": stale,
        "scene": good.name,
    }


@pytest.mark.slow
def test_config_values_reach_the_manifest(cli_build: dict) -> None:
    manifest = json.loads((cli_build["out"] / "manifest.json").read_text())
    assert manifest["seed"] == manifest["config"]["seed"] == 7
    assert manifest["config"]["labels"].endswith("my-labels.tsv")
    assert (manifest["config"]["scene_cap"], manifest["config"]["frames"]["max_frames"]) == (400, 16)
    assert manifest["config"]["workers"] == 2
    samples = [r for r in manifest["scenes"] if r["status"] == "ok"]
    assert len(samples) == 1 and 0 < samples[0]["n_samples"] <= 400


@pytest.mark.slow
def test_the_build_summarises_warnings_and_failures(cli_build: dict) -> None:
    code, _, stderr = cli_build["first"]
    assert code == 3
    assert f"warning: skipped 1 frames (invalid pose) in 1 scene: {cli_build['scene']}" in stderr
    assert "failed scene scene9100_00: " in stderr
    assert "--retry-failed" not in stderr


@pytest.mark.slow
def test_a_rerun_says_it_did_not_retry_failed_scenes(cli_build: dict) -> None:
    code, _, stderr = cli_build["again"]
    assert code == 3
    assert "0 processed now" in stderr
    assert "1 scene that failed in an earlier run was not retried; add --retry-failed" in stderr
    code, _, stderr = cli_build["retried"]
    assert code == 3 and "1 processed now" in stderr and "not retried" not in stderr


@pytest.mark.slow
def test_the_build_removed_only_its_own_temporaries(cli_build: dict) -> None:
    assert not cli_build["stale"].exists()
    assert cli_build["user_temp"].read_text() == "my draft"
    assert not (cli_build["out"] / ".build.lock").exists()
