"""English a reader would write, and no fixed sentence a model could learn by heart.

1. Every template string of every generator module, rendered with realistic fillers, has no doubled word
   ("the the"), no "(s)" placeholder plural and no unfilled "{...}".
2. The samples of a demo scene (every subtask, two seeds): the same scans on the rendered questions, and no
   sentence other than a benchmark stem in more than half of a subtask's samples (shards/audit_sentences).
"""

from __future__ import annotations

import re
import string
from collections import defaultdict

import pytest

from generators import (
    comprehensive_reasoning,
    mental_reconstruction,
    metric_measurement,
    perspective_taking,
    prompt_frame,
    spatial_relations,
)
from generators.base import GenerationConfig
from generators.common import plural
from generators.mental_reconstruction import english_list
from generators.registry import generate_scene
from shards.audit_sentences import BENCHMARK_STEMS, sentence_audit

MODULES = [
    comprehensive_reasoning,
    mental_reconstruction,
    metric_measurement,
    perspective_taking,
    spatial_relations,
    prompt_frame,
]
DOUBLED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
FILLERS = {
    "objects": english_list(["pillow", "bed", "lamp"]),
    "labels": plural("plant"),
    "label": "plant",
    "actions": "1. [please fill in] 2. Go forward until the desk. 3. [please fill in] 4. Go forward until the door.",
    "turn": "turn 90 degrees to the left",
    "turned": "turned 90 degrees to the left",
    "ask": "is the lamp to my left or to my right?",
    "Ask": "Is the lamp to my left or to my right?",
    "side": "left",
}


NOUNS = ["sofa", "chair", "table", "lamp", "door", "window", "sink", "towel", "mirror", "shelf"]


class _Fill(dict):
    """Known fields from FILLERS; numbers for counts and coordinates; every other field a distinct noun."""

    def __missing__(self, key: str) -> str:
        if key in ("n", "x", "y", "k"):
            value = "3"
        else:
            value = NOUNS[sum(1 for v in self.values() if v in NOUNS) % len(NOUNS)]
        self[key] = value
        return value


def template_strings(value) -> list[str]:
    """Every string with a format field inside a module-level constant (tuples, lists, dicts, nested)."""
    if isinstance(value, str):
        return [value] if any(f for _, f, _, _ in string.Formatter().parse(value) if f) else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in template_strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in template_strings(v)]
    return []


def english_defects(text: str) -> list[str]:
    found = [f"doubled word {m.group(0)!r}" for m in DOUBLED.finditer(text)]
    if "(s)" in text:
        found.append("placeholder plural '(s)'")
    if re.search(r"\{[^}]*\}", text):
        found.append("unfilled field")
    return found


def test_every_template_renders_to_plain_english():
    checked = 0
    for module in MODULES:
        for name, value in vars(module).items():
            if not name.isupper():
                continue
            for template in template_strings(value):
                text = template.format_map(_Fill(FILLERS))
                assert not english_defects(text), (module.__name__, name, text)
                checked += 1
    assert checked >= 80  # the scan reached the templates (about 100 today)


def test_english_defects_are_caught():
    assert english_defects("Which placement of the the pillow is right?")
    assert english_defects("How many plant(s) are in this room?")
    assert english_defects("Where is the {obj}?")
    assert not english_defects("How many plants are in this room?")


@pytest.fixture(scope="module")
def demo_samples(demo_root) -> dict[str, list[dict]]:
    from pipeline.config import BuildConfig
    from pipeline.scene_task import load_facts

    cfg = BuildConfig(root=demo_root, out=demo_root / "unused", seed=0)
    _, facts = load_facts(cfg, "scene9000_00")
    by_subtask: dict[str, list[dict]] = defaultdict(list)
    for seed in (0, 1):
        for s in generate_scene(facts, GenerationConfig(seed=seed)):
            by_subtask[s["subtask"]].append(s)
    return by_subtask


def test_rendered_questions_are_plain_english(demo_samples):
    for subtask, samples in demo_samples.items():
        for s in samples:
            assert not english_defects(s["question"]), (subtask, s["question"])


def test_no_sentence_but_a_benchmark_stem_is_in_more_than_half_of_a_subtask(demo_samples):
    audited = 0
    for subtask, samples in demo_samples.items():
        if len(samples) < 20:
            continue
        rows = [
            {
                "question": s["question"],
                "options": s["options"],
                "answer": s["answer"],
                "value": s["facts"].get("value"),
                "labels": [o["label"] for o in s["facts"]["objects"]],
            }
            for s in samples
        ]
        fixed = {k: v for k, v in sentence_audit(rows).fixed.items() if k not in BENCHMARK_STEMS}
        assert not fixed, (subtask, fixed)
        audited += 1
    assert audited >= 15
