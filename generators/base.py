"""What every generator shares: the draft a subtask rule yields and the seeded context.

A subtask rule is a pure function `rule(facts, ctx) -> Iterable[Draft]`: it enumerates candidates in an order
drawn from `ctx.rng`, applies its ambiguity filter (skipping, never answering, a candidate that fails, and
counting it with `ctx.drop(reason)`), and yields honest drafts. It never balances: the registry pulls drafts
lazily per balance key and applies the guards of `generators.guards` (docs/taxonomy.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generators import guards
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
    # Questions that name their options: the same draft once per mention position of the right option (index =
    # position); the registry keeps the one that balances mention position (guard 5, guards.mention_variants).
    mention_versions: list[Draft] | None = None


@dataclass
class GenerationConfig:
    seed: int = 0
    quotas: dict[str, int] = field(
        default_factory=dict
    )  # subtask -> max samples per scene (default: taxonomy)
    video_frames: int = 16  # frames per video sample (docs/taxonomy.md: 16 by default, 32 configurable)
    # At most quota x oversample drafts are pulled from a rule (lazily, per balance key: most subtasks stop
    # near the quota), so a rare label has room to be found and a pathological scene stays bounded.
    oversample: int = 8


class GenContext:
    """Seeded helpers a rule may use; one per (scene, subtask)."""

    def __init__(self, rng: np.random.Generator, subtask: str, config: GenerationConfig):
        self.rng = rng
        self.subtask = subtask
        self.config = config
        self.drops: dict[str, int] = {}  # reason -> candidates the rule's filters dropped

    def drop(self, reason: str, n: int = 1) -> None:
        """Count n candidates dropped by a filter, under a reason a user reads in `sicorpus stats`."""
        guards.count(self.drops, reason, n)

    def template(self, templates: Sequence[str], **values: Any) -> str:
        """A paraphrase chosen at random (guard 6), filled in."""
        return templates[guards.draw_index(self.rng, len(templates))].format(**values)

    def pick(self, templates: Sequence[str]) -> str:
        """A paraphrase chosen at random (guard 6), to fill in more than once (both mention orders)."""
        return templates[guards.draw_index(self.rng, len(templates))]

    def shuffled(self, items: Sequence[Any]) -> list[Any]:
        """Items in random order (guard 5: mention order never leaks the answer)."""
        return guards.shuffled(self.rng, items)

    def video_frames(self, facts: SceneFacts) -> list[int]:
        """Up to `video_frames` positions uniform over the trajectory."""
        n = len(facts.frames)
        k = min(n, self.config.video_frames)
        if k == 0:
            return []
        return sorted({int(round(x)) for x in np.linspace(0, n - 1, k)})

    def numeric_choices(self, value: float, fmt: str, rel_spread: float = 0.6, n: int = 4) -> list[str]:
        """Correct value first, then n-1 distractors; the true value's rank is uniform (guard 2)."""
        return guards.numeric_options(self.rng, value, fmt, rel_spread, n)
