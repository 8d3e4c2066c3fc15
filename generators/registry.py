"""Registers subtask rules against the taxonomy and turns their drafts into samples."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any

import numpy as np

from generators.base import GENERATOR_VERSION, LETTERS, Draft, GenContext, GenerationConfig, rng_for
from schemas.facts import SceneFacts
from taxonomy import SUBTASKS, TAXONOMY_VERSION

Rule = Callable[[SceneFacts, GenContext], Iterable[Draft]]
RULES: dict[str, Rule] = {}


def rule(subtask: str) -> Callable[[Rule], Rule]:
    """Decorator: register the rule that answers `subtask` (an id declared in the taxonomy)."""
    if subtask not in SUBTASKS:
        raise KeyError(f"{subtask!r} is not a subtask of the taxonomy")

    def register(fn: Rule) -> Rule:
        RULES[subtask] = fn
        return fn

    return register


def _load_rules() -> None:
    # Importing the category modules registers their rules.
    from generators import (  # noqa: F401
        comprehensive_reasoning,
        mental_reconstruction,
        metric_measurement,
        perspective_taking,
        spatial_relations,
    )


def available_subtasks() -> list[str]:
    _load_rules()
    return [s for s in SUBTASKS if s in RULES]


def generate_scene(
    facts: SceneFacts,
    config: GenerationConfig,
    category: str | None = None,
    subtask: str | None = None,
) -> list[dict[str, Any]]:
    """All samples of one scene (optionally one category or one subtask), in a deterministic order."""
    _load_rules()
    samples: list[dict[str, Any]] = []
    for sid, spec in SUBTASKS.items():
        if (category and spec.category != category) or (subtask and sid != subtask) or sid not in RULES:
            continue
        samples.extend(run_subtask(facts, sid, config))
    return samples


def run_subtask(facts: SceneFacts, subtask: str, config: GenerationConfig) -> list[dict[str, Any]]:
    _load_rules()
    quota = config.quotas.get(subtask, SUBTASKS[subtask].quota)
    if quota <= 0:
        return []
    rng = rng_for(config.seed, facts.source, facts.scene_id, subtask)
    ctx = GenContext(rng, subtask, config)
    drafts = list(islice(RULES[subtask](facts, ctx), quota * config.oversample))
    chosen = balanced_selection(drafts, quota, rng)
    letters = LetterBalancer(rng)
    return [_to_sample(facts, subtask, d, k, letters, config) for k, d in enumerate(chosen)]


def balanced_selection(drafts: list[Draft], quota: int, rng: np.random.Generator) -> list[Draft]:
    """Guard 3: take drafts round-robin over their balance keys, so frequent labels or typical values are
    down-sampled and the kept distribution is flatter than the raw one; then the option-prior guard."""
    guard = OptionPriorGuard()
    chosen: list[Draft] = []
    for draft in _round_robin(drafts, rng):
        if len(chosen) == quota:
            break
        if guard.admits(draft):
            guard.add(draft)
            chosen.append(draft)
    return chosen


def _round_robin(drafts: list[Draft], rng: np.random.Generator) -> list[Draft]:
    if all(d.balance_key is None for d in drafts):
        return drafts
    groups: dict[str, list[Draft]] = defaultdict(list)
    for d in drafts:
        groups[d.balance_key or ""].append(d)
    keys = sorted(groups)
    keys = [keys[i] for i in rng.permutation(len(keys))]
    ordered: list[Draft] = []
    for depth in range(max(len(g) for g in groups.values())):
        ordered.extend(groups[key][depth] for key in keys if depth < len(groups[key]))
    return ordered


class OptionPriorGuard:
    """Guard 5 at the source: no option text may be the right answer much more often than 1/n of the times it
    is offered, or a text-only model learns "lamp is usually the answer" (the audit caught this on
    relative_distance and multi_hop_relation, where small objects resting on furniture are nearly always the
    closest). A draft that would push its correct text above 1/n + MARGIN is skipped."""

    MARGIN = 0.10
    WARMUP = 4  # offers of a text before its share is judged

    def __init__(self) -> None:
        # keyed by (number of options, text): "left" among 2 options and among 8 have different fair shares
        self.offered: dict[tuple[int, str], int] = defaultdict(int)
        self.right: dict[tuple[int, str], int] = defaultdict(int)

    def admits(self, draft: Draft) -> bool:
        if not draft.choices:
            return True
        n = len(draft.choices)
        key = (n, draft.choices[0])
        if self.offered[key] < self.WARMUP:
            return True
        # judged on the share so far: counting the draft itself would lock out option sets that never change
        # (left/right/forward/backward), where every text is offered every time
        return self.right[key] / self.offered[key] <= 1 / n + self.MARGIN

    def add(self, draft: Draft) -> None:
        if not draft.choices:
            return
        n = len(draft.choices)
        self.right[(n, draft.choices[0])] += 1
        for text in draft.choices:
            self.offered[(n, text)] += 1


class LetterBalancer:
    """Guard 1: the correct option goes to the least-used letter so far (ties broken at random)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def place(self, choices: list[str]) -> tuple[list[str], int]:
        n = len(choices)
        counts = self.used[n]
        least = min(counts[i] for i in range(n))
        slot = int(self.rng.choice([i for i in range(n) if counts[i] == least]))
        counts[slot] += 1
        rest = [choices[1 + i] for i in self.rng.permutation(n - 1)]
        rest.insert(slot, choices[0])
        return rest, slot


def _to_sample(
    facts: SceneFacts, subtask: str, d: Draft, k: int, letters: LetterBalancer, config: GenerationConfig
) -> dict[str, Any]:
    spec = SUBTASKS[subtask]
    question = d.question.strip()
    options = None
    if d.choices is not None:
        texts, slot = letters.place(d.choices)
        options = [f"{LETTERS[i]}. {t}" for i, t in enumerate(texts)]
        answer, answer_type = LETTERS[slot], "multiple_choice"
        question += (
            "\n" + "\n".join(options) + "\nAnswer with the option's letter from the given choices directly."
        )
    else:
        answer, answer_type = d.answer, spec.answer_type
        if answer_type == "numeric":
            question += "\nPlease answer the question using a single word or phrase."
    frames = [facts.frames[i] for i in d.frames]
    fact_values: dict[str, Any] = {
        "objects": [_fact_object(facts.objects[i]) for i in d.objects],
        "frames": [f.index for f in frames],
    }
    if d.value is not None:
        fact_values["value"] = float(d.value)
        fact_values["unit"] = d.unit
    fact_values.update(_plain(d.extra))
    return {
        "id": f"{facts.source}-{facts.scene_id}-{subtask}-{k:05d}",
        "category": spec.category,
        "subtask": subtask,
        "source": facts.source,
        "scene_id": facts.scene_id,
        "question": question,
        "options": options,
        "answer": answer,
        "answer_type": answer_type,
        "images": [f.image for f in frames],
        "facts": fact_values,
        "provenance": {
            "generator": f"generators.{spec.category}",
            "version": GENERATOR_VERSION,
            "seed": config.seed,
            "taxonomy_version": TAXONOMY_VERSION,
        },
    }


def _fact_object(o: Any) -> dict[str, Any]:
    """An object as samples name it; the source's own key (ARKitScenes `uid`) beside the id when it has one."""
    named: dict[str, Any] = {"instance_id": o.instance_id, "label": o.label}
    if o.uid:
        named["uid"] = o.uid
    return named


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to JSON-ready Python values (floats rounded to 4 decimals for stable bytes)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    return value
