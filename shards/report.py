"""An HTML report of a corpus: distribution plots (matplotlib, Agg) and a few rendered samples.

The folder (OUT/report by default) is self-contained: index.html, the PNG plots and resized copies of the
frames the rendered samples show, all linked relatively, so it can be zipped or served as is.
"""

from __future__ import annotations

import html
import tarfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from shards.index import connect
from shards.layout import media_dir, shards_dir
from shards.stats import corpus_stats
from shards.writer import read_member_at
from taxonomy import CATEGORIES, SUBTASKS

RENDERED_SAMPLES = 12
THUMB_WIDTH = 320
COLOURS = dict(zip(CATEGORIES, ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1"], strict=True))


def report(out: Path, dest: Path | None = None, *, samples: int = RENDERED_SAMPLES) -> Path:
    """Write the report folder (default OUT/report) and return the path of its index.html."""
    out = Path(out)
    dest = Path(dest) if dest is not None else out / "report"
    dest.mkdir(parents=True, exist_ok=True)
    stats = corpus_stats(out)
    con = connect(out)
    try:
        values = con.execute(
            "SELECT subtask, coalesce(unit, '') AS unit, value FROM qa WHERE value IS NOT NULL"
        ).fetchnumpy()
        chosen = _choose_samples(con, samples)
    finally:
        con.close()
    plots = [
        ("Samples per category", _plot_categories(stats, dest / "categories.png")),
        ("Samples per subtask", _plot_subtasks(stats, dest / "subtasks.png")),
        ("Correct letter per multiple-choice subtask", _plot_letters(stats, dest / "letters.png")),
        ("Numeric ground-truth values", _plot_values(values, dest / "values.png")),
        ("Correct option texts (top 8 per subtask)", _plot_answer_texts(stats, dest / "answer_texts.png")),
        (
            "Most named object labels",
            _plot_bars([(r["label"], r["n"]) for r in stats["labels"]], dest / "labels.png"),
        ),
        (
            "Rejected samples by reason",
            _plot_bars([(r["reason"], r["n"]) for r in stats["rejects_by_reason"]], dest / "rejects.png"),
        ),
        ("Blind (text-only) baseline vs chance", _plot_blind(stats, dest / "blind.png")),
    ]
    rendered = [_render_sample(out, dest, row) for row in chosen]
    page = dest / "index.html"
    page.write_text(
        _page(out, stats, [(t, p) for t, p in plots if p is not None], rendered), encoding="utf-8"
    )
    return page


# ------------------------------------------------------------------------------------------------- samples


def _choose_samples(con: Any, limit: int) -> list[dict[str, Any]]:
    """The first sample of each subtask in index order, taken round-robin over categories."""
    cursor = con.execute(
        "SELECT * FROM (SELECT id, category, subtask, source, scene_id, question, options, answer, answer_text, "
        'images, shard, "offset", byte_offset, row_number() OVER (PARTITION BY subtask ORDER BY shard, "offset") '
        "AS rn FROM qa) WHERE rn = 1"
    )
    columns = [d[0] for d in cursor.description]
    firsts = {r["subtask"]: r for r in (dict(zip(columns, row, strict=True)) for row in cursor.fetchall())}
    queues = {
        c: [firsts[s] for s in SUBTASKS if SUBTASKS[s].category == c and s in firsts] for c in CATEGORIES
    }
    queues["other"] = [firsts[s] for s in sorted(firsts) if s not in SUBTASKS]
    picked: list[dict[str, Any]] = []
    while len(picked) < limit and any(queues.values()):
        for queue in queues.values():
            if queue and len(picked) < limit:
                picked.append(queue.pop(0))
    return picked


def read_sample(out: Path, shard: str, byte_offset: int, sample_id: str) -> dict[str, Any] | None:
    """One sample's JSON straight from its tar by the index's byte offset; None when it does not match."""
    try:
        name, sample = read_member_at(shards_dir(out) / shard, byte_offset)
    except (OSError, tarfile.TarError, ValueError):
        return None
    return sample if name == f"{sample_id}.json" else None


def _thumbnail(out: Path, dest: Path, ref: str) -> str | None:
    image = cv2.imread(str(media_dir(out) / ref), cv2.IMREAD_COLOR)
    if image is None:
        return None
    h, w = image.shape[:2]
    if w > THUMB_WIDTH:
        image = cv2.resize(
            image, (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w))), interpolation=cv2.INTER_AREA
        )
    rel = "frames/" + ref.replace("/", "__")
    (dest / "frames").mkdir(exist_ok=True)
    cv2.imwrite(str(dest / rel), image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return rel


def _render_sample(out: Path, dest: Path, row: dict[str, Any]) -> str:
    sample = read_sample(out, row["shard"], int(row["byte_offset"]), row["id"]) or {}
    frames = []
    for ref in row["images"] or []:
        rel = _thumbnail(out, dest, ref)
        frames.append(
            f'<img src="{html.escape(rel)}" alt="{html.escape(ref)}" title="{html.escape(ref)}">'
            if rel
            else f'<span class="missing">missing frame {html.escape(ref)}</span>'
        )
    facts = sample.get("facts", {})
    named = ", ".join(f"{o['label']} (#{o['instance_id']})" for o in facts.get("objects", []))
    value = (
        f" — value {facts['value']:.4g} {facts.get('unit') or ''}" if facts.get("value") is not None else ""
    )
    answer = (
        row["answer"] if row["answer"] == row["answer_text"] else f"{row['answer']} ({row['answer_text']})"
    )
    return (
        '<div class="sample">'
        f"<h3>{html.escape(row['subtask'])} <small>{html.escape(row['id'])}</small></h3>"
        f'<div class="frames">{"".join(frames)}</div>'
        f"<pre>{html.escape(row['question'])}</pre>"
        f"<p><b>answer:</b> {html.escape(answer)}{html.escape(value)}</p>"
        f'<p class="facts">objects: {html.escape(named or "—")}</p>'
        "</div>"
    )


# --------------------------------------------------------------------------------------------------- plots


def _short(text: str, n: int = 40) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=90, bbox_inches="tight", metadata={"Software": None})
    return path


def _plot_bars(items: list[tuple[str, float]], path: Path, colours: list[str] | None = None) -> Path | None:
    if not items:
        return None
    fig = Figure(figsize=(8, 0.6 + 0.28 * len(items)))
    ax = fig.add_subplot()
    y = np.arange(len(items))
    ax.barh(y, [v for _, v in items], color=colours or "#4e79a7")
    ax.set_yticks(y, [_short(k) for k, _ in items])
    ax.invert_yaxis()
    ax.set_xlabel("samples")
    return _save(fig, path)


def _plot_categories(stats: dict[str, Any], path: Path) -> Path | None:
    rows = stats["by_category"]
    return _plot_bars(
        [(r["category"], r["n"]) for r in rows], path, [COLOURS.get(r["category"], "#888") for r in rows]
    )


def _plot_subtasks(stats: dict[str, Any], path: Path) -> Path | None:
    rows = stats["by_subtask"]
    return _plot_bars(
        [(r["subtask"], r["n"]) for r in rows], path, [COLOURS.get(r["category"], "#888") for r in rows]
    )


def _plot_letters(stats: dict[str, Any], path: Path) -> Path | None:
    rows = stats["letter_balance"]
    if not rows:
        return None
    fig = Figure(figsize=(8, 0.6 + 0.3 * len(rows)))
    ax = fig.add_subplot()
    cmap = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7"]
    for y, r in enumerate(rows):
        left = 0.0
        for i, (letter, share) in enumerate(r["shares"].items()):
            ax.barh(y, share, left=left, color=cmap[i % len(cmap)], edgecolor="white")
            if share > 0.04:
                ax.text(left + share / 2, y, letter, ha="center", va="center", fontsize=7, color="white")
            left += share
    ax.set_yticks(range(len(rows)), [f"{r['subtask']} ({r['n_options']})" for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of samples whose answer is that letter (equal segments = balanced)")
    return _save(fig, path)


def _plot_values(values: dict[str, np.ndarray], path: Path) -> Path | None:
    if len(values["value"]) == 0:
        return None
    keys = sorted({(s, u) for s, u in zip(values["subtask"], values["unit"], strict=True)})
    cols = 3
    rows = -(-len(keys) // cols)
    fig = Figure(figsize=(4 * cols, 2.6 * rows))
    for i, (subtask, unit) in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        sel = (values["subtask"] == subtask) & (values["unit"] == unit)
        ax.hist(values["value"][sel].astype(np.float64), bins=30, color="#4e79a7")
        ax.set_title(f"{subtask} ({unit or 'no unit'})", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _plot_answer_texts(stats: dict[str, Any], path: Path) -> Path | None:
    groups = stats["answer_texts"]
    if not groups:
        return None
    cols = 3
    rows = -(-len(groups) // cols)
    fig = Figure(figsize=(4.5 * cols, 2.8 * rows))
    for i, g in enumerate(groups):
        ax = fig.add_subplot(rows, cols, i + 1)
        top = g["top"][:8]
        ax.barh(range(len(top)), [a["share"] for a in top], color="#f28e2b")
        ax.set_yticks(range(len(top)), [_short(a["answer_text"], 24) for a in top], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{g['subtask']} ({g['distinct']} distinct)", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _plot_blind(stats: dict[str, Any], path: Path) -> Path | None:
    blind = stats.get("blind_baseline")
    if not blind or not blind["subtasks"]:
        return None
    rows = blind["subtasks"]
    fig = Figure(figsize=(8, 0.6 + 0.3 * len(rows)))
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [r["chance"] for r in rows], height=0.4, color="#bab0ac", label="chance")
    ax.barh(
        y + 0.2, [r["blind_accuracy"] for r in rows], height=0.4, color="#e15759", label="text-only baseline"
    )
    ax.set_yticks(y, [r["subtask"] for r in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


# ---------------------------------------------------------------------------------------------------- page

_CSS = """
body { font-family: sans-serif; margin: 2em; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.sample { border: 1px solid #ddd; padding: 0.5em 1em; margin: 1em 0; }
.frames img { margin: 2px; border: 1px solid #aaa; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; }
.missing, .fail { color: #b00; }
"""


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(out: Path, stats: dict[str, Any], plots: list[tuple[str, Path]], rendered: list[str]) -> str:
    t = stats["totals"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>sicorpus report — {html.escape(out.resolve().name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Corpus report: {html.escape(out.resolve().name)}</h1>",
        _html_table(["", "count"], [[k.replace("_", " "), v] for k, v in t.items()]),
        "<h2>Subtasks</h2>",
        _html_table(
            ["subtask", "category", "answer type", "samples", "scenes", "share"],
            [
                [
                    r["subtask"],
                    r["category"],
                    r["answer_type"],
                    r["n"],
                    r["scenes"],
                    f"{100 * r['share']:.1f}%",
                ]
                for r in stats["by_subtask"]
            ],
        ),
    ]
    if stats["missing_subtasks"]:
        parts.append(f"<p>No samples: {html.escape(', '.join(stats['missing_subtasks']))}</p>")
    blind = stats.get("blind_baseline")
    if blind is not None:
        verdict = "passed" if blind["ok"] else '<span class="fail">FAILED</span>'
        parts.append(f"<h2>Shortcut audit: {verdict}</h2>")
        parts.append(
            _html_table(
                ["subtask", "samples", "chance", "text-only baseline", "best baseline"],
                [
                    [
                        r["subtask"],
                        r["n"],
                        f"{100 * r['chance']:.1f}%",
                        f"{100 * r['blind_accuracy']:.1f}%",
                        r["blind_best"],
                    ]
                    for r in blind["subtasks"]
                ],
            )
        )
    for title, path in plots:
        parts.append(
            f'<h2>{html.escape(title)}</h2><img src="{html.escape(path.name)}" alt="{html.escape(title)}">'
        )
    if stats["failed_scenes"]:
        parts.append("<h2>Failed scenes</h2>")
        parts.append(
            _html_table(
                ["source", "scene", "stage", "reason"],
                [
                    [r["source"], r["scene_id"], r["stage"] or "", r["reason"] or ""]
                    for r in stats["failed_scenes"]
                ],
            )
        )
    parts.append("<h2>Samples</h2>")
    parts.extend(rendered)
    parts.append("</body></html>")
    return "\n".join(parts)
