"""Helpers shared by every generator module: which objects may be named, where they are seen, label-level
distances, the "clear gap" test of the ambiguity filters, value bins for guard 3 and number formatting.

Everything here is pure and cheap (numpy over the facts' arrays); no rule-specific logic.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from itertools import combinations
from typing import TypeVar

import numpy as np

from schemas.facts import SceneFacts

T = TypeVar("T")

MIN_POINTS = 50  # docs/taxonomy.md: objects measured from their points need at least this many


def label_of(facts: SceneFacts, obj: int) -> str:
    return facts.objects[obj].label


def label_instances(facts: SceneFacts) -> dict[str, list[int]]:
    """Nameable labels -> positions of their instances (structural labels are never named)."""
    groups: dict[str, list[int]] = {}
    for i, o in enumerate(facts.objects):
        if o.nameable:
            groups.setdefault(o.label, []).append(i)
    return groups


def single_instance_objects(facts: SceneFacts, min_points: int = 0) -> list[int]:
    """Positions of objects that may be named by their label alone (their label has one instance)."""
    return [i for i in facts.single_instance() if facts.objects[i].n_points >= min_points]


def seen_in_frames(facts: SceneFacts, obj: int, frames: Sequence[int]) -> bool:
    """Whether the object passes the visibility rule in at least one of the frames (a question about a
    video never names an object the video does not show)."""
    if not frames:
        return False
    return bool(facts.visibility.visible[list(frames), obj].any())


def seen_objects(facts: SceneFacts, objects: Sequence[int], frames: Sequence[int]) -> list[int]:
    """The subset of `objects` seen in at least one of `frames`, order kept."""
    if not frames or not objects:
        return []
    seen = facts.visibility.visible[np.ix_(list(frames), list(objects))].any(axis=0)
    return [o for o, s in zip(objects, seen, strict=True) if s]


def valid_frame(facts: SceneFacts, frame: int) -> bool:
    return bool(np.isfinite(facts.frames[frame].pose).all())


def visible_objects(facts: SceneFacts, frame: int, single_only: bool = True) -> list[int]:
    """Objects visible in one frame (docs/taxonomy.md visibility rule), nameable; by default single-instance only."""
    allowed = (
        set(facts.single_instance())
        if single_only
        else {i for i, o in enumerate(facts.objects) if o.nameable}
    )
    row = facts.visibility.visible[frame]
    return [int(i) for i in np.flatnonzero(row) if int(i) in allowed]


def label_min_distance(facts: SceneFacts, ref: int, instances: Sequence[int]) -> tuple[float, int]:
    """Label-level distance to `ref`: the minimum closest-point distance over the label's instances, and the
    instance that reaches it. `ref` itself is never one of its own candidates."""
    others = [i for i in instances if i != ref]
    if not others:
        return math.inf, -1
    d = facts.closest[ref, others]
    k = int(np.argmin(d))
    return float(d[k]), int(others[k])


def label_distances(
    facts: SceneFacts, ref: int, labels: dict[str, list[int]] | None = None
) -> dict[str, tuple[float, int]]:
    """label -> (min distance to `ref`, nearest instance) for every nameable label other than ref's own."""
    labels = labels if labels is not None else label_instances(facts)
    own = label_of(facts, ref)
    return {lab: label_min_distance(facts, ref, inst) for lab, inst in labels.items() if lab != own}


def clear_gap(a: float, b: float, min_abs: float, min_rel: float) -> bool:
    """|a - b| >= min_abs and >= min_rel of the larger value: the "gap >= X m and >= Y %" filters.
    The relative part uses the larger value (the stricter reading), so 1.0 vs 1.1 is not a 10 % gap."""
    gap = abs(a - b)
    return gap >= min_abs and gap >= min_rel * max(abs(a), abs(b))


def value_bin(value: float, edges: Sequence[float], unit: str = "") -> str:
    """Balance key for a numeric answer: the interval of `edges` the value falls in, e.g. "0.5-1m".
    Edges are chosen per subtask so typical values share one bin and get down-sampled (guard 3)."""
    k = bisect_right(
        edges, value
    )  # = np.searchsorted(edges, value, side="right"), NaN last, no array per call
    if k == 0:
        return f"<{edges[0]:g}{unit}"
    if k == len(edges):
        return f">={edges[-1]:g}{unit}"
    return f"{edges[k - 1]:g}-{edges[k]:g}{unit}"


def format_number(value: float, decimals: int) -> str:
    """Bare number for a numeric answer (a scorer parses the first token as a float); never "-0.0"."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def join_names(names: Sequence[str]) -> str:
    """Comma-separated option names, as VSI-Bench writes them inside the question."""
    return ", ".join(names)


def pairs(items: Sequence[T]) -> list[tuple[T, T]]:
    """All unordered pairs (O(n^2): about 800 for a 40-object scene)."""
    return list(combinations(items, 2))


@lru_cache(maxsize=4096)  # pure, and asked once per counting question
def plural(label: str) -> str:
    """English plural of a label (\"chair\" -> \"chairs\", \"shelf\" -> \"shelves\"), for counting questions."""
    irregular = {"shelf": "shelves", "person": "people", "knife": "knives", "leaf": "leaves", "mouse": "mice"}
    head, _, last = label.rpartition(" ")
    prefix = f"{head} " if head else ""
    if last in irregular:
        return prefix + irregular[last]
    if last.endswith("s") and not last.endswith("ss"):
        return label  # already plural ("blinds", "clothes")
    if last.endswith(("ss", "x", "z", "ch", "sh")):
        return label + "es"
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        return prefix + last[:-1] + "ies"
    return label + "s"
