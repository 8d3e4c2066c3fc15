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

from schemas.errors import UserError
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
    """A `UserError` (a mistake in user input, raised at a boundary) ends with one line on stderr and exit
    status 2; every other exception is a bug and keeps its traceback (docs/boundaries.md)."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UserError as e:
            _fail(str(e).splitlines()[0] if str(e) else type(e).__name__)

    return run


OutArg = Annotated[
    Path, typer.Argument(help="the corpus folder a build wrote (holds manifest.json, shards/)")
]


@app.command()
@user_errors
def build(
    root: Annotated[
        Path | None, typer.Option(help="dataset root (ScanNet: the folder holding scans/)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="corpus output folder (reachable from every node)")] = None,
    source: Annotated[str | None, typer.Option(help="dataset reader [default: scannet]")] = None,
    scenes: Annotated[str | None, typer.Option(help="comma-separated scene ids (default: all)")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N scenes (sorted)")] = None,
    workers: Annotated[int | None, typer.Option(help="scenes in flight (default: all cores)")] = None,
    address: Annotated[str | None, typer.Option(help="join this Ray cluster (or set RAY_ADDRESS)")] = None,
    seed: Annotated[int | None, typer.Option(help="seed of every random choice [default: 0]")] = None,
    split: Annotated[
        str | None,
        typer.Option(
            help="train (default: official train + unlisted scans, minus benchmark rooms), val, test or all"
        ),
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="label map tsv (default: ROOT/scannetv2-labels.combined.tsv)")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="JSON/TOML build config: quotas, frames, scene_cap, seed, ...")
    ] = None,
    retry_failed: Annotated[
        bool | None, typer.Option("--retry-failed/--no-retry-failed", help="re-run scenes that failed before")
    ] = None,
    allow_failures: Annotated[bool, typer.Option(help="exit 0 even when some scenes failed")] = False,
    progress: Annotated[bool, typer.Option(help="show progress on stderr")] = True,
) -> None:
    """Build the corpus: one Ray task per scene; resumable (re-run the same command after a crash).

    A flag given on the command line wins over the same setting in --config, which wins over the default.
    Exit status: 0 when every scene succeeded, 3 when the build completed but some scenes failed (each is
    listed with its reason in manifest.json and rejects/scenes/; the corpus of the others is complete),
    2 on a usage error.
    """
    from pipeline.build import benchmark_warnings, run_build
    from pipeline.config import merge_settings
    from pipeline.summary import warning_lines

    scene_list = None if scenes is None else [s.strip() for s in scenes.split(",") if s.strip()]
    flags = dict(
        source=source, root=root, out=out, seed=seed, labels=labels, scenes=scene_list, limit=limit,
        workers=workers, address=address, retry_failed=retry_failed, split=split,
    )  # fmt: skip
    cfg = merge_settings(flags, config)
    result = run_build(cfg, show_progress=progress)
    totals = result.manifest["totals"]
    typer.echo(
        f"built {cfg.out}: {totals['samples']} samples from {totals['ok']}/{totals['scenes']} scenes "
        f"({result.ran} processed now, {result.seconds:.1f} s); {totals['rejects']} samples rejected",
        err=True,
    )
    if totals.get("excluded"):
        kinds: dict[str, int] = {}
        for scan in result.manifest["split"]["excluded"]:
            kinds[scan["kind"]] = kinds.get(scan["kind"], 0) + 1
        counts = ", ".join(f"{n} by {kind}" for kind, n in sorted(kinds.items()))
        typer.echo(
            f"excluded {totals['excluded']} scans ({counts}; --split {cfg.split}), named in manifest.json",
            err=True,
        )
    for line in benchmark_warnings(result.manifest):
        typer.echo(f"warning: {line}", err=True)
    for line in warning_lines(result.manifest["scenes"]):
        typer.echo(line, err=True)
    for f in result.failed:
        typer.echo(f"failed scene {f['scene_id']}: {f.get('reason')}", err=True)
    if result.not_retried:
        n = len(result.not_retried)
        typer.echo(
            f"{n} scene{'s' if n != 1 else ''} that failed in an earlier run {'were' if n != 1 else 'was'} "
            "not retried; add --retry-failed to run them again",
            err=True,
        )
    if result.failed and not allow_failures:
        raise typer.Exit(3)


@app.command()
@user_errors
def ingest(
    fmt: Annotated[
        str,
        typer.Argument(
            metavar="FORMAT", help="internvl, llava, vsi590k, spar7m, mindcube, vica, vlm3r, sat, viewspatial"
        ),
    ],
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="input files, or folders to search")],
    out: Annotated[Path, typer.Option(help="corpus output folder")],
    media_root: Annotated[
        Path | None, typer.Option(help="folder the records' media paths are relative to")
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="local Ray workers (default: all cores)")] = None,
    address: Annotated[str | None, typer.Option(help="join this Ray cluster (or set RAY_ADDRESS)")] = None,
    keep_benchmark: Annotated[
        bool, typer.Option(help="keep records of benchmark rooms (analysis only)")
    ] = False,
) -> None:
    """Bring a community spatial-QA dataset into the corpus layout: mapped, validated, de-duplicated, benchmark-clean.

    Re-running the same command resumes. Ends with one line: samples written, and records dropped by reason.
    """
    from pipeline.ingest import run_ingest

    log = lambda msg: typer.echo(msg, err=True)  # noqa: E731
    result = run_ingest(fmt, paths, out, media_root, workers, address, keep_benchmark, log=log)
    typer.echo(result.summary(), err=True)


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
    resized_color: Annotated[
        str | None,
        typer.Option(
            help="resize colour frames to WxH after writing; the .txt keeps --color-size (real exports)"
        ),
    ] = None,
    stale_intrinsics: Annotated[
        bool, typer.Option(help="with --resized-color: intrinsic_color.txt keeps --color-size's values too")
    ] = False,
    layout: Annotated[
        str, typer.Option(help="dataset layout: scannet, scannetpp or arkitscenes (the same rooms in each)")
    ] = "scannet",
) -> None:
    """Write procedurally generated indoor rooms in a dataset's exact layout (the demo data and test fixtures).

    scannet: ScanNet v2 (--rgbd export/sens/both); scannetpp: data/<id>/scans + iphone (rgb.mkv, depth.bin;
    --color-size applies, depth is 256x192); arkitscenes: 3dod/Training/<video> (256x192 frames, stored rotated).
    """
    from sources.demo import RGBD_LAYOUTS, make_demo

    if rgbd not in RGBD_LAYOUTS:
        raise UserError(f"--rgbd must be one of {', '.join(RGBD_LAYOUTS)}, not {rgbd!r}")
    for flag, value, least in (
        ("--scenes", scenes, 1),
        ("--frames", frames, 2),
        ("--vertices", vertices, 100),
    ):
        if value < least:
            raise UserError(f"{flag} must be at least {least}, not {value}")
    ids = make_demo(
        root,
        scenes=scenes,
        seed=seed,
        frames=frames,
        vertices=vertices,
        depth_size=_size(depth_size),
        color_size=_size(color_size),
        rgbd=rgbd,
        resized_color=_size(resized_color) if resized_color else None,
        stale_intrinsics=stale_intrinsics,
        layout=layout,
        progress=lambda msg: typer.echo(msg, err=True),
    )
    typer.echo(f"wrote {len(ids)} demo scenes to {root}", err=True)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UserError(f"size {text!r} is not WIDTHxHEIGHT") from None
    if w < 1 or h < 1:
        raise UserError(f"size {text!r} must be positive")
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
    from pipeline.build import plan_scenes
    from pipeline.config import BuildConfig, validated
    from pipeline.scene_task import generation_config, load_facts
    from sources import SceneError

    if category not in CATEGORIES:
        raise UserError(f"unknown category {category!r}; one of: {', '.join(CATEGORIES)}")
    if subtask and (subtask not in SUBTASKS or SUBTASKS[subtask].category != category):
        raise UserError(
            f"{subtask!r} is not a subtask of {category}: {', '.join(s for s, v in SUBTASKS.items() if v.category == category)}"
        )
    if not root.is_dir():
        raise UserError(f"dataset root {root} does not exist")
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, not {limit}")
    # split "all": generate writes no corpus, so any scan the source lists may be looked at
    fields = dict(source=source, root=root, out=Path(os.devnull), seed=seed, scenes=[scene], split="all")
    cfg = validated(BuildConfig, fields, {k: f"--{k}" for k in fields})
    plan_scenes(cfg)  # the scene id is one the source lists
    if limit:
        cfg.quotas = {s: limit for s in SUBTASKS}
    try:
        with _stdout_to_stderr():  # libraries that print must not corrupt the JSON lines
            _, facts = load_facts(cfg, scene, need_scene=False)
    except SceneError as e:  # a broken scene is the input the user named
        raise UserError(f"scene {scene}: {e}") from None
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

    if fmt not in ("table", "csv", "json"):
        raise UserError(f"unknown format {fmt!r}: table, csv or json")
    columns, rows = run_query(out, sql)  # DuckDB's errors (bad SQL, a refused file access) are UserErrors
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

    _folder_or_new(dest)
    typer.echo(str(make_report(out, dest)))


@app.command()
@user_errors
def export(
    out: OutArg,
    dest: Annotated[Path, typer.Option(help="folder for the JSONL and its images")],
    fmt: Annotated[
        str, typer.Option("--format", help="internvl | llava | qwenvl | llamafactory | swift | vsibench")
    ] = "internvl",
    video: Annotated[
        str | None, typer.Option(help="mp4: a video sample's frames as one video with a <video> tag")
    ] = None,
    split: Annotated[str | None, typer.Option(help="only scans of this official split (e.g. val)")] = None,
) -> None:
    """Trainer-ready JSONL with the frames beside it (each as its trainer reads it), or a VSI-Bench split."""
    from shards.export import export as run_export

    _folder_or_new(dest)
    typer.echo(json.dumps(run_export(out, fmt, dest, video=video, split=split), default=str))


@app.command()
@user_errors
def mix(
    recipe: Annotated[Path, typer.Argument(help="recipe TOML: target, seed, inputs, [category] shares, ...")],
    out: Annotated[Path, typer.Option(help="folder for the mixed corpus")],
    dry_run: Annotated[bool, typer.Option(help="print the plan only")] = False,
    allow_shortfall: Annotated[
        bool, typer.Option(help="write what there is when the recipe cannot be met")
    ] = False,
) -> None:
    """A corpus of `target` samples drawn deterministically from other corpora by shares (docs/mix-export.md)."""
    from shards.mix import run_mix

    result = run_mix(recipe, out, dry_run=dry_run, allow_shortfall=allow_shortfall)
    typer.echo(result.plan.table())
    if not dry_run and result.shards:
        typer.echo(f"wrote {out}: {result.written} samples in {result.shards} shards", err=True)
    line = result.plan.shortfall_line()
    if line and not allow_shortfall:
        _fail(line, 1)
    if line:
        typer.echo(f"warning: {line}", err=True)


@app.command()
@user_errors
def decontaminate(
    out: OutArg,
    benchmark: Annotated[
        list[str] | None,
        typer.Option(
            help="a benchmark name (VSI-Bench, ViewSpatial-Bench) or a .parquet of benchmark images "
            "(MMSI-Bench, SPAR-Bench); repeatable; default: every benchmark known by scene id"
        ),
    ] = None,
) -> None:
    """Check a corpus against the benchmarks: one line per scan sharing a room (or frames) with one; exit 1 if any."""
    from shards.decontaminate import decontaminate as run_check

    result = run_check(out, benchmark or [])
    for line in result.lines():
        typer.echo(line)
    typer.echo(result.summary(), err=True)
    if not result.ok:
        raise typer.Exit(1)


def _folder_or_new(dest: Path | None) -> None:
    """An output folder flag: a folder, or a path that does not exist yet, never an existing file."""
    if dest is not None and dest.exists() and not dest.is_dir():
        raise UserError(f"--dest {dest} is a file; give a folder (or a path that does not exist yet)")


@app.command()
def subtasks() -> None:
    """List the taxonomy: categories and subtask ids with their default per-scene quotas."""
    for cid, cat in CATEGORIES.items():
        typer.echo(f"{cid}: {cat.description}")
        for sid, s in SUBTASKS.items():
            if s.category == cid:
                typer.echo(f"  {sid:<26} {s.answer_type:<16} quota {s.quota:<4} {s.description}")
    from taxonomy.coverage import coverage_lines

    typer.echo("\nbenchmark coverage (docs/benchmarks.md):")
    for line in coverage_lines():
        typer.echo(f"  {line}")


if __name__ == "__main__":
    app()
