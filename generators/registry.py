"""Registers subtask rules against the taxonomy and turns their drafts into samples."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from generators.base import GENERATOR_VERSION, LETTERS, Draft, GenContext, GenerationConfig, rng_for
from generators.guards import LetterBalancer, MentionOrderBalancer, select_balanced
from generators.prompt_frame import PromptFrame
from schemas.facts import SceneFacts
from taxonomy import SUBTASKS, TAXONOMY_VERSION

Rule = Callable[[SceneFacts, GenContext], Iterable[Draft]]
RULES: dict[str, Rule] = {}
CAP_RATIOS: dict[
    str, float
] = {}  # subtask -> balance cap relative to its scarcest label (guards.select_balanced)
SCENE_CAP_DROP = "over the scene cap"


def rule(subtask: str, cap_ratio: float | None = None) -> Callable[[Rule], Rule]:
    """Decorator: register the rule that answers `subtask` (an id declared in the taxonomy). `cap_ratio`: no
    label of a scene is kept more than this many times as often as its scarcest label (direction rules)."""
    if subtask not in SUBTASKS:
        raise KeyError(f"{subtask!r} is not a subtask of the taxonomy")

    def register(fn: Rule) -> Rule:
        RULES[subtask] = fn
        if cap_ratio is not None:
            CAP_RATIOS[subtask] = cap_ratio
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
    drops: dict[str, dict[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """All samples of one scene (optionally one category or one subtask), in a deterministic order. `drops`
    collects, per subtask, the candidates each filter dropped: {subtask: {reason: count}}."""
    _load_rules()
    samples: list[dict[str, Any]] = []
    for sid, spec in SUBTASKS.items():
        if (category and spec.category != category) or (subtask and sid != subtask) or sid not in RULES:
            continue
        dropped: dict[str, int] = {}
        samples.extend(run_subtask(facts, sid, config, dropped))
        if drops is not None and dropped:
            drops[sid] = dict(sorted(dropped.items()))
    return samples


def run_subtask(
    facts: SceneFacts, subtask: str, config: GenerationConfig, drops: dict[str, int] | None = None
) -> list[dict[str, Any]]:
    """The rule's drafts, pulled lazily per balance key through the guards (generators.guards), as samples.
    The rule and the guards draw from two streams of (seed, source, scene, subtask), so how far the guards
    pull never changes which candidates the rule yields."""
    _load_rules()
    quota = config.quotas.get(subtask, SUBTASKS[subtask].quota)
    if quota <= 0:
        return []
    ctx = GenContext(rng_for(config.seed, facts.source, facts.scene_id, subtask), subtask, config)
    rng = rng_for(config.seed, facts.source, facts.scene_id, f"{subtask}/guards")
    selection_drops: dict[str, int] = {}
    chosen = select_balanced(
        iter(RULES[subtask](facts, ctx)),
        quota,
        rng,
        max_pull=quota * config.oversample,
        cap_ratio=CAP_RATIOS.get(subtask),
        drops=selection_drops,
    )
    if drops is not None:
        for reason, n in (*ctx.drops.items(), *selection_drops.items()):
            drops[reason] = drops.get(reason, 0) + n
    letters, mentions = LetterBalancer(rng), MentionOrderBalancer(rng)
    # the frame draws from its own stream, so framing never shifts the rule's or the balancer's draws
    frame = PromptFrame(
        rng_for(config.seed, facts.source, facts.scene_id, f"{subtask}/frame"), SUBTASKS[subtask].media
    )
    return [
        _to_sample(facts, subtask, mentions.place(d), k, letters, config, frame) for k, d in enumerate(chosen)
    ]


def _to_sample(
    facts: SceneFacts,
    subtask: str,
    d: Draft,
    k: int,
    letters: LetterBalancer,
    config: GenerationConfig,
    frame: PromptFrame,
) -> dict[str, Any]:
    spec = SUBTASKS[subtask]
    question = d.question.strip()
    options = None
    if d.choices is not None:
        texts, slot = letters.place(d.choices)
        options = [f"{LETTERS[i]}. {t}" for i, t in enumerate(texts)]
        answer, answer_type = LETTERS[slot], "multiple_choice"
    else:
        answer, answer_type = d.answer, spec.answer_type
    question = frame.render(question, options, answer_type)  # pre-prompt, options, post-prompt
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
    kind = type(value)
    if (
        kind is float
    ):  # the common leaves first (40 per sample): exact types, so bool/np subclasses fall through
        return round(value, 4)
    if kind is int or kind is str or value is None:
        return value
    if kind is list or kind is tuple:  # float leaves rounded in place: a call per leaf was most of the time
        return [round(v, 4) if type(v) is float else _plain(v) for v in value]
    if kind is np.ndarray:
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): round(v, 4) if type(v) is float else _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 4)
    return value
