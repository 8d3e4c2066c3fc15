"""Small synthetic corpora written with the real shard writer: schema-valid samples, tiny real JPEG frames.

`build_corpus` controls how answers relate to the text, so the audit can be shown a balanced corpus and
corpora skewed on purpose. Every sample passes `validate_sample` before it is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from schemas.sample import validate_sample
from shards.layout import failed_marker, manifest_path, media_dir
from shards.writer import write_scene_shard
from taxonomy import SUBTASKS, TAXONOMY_VERSION

SOURCE = "synth"
LABELS = [
    "chair",
    "table",
    "lamp",
    "sofa",
    "door",
    "sink",
    "bed",
    "desk",
    "shelf",
    "window",
    "toilet",
    "cabinet",
]
WORDS = [
    "red",
    "tall",
    "small",
    "wooden",
    "old",
    "round",
    "bright",
    "dark",
    "narrow",
    "heavy",
    "soft",
    "metal",
]
HEIGHTS = {"chair": 85.0, "table": 75.0, "lamp": 150.0, "sofa": 90.0, "door": 205.0, "sink": 30.0}
CUE = {
    w: LABELS[i] for i, w in enumerate(WORDS)
}  # question word -> answer label, for the "question_cue" skew
LETTERS = "ABCDEFGH"
INSTRUCTION = "Answer with the option's letter from the given choices directly."


@dataclass
class Plan:
    """How many samples per scene of each subtask, and how each is skewed (None = balanced)."""

    scenes: int = 10
    frames: int = 6
    per_scene: dict[str, int] = field(default_factory=dict)
    skew: dict[str, str | None] = field(default_factory=dict)
    failed_scenes: int = 0
    rejects_per_scene: int = 0
    seed: int = 0


def write_frames(out: Path, scene_id: str, frames: int) -> list[str]:
    refs = []
    for f in range(frames):
        ref = f"{SOURCE}/{scene_id}/{f:06d}.jpg"
        path = media_dir(out) / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        image = np.full((30, 40, 3), (20 * f) % 255, dtype=np.uint8)
        cv2.rectangle(image, (5, 5), (20 + f, 20), (0, 0, 255), -1)
        ok, data = cv2.imencode(".jpg", image)
        assert ok
        path.write_bytes(data.tobytes())
        refs.append(ref)
    return refs


def base_sample(scene_id: str, subtask: str, k: int, frames: list[int], refs: list[str]) -> dict[str, Any]:
    return {
        "id": f"{SOURCE}-{scene_id}-{subtask}-{k:05d}",
        "category": SUBTASKS[subtask].category,
        "subtask": subtask,
        "source": SOURCE,
        "scene_id": scene_id,
        "images": [refs[f] for f in frames],
        "provenance": {"generator": "tests", "version": "0", "seed": 0, "taxonomy_version": TAXONOMY_VERSION},
    }


def mc_sample(
    scene_id: str,
    subtask: str,
    k: int,
    frames: list[int],
    refs: list[str],
    stem: str,
    texts: list[str],
    slot: int,
    labels: list[str],
) -> dict[str, Any]:
    """`texts[slot]` is the correct option."""
    options = [f"{LETTERS[i]}. {t}" for i, t in enumerate(texts)]
    sample = base_sample(scene_id, subtask, k, frames, refs)
    sample.update(
        question=stem + "\n" + "\n".join(options) + "\n" + INSTRUCTION,
        options=options,
        answer=LETTERS[slot],
        answer_type="multiple_choice",
        facts={
            "objects": [{"instance_id": i + 1, "label": lab} for i, lab in enumerate(labels)],
            "frames": frames,
        },
    )
    return sample


def numeric_sample(
    scene_id: str, subtask: str, k: int, frames: list[int], refs: list[str], label: str, value: float
) -> dict[str, Any]:
    sample = base_sample(scene_id, subtask, k, frames, refs)
    sample.update(
        question=f"How tall is the {label} in centimetres?\nPlease answer the question using a single word or phrase.",
        options=None,
        answer=f"{value:.0f}",
        answer_type="numeric",
        facts={
            "objects": [{"instance_id": 7, "label": label}],
            "frames": frames,
            "value": value,
            "unit": "cm",
        },
    )
    return sample


def _point_mc(
    rng: np.random.Generator, subtask: str, skew: str, scene_id: str, k: int, refs: list[str]
) -> dict:
    """Four printed points and a query point: the right option is the nearest to the query in 32 % of the
    samples ("nearest_query", the skew view_correspondence had) or at every rank equally ("point_balanced")."""
    query = rng.integers(100, 900, size=2)
    ranks = [0, 1, 2, 3]
    right_rank = (0 if k % 25 < 8 else 1 + k % 3) if skew == "nearest_query" else k % 4
    radii = 60 + 90 * np.arange(4) + rng.uniform(0, 40, size=4)  # ranks survive the rounding
    angles = rng.uniform(0, 2 * np.pi, size=4)
    points = [
        query + np.round(r * np.array([np.cos(a), np.sin(a)])).astype(int)
        for r, a in zip(radii, angles, strict=True)
    ]
    texts = [f"({int(p[0])}, {int(p[1])})" for p in points]  # texts[r] is at distance rank r
    slot = int(rng.integers(4))
    order = [texts[r] for r in ranks if r != right_rank]
    rng.shuffle(order)
    order.insert(slot, texts[right_rank])
    stem = f"The point at ({int(query[0])}, {int(query[1])}) in image 1 is also seen in image 2. Which point is it?"
    return mc_sample(scene_id, subtask, k, [0, 1], refs, stem, order, slot, [])


def _mc(
    rng: np.random.Generator, subtask: str, skew: str | None, scene_id: str, k: int, refs: list[str]
) -> dict:
    if skew in ("nearest_query", "point_balanced"):
        return _point_mc(rng, subtask, skew, scene_id, k, refs)
    frames = sorted(rng.choice(len(refs), size=int(rng.integers(1, 4)), replace=False).tolist())
    n_opts = 2 if subtask in ("camera_left_right", "camera_near_far", "closer_of_two", "higher_lower") else 4
    word = str(rng.choice(WORDS))
    stem = f"Look at the {word} {rng.choice(LABELS)}. Which object fits the description best?"
    if skew == "question_cue":  # the answer label is a function of a question word
        answer = CUE[word]
        others = [lab for lab in LABELS if lab != answer]
        texts = [answer] + [str(t) for t in rng.choice(others, size=n_opts - 1, replace=False)]
    elif skew == "option_prior":  # "left" is right 80 % of the time, letters still random
        texts = ["left", "right"] if rng.random() < 0.8 else ["right", "left"]
    elif skew in ("first_mentioned", "mention_balanced"):  # the question names both options
        texts = [str(t) for t in rng.choice(LABELS, size=2, replace=False)]
        right_first = k % 50 < 31 if skew == "first_mentioned" else k % 2 == 0  # 62 % (closer_of_two) or 50 %
        a, b = texts if right_first else texts[::-1]
        stem = f"Which is closer to the {word} {rng.choice(WORDS)} thing, the {a} or the {b}?"
    else:
        texts = [str(t) for t in rng.choice(LABELS, size=n_opts, replace=False)]
        if skew == "longest":  # the correct text is always the longest option
            texts[0] = texts[0] + " next to the " + max(texts[1:], key=len)
    if skew == "letter_a":
        slot = 0 if rng.random() < 0.6 else int(rng.integers(1, n_opts))
    else:
        slot = int(rng.integers(n_opts))
    order = [t for t in texts[1:]]
    rng.shuffle(order)
    order.insert(slot, texts[0])
    return mc_sample(scene_id, subtask, k, frames, refs, stem, order, slot, [texts[0].split()[0]])


def _numeric(
    rng: np.random.Generator, subtask: str, skew: str | None, scene_id: str, k: int, refs: list[str]
) -> dict:
    label = str(rng.choice(list(HEIGHTS)))
    if skew == "label_value":  # the label alone gives the value within 3 %
        value = HEIGHTS[label] * float(rng.uniform(0.97, 1.03))
    else:
        value = float(rng.uniform(10, 250))
    return numeric_sample(scene_id, subtask, k, [int(rng.integers(len(refs)))], refs, label, round(value, 3))


def scene_ids(plan: Plan) -> list[str]:
    return [f"scene{i:04d}_00" for i in range(plan.scenes + plan.failed_scenes)]


def build_corpus(out: Path, plan: Plan) -> dict[str, Any]:
    """Write shards, rejects, failed markers, media and manifest; return the manifest."""
    rng = np.random.default_rng(plan.seed)
    records = []
    for shard_no, scene_id in enumerate(scene_ids(plan)):
        if shard_no >= plan.scenes:  # the last scenes fail
            record = {
                "shard_no": shard_no,
                "shard": f"qa-{shard_no:06d}.tar",
                "source": SOURCE,
                "scene_id": scene_id,
                "status": "failed",
                "reason": f"corrupt mesh in {scene_id}",
                "n_samples": 0,
                "n_rejects": 0,
            }
            marker = failed_marker(out, shard_no)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(
                json.dumps(
                    {"source": SOURCE, "scene_id": scene_id, "stage": "read", "reason": record["reason"]}
                )
            )
            records.append(record)
            continue
        refs = write_frames(out, scene_id, plan.frames)
        samples = []
        for subtask, count in plan.per_scene.items():
            make = _numeric if SUBTASKS[subtask].answer_type == "numeric" else _mc
            samples += [make(rng, subtask, plan.skew.get(subtask), scene_id, k, refs) for k in range(count)]
        for s in samples:
            model, reason = validate_sample(s, media_exists=lambda ref: (media_dir(out) / ref).is_file())
            assert model is not None, reason
        rejects = [
            {
                "sample": {**samples[0], "id": f"{samples[0]['id']}-r{r}"},
                "reason": f"semantic: distance {r}.5 below 0.2",
            }
            for r in range(plan.rejects_per_scene)
        ]
        marker = write_scene_shard(
            out,
            shard_no,
            samples,
            rejects,
            {"shard_no": shard_no, "source": SOURCE, "scene_id": scene_id, "reason": None},
        )
        records.append(
            {
                **marker,
                "timings": {"read": 0.1, "geometry": 0.2, "generate": 0.05, "validate": 0.01, "write": 0.02},
                "skipped_frames": {},
            }
        )
    ok = [r for r in records if r["status"] == "ok"]
    manifest = {
        "config": {"source": SOURCE},
        "seed": plan.seed,
        "scenes": records,
        "totals": {
            "scenes": len(records),
            "ok": len(ok),
            "failed": len(records) - len(ok),
            "samples": sum(r["n_samples"] for r in ok),
            "rejects": sum(r["n_rejects"] for r in ok),
        },
    }
    manifest_path(out).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest
