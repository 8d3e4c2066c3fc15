"""The shortcut guards, in one place (docs/taxonomy.md, "Guards against shortcuts").

Rules yield honest candidates in a random order and never balance; the registry passes them through these
guards, which act across the drafts of one (scene, subtask):

1. letters        the correct option goes to the least-used letter so far (`LetterBalancer`);
2. numeric rank   the true value's rank among numeric options is drawn uniformly (`numeric_options`);
3. round-robin    drafts are pulled lazily, per balance key (answer label or value bin), and taken
                  round-robin over the keys, so a frequent label or typical value is down-sampled
                  (`select_balanced`); a rule may also cap a key relative to the scarcest key;
4. option prior   no option text is right much more often than 1/n of the times it is offered
                  (`OptionPriorGuard`);
5. mention order  objects are mentioned in shuffled order (`shuffled`), and where a question names its two
                  options, the right one is mentioned first as often as second (`MentionOrderBalancer`).

Every random choice comes from the (seed, source, scene, subtask) generator handed in.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # base imports this module; drafts are only read here
    from generators.base import Draft

MIN_CAP = 4  # a capped key may always keep this many, however scarce the others are
OPTION_PRIOR_DROP = "answer text over-used (option prior)"
SURPLUS_DROP = "pulled, not taken (quota full or label capped)"


def draw_index(rng: np.random.Generator, n: int) -> int:
    """int(rng.integers(n)), the same draw; for n == 1 numpy draws nothing from the stream (its range is
    empty), so the call and its overhead are skipped (tests/generators/test_fast_paths.py holds numpy to this)."""
    return 0 if n == 1 else int(rng.integers(n))


def order(rng: np.random.Generator, n: int) -> list[int]:
    """rng.permutation(n) as Python ints; for n < 2 numpy's shuffle draws nothing, so the call is skipped."""
    return list(range(n)) if n < 2 else rng.permutation(n).tolist()


def shuffled(rng: np.random.Generator, items: Sequence[Any]) -> list[Any]:
    """Items in random order (guard 5: mention order never leaks the answer)."""
    return [items[i] for i in order(rng, len(items))]


def numeric_options(
    rng: np.random.Generator, value: float, fmt: str, rel_spread: float = 0.6, n: int = 4
) -> list[str]:
    """Guard 2: the correct value first, then n-1 distinct distractors. The true value's rank among the options
    is uniform: the rank is drawn first and the distractors placed below and above it."""
    rank = int(rng.integers(n))
    below, above = rank, n - 1 - rank
    steps = rng.uniform(0.15, rel_spread, size=n)
    values = [value]
    lo, hi = value, value
    for i in range(below):
        lo = lo * (1 - steps[i]) if lo > 0 else lo - steps[i]
        values.append(lo)
    for i in range(above):
        hi = hi * (1 + steps[below + i]) if hi > 0 else hi + steps[below + i]
        values.append(hi)
    return [fmt.format(v) for v in values]  # callers skip the draft if rounding made two equal


class LetterBalancer:
    """Guard 1: the correct option goes to the least-used letter so far (ties broken at random)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: dict[int, list[int]] = {}  # number of options -> times each letter was right

    def place(self, choices: list[str]) -> tuple[list[str], int]:
        n = len(choices)
        counts = self.used.setdefault(n, [0] * n)
        least = min(counts)
        ties = [i for i, c in enumerate(counts) if c == least]
        slot = ties[draw_index(self.rng, len(ties))]  # = rng.choice(ties), same draw, without its overhead
        counts[slot] += 1
        rest = [choices[1 + i] for i in order(self.rng, n - 1)]
        rest.insert(slot, choices[0])
        return rest, slot


def mention_variants(make: Callable[[list[Any]], Draft], right: Any, others: Sequence[Any]) -> Draft:
    """Guard 5 for a rule: `make(named)` builds the draft naming the options in that order. The result carries
    one version per mention position of the right option (the others keep one order), and the registry's
    MentionOrderBalancer keeps one of them."""
    versions = [make([*others[:k], right, *others[k:]]) for k in range(len(others) + 1)]
    versions[0].mention_versions = versions
    return versions[0]


def mention_pair(make: Callable[[Any, Any], Draft], right: Any, other: Any) -> Draft:
    """mention_variants for a question that names its two options: `make(first, second)`."""
    return mention_variants(lambda named: make(*named), right, [other])


class MentionOrderBalancer:
    """Guard 5 in the registry: where a question names its options ("which is closer to X, the A or the B?"),
    keep the version of the draft whose right option sits at the least-used mention position so far (ties at
    random), so "the first-named object is usually right" is never learnt (closer_of_two had 62 %)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: dict[int, list[int]] = {}

    def place(self, draft: Draft) -> Draft:
        versions = draft.mention_versions
        if not versions:
            return draft
        counts = self.used.setdefault(len(versions), [0] * len(versions))
        least = min(counts)
        ties = [k for k, c in enumerate(counts) if c == least]
        slot = ties[draw_index(self.rng, len(ties))]  # = rng.choice(ties), same draw
        counts[slot] += 1
        return versions[slot]


class OptionPriorGuard:
    """Guard 4: no option text may be the right answer much more often than 1/n of the times it is offered,
    or a text-only model learns "lamp is usually the answer" (the audit caught this on relative_distance and
    multi_hop_relation, where small objects resting on furniture are nearly always the closest). A draft that
    would push its correct text above 1/n + MARGIN is skipped."""

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


class KeyedPool:
    """Drafts pulled lazily from a rule, bucketed by balance key: asking for a key pulls until that key has a
    draft, `patience` drafts of other keys came instead, the rule is exhausted, or `max_pull` drafts were pulled
    in all (a bound for pathological scenes)."""

    def __init__(self, drafts: Iterator[Draft], max_pull: int):
        self.drafts = drafts
        self.max_pull = max_pull
        self.pulled = 0
        self.exhausted = False
        self.buckets: dict[str, deque[Draft]] = {}

    def pull(self) -> bool:
        """One more draft into its bucket; False once nothing more will come."""
        if self.exhausted:
            return False
        if self.pulled >= self.max_pull:
            self.exhausted = True
            return False
        draft = next(self.drafts, None)
        if draft is None:
            self.exhausted = True
            return False
        self.pulled += 1
        self.buckets.setdefault(draft.balance_key or "", deque()).append(draft)
        return True

    def take(self, key: str, patience: int) -> Draft | None:
        bucket = self.buckets[key]
        for _ in range(patience):
            if bucket or not self.pull():
                break
        return bucket.popleft() if bucket else None

    def left_over(self) -> int:
        return sum(len(b) for b in self.buckets.values())


def key_group(key: str) -> str:
    """The group of a balance key: "easy:left" is the label "left" of the group "easy"; a key without ":"
    belongs to the one unnamed group."""
    return key.rsplit(":", 1)[0] if ":" in key else ""


def select_balanced(
    drafts: Iterator[Draft],
    quota: int,
    rng: np.random.Generator,
    max_pull: int,
    cap_ratio: float | None = None,
    drops: dict[str, int] | None = None,
) -> list[Draft]:
    """Guards 3 and 4: up to `quota` drafts, taken round-robin over the key groups and, within a group,
    round-robin over its keys (each cycle in a fresh random order; a key found later joins the next cycle);
    each draft must pass the option-prior guard.

    A key runs dry when `quota` further pulls bring none of it, and comes back when a later pull brings one.
    `cap_ratio`: once a key has run dry with c drafts taken, no key of its group takes more than
    max(MIN_CAP, ceil(cap_ratio * c)): a scene whose candidates are mostly "forward" gives fewer samples rather
    than skewed ones (direction-labelled rules ask for it). At most `max_pull` drafts are pulled in all."""
    drops = drops if drops is not None else {}
    patience = max(quota, 1)
    pool = KeyedPool(drafts, max_pull)
    for _ in range(patience):  # a first look-ahead, so the first rounds already see most keys
        if not pool.pull():
            break
    prior = OptionPriorGuard()
    taken: dict[str, int] = defaultdict(int)
    dead: set[str] = set()
    refused: set[str] = set()  # keys whose next draft the option-prior guard refused last time
    cycles: dict[str, deque[str]] = defaultdict(deque)  # group -> keys still to visit in its current cycle
    chosen: list[Draft] = []
    idle = 0  # attempts in a row that took nothing and changed nothing
    # the live keys by group change only when a pull brings a new key or a key dies or revives: rebuilt then,
    # not once per round (a round takes one draft per group, and sorting every key per draft was most of it)
    dead_changes, layout_at = 0, None
    while len(chosen) < quota:
        revived = {k for k in dead if pool.buckets[k]}  # a later pull brought one
        if revived:
            dead -= revived
            dead_changes += 1
        if layout_at != (len(pool.buckets), dead_changes):
            layout_at = (len(pool.buckets), dead_changes)
            groups, by_group, widest = _live_layout(pool.buckets, dead)
        if not groups:
            break
        if idle > len(groups) * widest:
            # every live key is capped or refused: new drafts may bring new keys; else nothing more to take
            if not any(pool.pull() for _ in range(patience)):
                break
            idle = 0
            continue
        for group in (groups[i] for i in order(rng, len(groups))):
            if len(chosen) == quota:
                break
            cycle = cycles[group]
            while cycle and cycle[0] not in by_group[group]:
                cycle.popleft()
            if not cycle:
                keys = by_group[group]
                cycle.extend(keys[i] for i in order(rng, len(keys)))
            key = cycle.popleft()
            if cap_ratio is not None and _capped(key, taken, dead, cap_ratio):
                idle += 1
                continue
            draft = pool.take(key, patience)
            if draft is None:
                dead.add(key)
                dead_changes += 1
                idle = 0
                continue
            bucket = pool.buckets[key]
            # a refused draft waits at the back of its bucket: the shares move as other texts are taken
            for _ in range(len(bucket)):
                if prior.admits(draft):
                    break
                bucket.append(draft)
                draft = bucket.popleft()
            if not prior.admits(draft):
                bucket.append(draft)
                refused.add(key)
                idle += 1
                continue
            idle = 0
            refused.discard(key)
            prior.add(draft)
            chosen.append(draft)
            taken[key] += 1
    held = sum(len(pool.buckets[k]) for k in refused)
    count(drops, OPTION_PRIOR_DROP, held)
    count(drops, SURPLUS_DROP, pool.left_over() - held)
    return chosen


def _live_layout(
    buckets: dict[str, deque[Draft]], dead: set[str]
) -> tuple[list[str], dict[str, list[str]], int]:
    """The groups of the live keys (sorted), each group's live keys (sorted) and the largest group's size."""
    by_group: dict[str, list[str]] = defaultdict(list)
    for key in sorted(k for k in buckets if k not in dead):
        by_group[key_group(key)].append(key)
    return sorted(by_group), by_group, max((len(v) for v in by_group.values()), default=0)


def _capped(key: str, taken: dict[str, int], dead: set[str], cap_ratio: float) -> bool:
    group = key_group(key)
    done = [taken[k] for k in dead if key_group(k) == group]
    return bool(done) and taken[key] >= max(MIN_CAP, math.ceil(cap_ratio * min(done)))


def count(drops: dict[str, int], reason: str, n: int = 1) -> None:
    """Add n dropped candidates under `reason` (nothing when n is 0, so reports list only real drops)."""
    if n:
        drops[reason] = drops.get(reason, 0) + int(n)
