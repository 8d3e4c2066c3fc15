"""`sicorpus`: build spatial QA corpora from ScanNet-layout scans, and inspect them."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from taxonomy import CATEGORIES, SUBTASKS

app = typer.Typer(
    help="Turn 3D indoor scans (ScanNet v2 layout) into validated spatial question-answer shards.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mistakes in user input end with one line on stderr and exit status 2, never a traceback."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from schemas.errors import UserError

        try:
            return fn(*args, **kwargs)
        except (UserError, FileNotFoundError, NotADirectoryError, ValueError) as e:
            _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)

    return run


OutArg = Annotated[
    Path, typer.Argument(help="the corpus folder a build wrote (holds manifest.json, shards/)")
]


@app.command()
@user_errors
def build(
    root: Annotated[Path, typer.Option(help="dataset root (ScanNet: the folder holding scans/)")],
    out: Annotated[Path, typer.Option(help="corpus output folder (reachable from every node)")],
    source: Annotated[str, typer.Option(help="dataset reader")] = "scannet",
    scenes: Annotated[str | None, typer.Option(help="comma-separated scene ids (default: all)")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N scenes (sorted)")] = None,
    workers: Annotated[int | None, typer.Option(help="local Ray workers (default: all cores)")] = None,
    address: Annotated[str | None, typer.Option(help="join this Ray cluster (or set RAY_ADDRESS)")] = None,
    seed: Annotated[int, typer.Option(help="seed of every random choice")] = 0,
    labels: Annotated[
        Path | None, typer.Option(help="label map tsv (default: ROOT/scannetv2-labels.combined.tsv)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="JSON/TOML build config: quotas, frames, scene_cap, ...")
    ] = None,
    retry_failed: Annotated[bool, typer.Option(help="re-run scenes that failed in an earlier run")] = False,
    allow_failures: Annotated[bool, typer.Option(help="exit 0 even when some scenes failed")] = False,
    progress: Annotated[bool, typer.Option(help="show progress on stderr")] = True,
) -> None:
    """Build the corpus: one Ray task per scene; resumable (re-run the same command after a crash).

    Exit status: 0 when every scene succeeded, 3 when the build completed but some scenes failed (each is
    listed with its reason in manifest.json and rejects/scenes/; the corpus of the others is complete),
    2 on a usage error.
    """
    from pipeline.build import run_build
    from pipeline.config import BuildConfig, load_config_file

    fields: dict[str, Any] = load_config_file(config) if config else {}
    fields.update(source=source, root=root, out=out, seed=seed, labels=labels, retry_failed=retry_failed)
    if scenes:
        fields["scenes"] = [s.strip() for s in scenes.split(",") if s.strip()]
    if limit:
        fields["limit"] = limit
    cfg = _config(BuildConfig, fields)
    result = run_build(cfg, workers=workers, address=address, show_progress=progress)
    totals = result.manifest["totals"]
    typer.echo(
        f"built {out}: {totals['samples']} samples from {totals['ok']}/{totals['scenes']} scenes "
        f"({result.ran} processed now, {result.seconds:.1f} s); {totals['rejects']} samples rejected",
        err=True,
    )
    for f in result.failed:
        typer.echo(f"failed scene {f['scene_id']}: {f.get('reason')}", err=True)
    if result.failed and not allow_failures:
        raise typer.Exit(3)


def _config(model: Any, fields: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(fields)
    except ValidationError as e:
        first = e.errors()[0]
        raise ValueError(f"config {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


@app.command("make-demo")
@user_errors
def make_demo_cmd(
    root: Annotated[Path, typer.Argument(help="folder to write the demo dataset into (ScanNet v2 layout)")],
    scenes: Annotated[int, typer.Option(help="number of rooms")] = 3,
    seed: Annotated[int, typer.Option(help="seed of the room layouts")] = 0,
    frames: Annotated[int, typer.Option(help="RGB-D frames rendered per room")] = 60,
    vertices: Annotated[int, typer.Option(help="mesh vertices per room (ScanNet scale: 150000)")] = 20000,
    depth_size: Annotated[str, typer.Option(help="depth resolution WxH (ScanNet: 640x480)")] = "320x240",
    color_size: Annotated[str, typer.Option(help="colour resolution WxH (ScanNet: 1296x968)")] = "640x480",
    rgbd: Annotated[
        str, typer.Option(help="RGB-D stream as export folders, a .sens file, or both")
    ] = "export",
    layout: Annotated[
        str, typer.Option(help="dataset layout: scannet, scannetpp or arkitscenes (the same rooms in each)")
    ] = "scannet",
) -> None:
    """Write procedurally generated indoor rooms in a dataset's exact layout (the demo data and test fixtures).

    scannet: ScanNet v2 (--rgbd export/sens/both); scannetpp: data/<id>/scans + iphone (rgb.mkv, depth.bin;
    --color-size applies, depth is 256x192); arkitscenes: 3dod/Training/<video> (256x192 frames, stored rotated).
    """
    from sources.demo import make_demo

    ids = make_demo(
        root,
        scenes=scenes,
        seed=seed,
        frames=frames,
        vertices=vertices,
        depth_size=_size(depth_size),
        color_size=_size(color_size),
        rgbd=rgbd,
        layout=layout,
        progress=lambda msg: typer.echo(msg, err=True),
    )
    typer.echo(f"wrote {len(ids)} demo scenes to {root}", err=True)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT") from None
    return w, h


@app.command()
@user_errors
def generate(
    category: Annotated[str, typer.Argument(help=f"one of: {', '.join(CATEGORIES)}")],
    scene: Annotated[str, typer.Option(help="scene id")],
    root: Annotated[Path, typer.Option(help="dataset root")],
    source: Annotated[str, typer.Option(help="dataset reader")] = "scannet",
    subtask: Annotated[str | None, typer.Option(help="only this subtask of the category")] = None,
    seed: Annotated[int, typer.Option(help="seed")] = 0,
    limit: Annotated[int | None, typer.Option(help="at most N samples per subtask")] = None,
) -> None:
    """Run one category's generator alone on one scene; JSON lines on stdout, nothing else."""
    from generators.registry import generate_scene
    from pipeline.config import BuildConfig
    from pipeline.scene_task import generation_config, load_facts

    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; one of: {', '.join(CATEGORIES)}")
    if subtask and (subtask not in SUBTASKS or SUBTASKS[subtask].category != category):
        raise ValueError(
            f"{subtask!r} is not a subtask of {category}: {', '.join(s for s, v in SUBTASKS.items() if v.category == category)}"
        )
    if not root.is_dir():
        raise ValueError(f"dataset root {root} does not exist")
    cfg = BuildConfig(source=source, root=root, out=Path(os.devnull), seed=seed)
    if limit:
        cfg.quotas = {s: limit for s in SUBTASKS}
    with _stdout_to_stderr():  # libraries that print must not corrupt the JSON lines
        _, facts = load_facts(cfg, scene)
        samples = generate_scene(facts, generation_config(cfg), category=category, subtask=subtask)
    for sample in samples:
        sys.stdout.write(json.dumps(sample, sort_keys=True) + "\n")


class _stdout_to_stderr:
    def __enter__(self) -> None:
        sys.stdout.flush()
        self.saved = os.dup(1)
        os.dup2(2, 1)

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)


@app.command()
@user_errors
def stats(out: OutArg, as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Corpus statistics through DuckDB over the index: counts, answer balance, values, rejects, failures."""
    from shards.stats import corpus_stats, format_stats

    result = corpus_stats(out)
    typer.echo(json.dumps(result, indent=1, default=str) if as_json else format_stats(result))


@app.command()
@user_errors
def query(
    out: OutArg,
    sql: Annotated[str, typer.Argument(help="SQL over the views qa, rejects, failed_scenes")],
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
) -> None:
    """Any SQL over the view `qa` (one row per sample), `rejects` and `failed_scenes`."""
    from shards.index import query as run_query

    try:
        columns, rows = run_query(out, sql)
    except Exception as e:  # duckdb errors are user errors here (bad SQL)
        if isinstance(e, ValueError):
            raise
        raise ValueError(f"query failed: {str(e).splitlines()[0]}") from None
    if fmt == "json":
        for row in rows:
            typer.echo(json.dumps(dict(zip(columns, row, strict=True)), default=str))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console().print(table)
    else:
        raise ValueError(f"unknown format {fmt!r}: table, csv or json")


@app.command()
@user_errors
def audit(
    out: OutArg,
    max_letter_excess: Annotated[float, typer.Option(help="a letter may be right at most 1/n + this")] = 0.05,
    max_blind_excess: Annotated[float, typer.Option(help="text-only baseline at most chance + this")] = 0.10,
) -> None:
    """Shortcut audit: text-only baseline per subtask vs chance, letter and label balance. Non-zero exit on a breach."""
    from shards.audit import AuditThresholds
    from shards.audit import audit as run_audit

    result = run_audit(
        out, AuditThresholds(max_letter_excess=max_letter_excess, max_blind_excess=max_blind_excess)
    )
    typer.echo(result.summary())
    if not result.ok:
        for line in result.failures:
            typer.echo(f"FAIL {line}", err=True)
        raise typer.Exit(1)


@app.command()
@user_errors
def report(
    out: OutArg, dest: Annotated[Path | None, typer.Option(help="folder (default OUT/report)")] = None
) -> None:
    """An HTML page with plots of the distributions and a few rendered samples."""
    from shards.report import report as make_report

    typer.echo(str(make_report(out, dest)))


@app.command()
@user_errors
def export(
    out: OutArg,
    dest: Annotated[Path, typer.Option(help="folder for the JSONL and its images")],
    fmt: Annotated[str, typer.Option("--format", help="internvl | llava")] = "internvl",
) -> None:
    """Training-ready JSONL (InternVL / SenseNova-SI layout, or LLaVA) with the frames beside it."""
    from shards.export import export as run_export

    if fmt not in ("internvl", "llava"):
        raise ValueError(f"unknown format {fmt!r}: internvl or llava")
    typer.echo(json.dumps(run_export(out, fmt, dest), default=str))  # type: ignore[arg-type]


@app.command()
def subtasks() -> None:
    """List the taxonomy: categories and subtask ids with their default per-scene quotas."""
    for cid, cat in CATEGORIES.items():
        typer.echo(f"{cid}: {cat.description}")
        for sid, s in SUBTASKS.items():
            if s.category == cid:
                typer.echo(f"  {sid:<26} {s.answer_type:<16} quota {s.quota:<4} {s.description}")


if __name__ == "__main__":
    app()
