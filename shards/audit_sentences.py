"""Sentence-level shortcut audit: fixed sentences, and sentences that predict the answer.

A question is split into sentences (option lines left out; digits read as "#", so "about 3.9 m" and
"about 1.2 m" are one sentence). Per subtask and answer type it reports:
- fixed sentences: a sentence in more than `max_fixed_share` of the samples is a string a model learns by
  heart (issue: one post-prompt in 100 % of samples, the 135-degree rule verbatim in every medium sample);
  the benchmarks' own frame strings are declared with shares below one half (generators/prompt_frame.py), so
  they never count here;
- predictive sentences: among the samples carrying a sentence, always answering the label most often right
  among them (multiple choice: the option text; numeric: whether the value is above the subtask's median)
  beats the chance those samples' options give by more than `max_excess`, with significance z >= `min_z`.
  That is the shortcut "this wording means the answer is back". Sentences that only narrow the option set
  (a level's definition) do not count, because chance is measured against the options each sample offers.

Pure functions over plain rows (question, options, answer, value, labels: the objects the sample names);
`shards.audit` calls `sentence_audit`.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from generators.common import plural

_OPTION_LINE = re.compile(r"^[A-Z]\. ")
_SPLIT = re.compile(r"(?<=[.?!:])\s+(?=[A-Z'\"(])")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]{3,}")
OBJECT = "<obj>"
# Sentences of the benchmarks' own stems that a subtask may repeat (normalised as `sentences` reads them):
# VSI-Bench's route plans always end "Go forward until the X." (docs/benchmarks.md).
BENCHMARK_STEMS = frozenset({"Go forward until the <obj>."})


@dataclass
class SentenceFindings:
    fixed: dict[str, float] = field(default_factory=dict)  # sentence -> share of the samples carrying it
    predictive: list[dict[str, Any]] = field(default_factory=list)  # sentence, label, accuracy, chance, z, n


def sentences(question: str, labels: Iterable[str] = ()) -> list[str]:
    """Distinct normalised sentences of a question, options left out, in order of appearance. Object labels
    (and their plurals) read as "<obj>", so a sentence is its template: "how many lamps" and "how many
    chairs" are one sentence, and a label's own prior (audited by the numeric baseline) is not a wording."""
    masks = _label_pattern(labels)
    out: list[str] = []
    for line in question.splitlines():
        line = line.strip()
        if not line or _OPTION_LINE.match(line):
            continue
        for part in _SPLIT.split(line):
            norm = _DIGITS.sub("#", " ".join(part.split()))
            if masks is not None:
                norm = masks.sub(OBJECT, norm)
            if _WORD.search(norm) and norm not in out:
                out.append(norm)
    return out


def _label_pattern(labels: Iterable[str]) -> re.Pattern[str] | None:
    forms = {f for label in labels if label for f in (label, plural(label))}
    if not forms:
        return None
    # longest first, so "lamps" masks before "lamp"; a fixed order among equal lengths keys the cache
    return _forms_pattern(tuple(sorted(forms, key=lambda f: (-len(f), f))))


@functools.lru_cache(maxsize=1 << 16)
def _forms_pattern(forms: tuple[str, ...]) -> re.Pattern[str]:
    """Compiled once per label set: re's own cache keeps 512 patterns, fewer than an audit's label sets."""
    alternatives = "|".join(re.escape(f) for f in forms)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def _labels(rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[float]]:
    """Per row: the label to predict and the chance of guessing it from its options."""
    values = [r.get("value") for r in rows if r.get("value") is not None and not r.get("options")]
    median = sorted(values)[len(values) // 2] if values else None
    labels, chance = [], []
    for r in rows:
        options = list(r.get("options") or [])
        if options:
            by_letter = {o[:1]: o[3:].strip() for o in options}
            labels.append(by_letter.get(str(r.get("answer")), str(r.get("answer"))))
            chance.append(1.0 / len(options))
        else:
            v = r.get("value")
            labels.append("unknown" if v is None or median is None else ("high" if v > median else "low"))
            chance.append(0.5)
    return labels, chance


def sentence_audit(
    rows: Sequence[dict[str, Any]],
    *,
    max_fixed_share: float = 0.5,
    max_excess: float = 0.10,
    min_z: float = 3.0,
    min_support: int = 20,
) -> SentenceFindings:
    """Fixed and answer-predicting sentences of one subtask's rows (see the module docstring)."""
    found = SentenceFindings()
    n = len(rows)
    if n == 0:
        return found
    per_row = [sentences(str(r.get("question") or ""), r.get("labels") or ()) for r in rows]
    counts = Counter(s for row in per_row for s in row)
    found.fixed = {
        s: c / n for s, c in sorted(counts.items()) if c / n > max_fixed_share and s not in BENCHMARK_STEMS
    }
    labels, chance = _labels(rows)
    offered = [{o[3:].strip() for o in (r.get("options") or [])} for r in rows]
    right_all = Counter(labels)
    offered_all = Counter(t for o in offered for t in o)
    n_open = sum(1 for o in offered if not o)
    prior = {
        label: right_all[label] / (offered_all[label] + n_open)
        for label in right_all
        if offered_all[label] + n_open
    }
    carrying: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(per_row):
        for s in row:
            carrying[s].append(i)
    for s, idx in sorted(carrying.items()):
        if (
            len(idx) < min_support or len(idx) == n
        ):  # a sentence in every sample predicts nothing beyond the rest
            continue
        label, acc = _best_constant(idx, labels, offered)
        # against the label's own rate over the whole subtask (where it is offered), not 1/n: a label that is
        # often right everywhere (a count of 1-2 below the median) is the prior's finding, not the sentence's
        base = max(prior[label], sum(chance[i] for i in idx) / len(idx)) if label in prior else 0.0
        se = math.sqrt(max(base * (1 - base), 1e-12) / len(idx))
        z = (acc - base) / se
        if acc - base > max_excess and z >= min_z:
            found.predictive.append(
                {
                    "sentence": s,
                    "label": label,
                    "accuracy": acc,
                    "chance": base,
                    "z": min(z, 99.0),
                    "n": len(idx),
                }
            )
    return found


def _best_constant(idx: Iterable[int], labels: list[str], offered: list[set[str]]) -> tuple[str, float]:
    """The label that, always answered, is right most often on these rows (it must be offered to be picked)."""
    idx = list(idx)
    hits = Counter(labels[i] for i in idx if not offered[i] or labels[i] in offered[i])
    if not hits:
        return "", 0.0
    label, count = max(hits.items(), key=lambda kv: (kv[1], kv[0]))
    return label, count / len(idx)


def failures(subtask: str, found: SentenceFindings) -> list[str]:
    """One line per predictive sentence (fixed sentences are reported, not failed: a sentence that repeats
    without predicting the answer is a style defect, not a shortcut)."""
    return [
        f"{subtask}: the sentence {p['sentence']!r} predicts the answer {p['label']!r}: right in "
        f"{p['accuracy']:.1%} of the {p['n']} samples carrying it (chance {p['chance']:.1%}; z {p['z']:.1f})"
        for p in found.predictive
    ]


def attach(result: Any, rows: Sequence[dict[str, Any]], thresholds: Any) -> None:
    """The hook `shards.audit` calls per subtask: findings into `result.sentences`, predictive sentences into
    `result.failures` (subtasks under `min_samples` are reported only, as for the other baselines)."""
    found = sentence_audit(
        rows,
        max_excess=thresholds.max_blind_excess,
        min_z=thresholds.min_z,
        min_support=thresholds.min_samples,
    )
    result.sentences = {"fixed": found.fixed, "predictive": found.predictive}
    if result.n >= thresholds.min_samples:
        result.failures.extend(failures(result.subtask, found))
