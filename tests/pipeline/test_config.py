"""Flags and config merged with one rule, every value checked for its type and range (docs/boundaries.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import BuildConfig, load_config_file, merge_settings
from schemas.errors import UserError


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "build.toml"
    path.write_text(text)
    return path


def test_cli_value_wins_then_config_then_default(tmp_path: Path) -> None:
    config = toml(tmp_path, 'seed = 7\nlabels = "my.tsv"\nscene_cap = 100\n[frames]\nmax_frames = 16\n')
    cfg = merge_settings({"root": tmp_path, "out": tmp_path / "o", "seed": None, "labels": None}, config)
    assert (cfg.seed, cfg.labels, cfg.scene_cap, cfg.frames.max_frames) == (7, Path("my.tsv"), 100, 16)
    assert cfg.frames.video_frames == 16 and cfg.device == "auto"  # defaults where neither says
    cfg = merge_settings(
        {"root": tmp_path, "out": tmp_path / "o", "seed": 3, "labels": Path("cli.tsv")}, config
    )
    assert (cfg.seed, cfg.labels) == (3, Path("cli.tsv"))
    cfg = merge_settings({"root": tmp_path, "out": tmp_path / "o", "seed": 0}, config)
    assert cfg.seed == 0  # an explicit 0 on the command line is a value, not "not given"


def test_root_and_out_may_come_from_the_config(tmp_path: Path) -> None:
    config = toml(tmp_path, f'root = "{tmp_path}"\nout = "{tmp_path / "o"}"\n')
    assert merge_settings({}, config).out == tmp_path / "o"
    with pytest.raises(UserError, match="setting out is required"):
        merge_settings({"root": tmp_path})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scene_cap = true", r"scene_cap = True .*valid integer"),
        ("scene_cap = 0", "scene_cap = 0 .*greater than or equal to 1"),
        ("[quotas]\nroom_size = -3", "quotas.room_size = -3 .*greater than or equal to 0"),
        ("[quotas]\nroom_size = 1.5", "quotas.room_size"),
        ("[quotas]\nno_such_subtask = 3", "unknown subtasks in quotas: no_such_subtask"),
        ('device = "tpu"', "device = 'tpu' .*'auto', 'cpu' or 'cuda'"),
        ("gpu_fraction = true", "gpu_fraction"),
        ("gpu_fraction = 1.5", "gpu_fraction"),
        ("limit = 0", "limit = 0"),
        ("workers = 0", "workers = 0"),
        ('seed = "7"', "seed = '7'"),
        ("seed = -1", "seed = -1"),
        ("[frames]\nmax_frames = true", "frames.max_frames"),
        ("unknown_key = 1", "unknown_key"),
        ('source = "nope"', "unknown source 'nope'"),
    ],
)
def test_bad_values_in_a_config_are_named_with_their_file(tmp_path: Path, text: str, message: str) -> None:
    config = toml(tmp_path, text + "\n")
    with pytest.raises(UserError, match=message) as e:
        merge_settings({"root": tmp_path, "out": tmp_path / "o"}, config)
    assert f"(from {config})" in str(e.value)


@pytest.mark.parametrize(("flag", "value"), [("limit", 0), ("workers", 0), ("workers", -1), ("seed", -2)])
def test_bad_flags_name_the_flag(tmp_path: Path, flag: str, value: int) -> None:
    with pytest.raises(UserError, match=f"setting {flag} = {value} \\(from --{flag}\\)"):
        merge_settings({"root": tmp_path, "out": tmp_path / "o", flag: value})


def test_a_float_setting_takes_an_integer(tmp_path: Path) -> None:
    cfg = merge_settings(
        {"root": tmp_path, "out": tmp_path}, toml(tmp_path, "gpu_fraction = 1\ntask_memory_gb = 2\n")
    )
    assert (cfg.gpu_fraction, cfg.task_memory_gb) == (1.0, 2.0)


def test_unreadable_or_malformed_config_files(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read it"):
        load_config_file(tmp_path / "missing.toml")
    with pytest.raises(UserError, match="not valid TOML"):
        load_config_file(toml(tmp_path, "seed = = 7"))
    (tmp_path / "b.json").write_text("[1, 2]")
    with pytest.raises(UserError, match="a table of settings"):
        load_config_file(tmp_path / "b.json")
    (tmp_path / "c.json").write_text("{seed: 1}")
    with pytest.raises(UserError, match="not valid JSON"):
        load_config_file(tmp_path / "c.json")


def test_run_only_settings_do_not_change_the_corpus_identity(tmp_path: Path) -> None:
    base = BuildConfig(root=tmp_path, out=tmp_path)
    other = BuildConfig(root=tmp_path, out=tmp_path / "x", workers=3, address="auto", device="cpu")
    assert base.corpus_identity() == other.corpus_identity()
    assert BuildConfig(root=tmp_path, out=tmp_path, seed=7).corpus_identity() != base.corpus_identity()
