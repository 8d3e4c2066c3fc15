"""`--format vsibench`: an evaluation split in VSI-Bench's columns, run with VSI-Bench's own lmms-eval template.

Columns as in nyu-visionx/VSI-Bench and lmms-eval's `tasks/vsibench/utils.py`: `id` (int64), `dataset`,
`scene_name`, `question_type`, `question` (the bare question: the template adds "Options:", the options and its
post-prompt), `options` (list of "A. text", null for numeric answers), `ground_truth` (the letter, or the number as
a string); plus `sample_id` (our id). Only subtasks that have a VSI-Bench question type are written (the template
raises on any other type). The template's `doc_to_visual` reads `$HF_HOME/vsibench/<dataset>/<scene_name>.mp4`:
each distinct frame list becomes one mp4 there (DEST/hf/vsibench links to DEST/videos), so a scene whose samples
all use the same frames is one video named by its scene id, as in VSI-Bench.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shards.atomic import atomic_write, atomic_write_with
from shards.exports.video import encode_mp4
from shards.index import committed_indexes, connect
from shards.layout import media_dir
from shards.writer import read_shard

MCA_POST = "Answer with the option's letter from the given choices directly."
NA_POST = "Please answer the question using a single word or phrase."

# subtask -> VSI-Bench question type; allocentric direction is split by its number of options as VSI-Bench's
# easy (left/right), medium (left/right/back) and hard (four quadrants).
QUESTION_TYPES = {
    "object_count": "object_counting",
    "absolute_distance": "object_abs_distance",
    "object_size": "object_size_estimation",
    "room_size": "room_size_estimation",
    "relative_distance": "object_rel_distance",
    "route_plan": "route_planning",
    "appearance_order": "obj_appearance_order",
}
DIRECTION_LEVELS = {
    2: "object_rel_direction_easy",
    3: "object_rel_direction_medium",
    4: "object_rel_direction_hard",
}

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("dataset", pa.string()),
        ("scene_name", pa.string()),
        ("question_type", pa.string()),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),
        ("ground_truth", pa.string()),
        ("sample_id", pa.string()),
    ]
)


def question_type(sample: dict[str, Any]) -> str | None:
    if sample["subtask"] == "allocentric_direction":
        return DIRECTION_LEVELS.get(len(sample.get("options") or []))
    return QUESTION_TYPES.get(sample["subtask"])


def bare_question(sample: dict[str, Any]) -> str:
    """The question without its options and instruction lines (the template adds its own)."""
    text = sample["question"]
    options = sample.get("options") or []
    if options:
        suffix = "\n" + "\n".join(options) + "\n" + MCA_POST
        if text.endswith(suffix):
            return text[: -len(suffix)].strip()
    elif text.endswith("\n" + NA_POST):
        return text[: -len(NA_POST) - 1].strip()
    drop = {*options, MCA_POST, NA_POST, "Options:"}
    return "\n".join(line for line in text.splitlines() if line.strip() not in drop).strip()


def _scene_names(
    out: Path, scenes: set[tuple[str, str]] | None
) -> dict[tuple[str, str, tuple[str, ...]], str]:
    """(source, scene, frame list) -> scene_name: the scene id when the scene has one frame list, else the id
    with a digest of the frames."""
    con = connect(out)
    try:
        rows = con.execute(
            "SELECT DISTINCT source, scene_id, images FROM qa WHERE subtask IN ("
            + ", ".join(f"'{s}'" for s in [*QUESTION_TYPES, "allocentric_direction"])
            + ")"
        ).fetchall()
    finally:
        con.close()
    per_scene: dict[tuple[str, str], list[tuple[str, ...]]] = {}
    for source, scene, images in rows:
        if scenes is None or (source, scene) in scenes:
            per_scene.setdefault((source, scene), []).append(tuple(images))
    names = {}
    for (source, scene), lists in per_scene.items():
        for frames in lists:
            digest = hashlib.sha1("\n".join(frames).encode()).hexdigest()[:8]
            names[(source, scene, frames)] = scene if len(lists) == 1 else f"{scene}_{digest}"
    return names


def task_yaml(parquet: Path, task: str) -> str:
    return f"""# sicorpus evaluation split in VSI-Bench's columns, scored by VSI-Bench's own lmms-eval template.
# Put this file into lmms-eval's lmms_eval/tasks/vsibench/ (beside _default_template_yaml and utils.py; with an
# older lmms-eval that has only vsibench.yaml, include that instead), then run with the videos' HF_HOME:
#   HF_HOME={parquet.parent.resolve() / "hf"} python -m lmms_eval --tasks {task} ...
# (utils.vsibench_doc_to_visual reads $HF_HOME/vsibench/<dataset>/<scene_name>.mp4; or link those files into
# your own $HF_HOME/vsibench/).
task: {task}
include: _default_template_yaml
dataset_path: parquet
dataset_kwargs:
  data_files:
    test: "{parquet.resolve()}"
test_split: test
"""


def export_vsibench(out: Path, dest: Path, scenes: set[tuple[str, str]] | None) -> dict[str, Any]:
    names = _scene_names(out, scenes)
    media = media_dir(out)
    rows: list[dict[str, Any]] = []
    counts: dict[str, Any] = {"samples": 0, "videos": 0, "skipped_types": 0, "skipped": 0}
    by_type: dict[str, int] = {}
    for index in committed_indexes(out):
        for sample in read_shard(index.with_suffix(".tar")):
            if scenes is not None and (sample["source"], sample["scene_id"]) not in scenes:
                continue
            qtype = question_type(sample)
            if qtype is None:
                counts["skipped_types"] += 1
                continue
            frames = tuple(sample["images"])
            scene_name = names[(sample["source"], sample["scene_id"], frames)]
            video = dest / "videos" / sample["source"] / f"{scene_name}.mp4"
            if not video.is_file():
                paths = [media / r for r in frames]
                if not all(p.is_file() for p in paths):
                    counts["skipped"] += 1
                    continue
                encode_mp4(paths, video)
                counts["videos"] += 1
            rows.append(
                {
                    "id": len(rows),
                    "dataset": sample["source"],
                    "scene_name": scene_name,
                    "question_type": qtype,
                    "question": bare_question(sample),
                    "options": sample.get("options") or None,
                    "ground_truth": sample["answer"],
                    "sample_id": sample["id"],
                }
            )
            by_type[qtype] = by_type.get(qtype, 0) + 1
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    parquet = dest / "vsibench.parquet"
    atomic_write_with(parquet, lambda p: pq.write_table(table, p))
    link = dest / "hf" / "vsibench"
    link.parent.mkdir(parents=True, exist_ok=True)
    (dest / "videos").mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(Path("..") / "videos", target_is_directory=True)
    task = f"sicorpus_vsibench_{out.resolve().name}".replace("-", "_")
    atomic_write(dest / f"{task}.yaml", task_yaml(parquet, task).encode())
    counts.update(
        samples=len(rows), question_types=by_type, parquet=str(parquet), yaml=str(dest / f"{task}.yaml")
    )
    return counts
