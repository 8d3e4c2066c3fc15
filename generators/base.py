"""What every generator shares: the draft a subtask rule yields, the seeded context, and the corpus guards
that act across drafts (letter balance, label/value balance) so no rule re-implements them.

A subtask rule is a pure function `rule(facts, ctx) -> Iterable[Draft]`: it enumerates candidates in an order
drawn from `ctx.rng`, applies its ambiguity filter (skipping, never answering, a candidate that fails), and
yields drafts. `generators.registry.run_subtask` turns drafts into samples.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from schemas.facts import SceneFacts

GENERATOR_VERSION = "1.0"
LETTERS = "ABCDEFGHIJKLMNOP"


def rng_for(seed: int, source: str, scene_id: str, subtask: str) -> np.random.Generator:
    """The only source of randomness: derived from (seed, source, scene, subtask), never time or worker order."""
    digest = hashlib.sha256(f"{seed}|{source}|{scene_id}|{subtask}".encode()).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "little")))


@dataclass
class Draft:
    """One answered candidate, before letters, ids and provenance are attached.

    Multiple choice: `choices` holds the option texts with the correct one FIRST; the registry shuffles them
    and puts the correct one on the least-used letter of the subtask (guard 1). `answer` is then ignored.
    Numeric: `answer` is the bare number as a string, `value` the unrounded number in `unit`.
    """

    question: str  # the question stem, without options or answer-format instruction
    frames: list[int]  # positions in facts.frames, in the order the images are shown
    objects: list[int]  # positions in facts.objects, in the order the rule names them
    choices: list[str] | None = None
    answer: str = ""
    value: float | None = None
    unit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # intermediate quantities the rule used
    balance_key: str | None = None  # label or value bin that guard 3 flattens over


@dataclass
class GenerationConfig:
    seed: int = 0
    quotas: dict[str, int] = field(
        default_factory=dict
    )  # subtask -> max samples per scene (default: taxonomy)
    video_frames: int = 16  # frames per video sample (TAXONOMY: up to 16 by default, 32 configurable)
    oversample: int = 4  # drafts considered per kept sample, so balancing has room to choose


class GenContext:
    """Seeded helpers a rule may use; one per (scene, subtask)."""

    def __init__(self, rng: np.random.Generator, subtask: str, config: GenerationConfig):
        self.rng = rng
        self.subtask = subtask
        self.config = config

    def template(self, templates: Sequence[str], **values: Any) -> str:
        """A paraphrase chosen at random (guard 6), filled in."""
        return templates[int(self.rng.integers(len(templates)))].format(**values)

    def shuffled(self, items: Sequence[Any]) -> list[Any]:
        """Items in random order (guard 4: mention order never leaks the answer)."""
        return [items[i] for i in self.rng.permutation(len(items))]

    def video_frames(self, facts: SceneFacts) -> list[int]:
        """Up to `video_frames` positions uniform over the trajectory."""
        n = len(facts.frames)
        k = min(n, self.config.video_frames)
        if k == 0:
            return []
        return sorted({int(round(x)) for x in np.linspace(0, n - 1, k)})

    def numeric_choices(self, value: float, fmt: str, rel_spread: float = 0.6, n: int = 4) -> list[str]:
        """Correct value first, then n-1 distinct distractors. The true value's rank among the options is
        uniform (guard 2): its rank is drawn first and the distractors placed below and above it."""
        rank = int(self.rng.integers(n))
        below, above = rank, n - 1 - rank
        steps = self.rng.uniform(0.15, rel_spread, size=n)
        values = [value]
        lo, hi = value, value
        for i in range(below):
            lo = lo * (1 - steps[i]) if lo > 0 else lo - steps[i]
            values.append(lo)
        for i in range(above):
            hi = hi * (1 + steps[below + i]) if hi > 0 else hi + steps[below + i]
            values.append(hi)
        return [fmt.format(v) for v in values]  # callers skip the draft if rounding made two equal
