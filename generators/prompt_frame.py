"""The prompt frame around every question: pre-prompt, the options block and the answer-format post-prompt,
each drawn from a small declared set with stated shares (docs/benchmarks.md, "Prompt frame").

The evaluators SenseNova-SI is judged with frame the same question differently: lmms-eval's VSI-Bench task
writes "These are frames of a video." / question / "Options:" / options / post-prompt; EASI (VLMEvalKit) writes
the options without the "Options:" line and asks numeric answers "in one float number". A corpus that always
used one frame would teach one string; one that never used the benchmarks' frames would teach none of them.
So each part is drawn per sample: the benchmarks' own strings keep a large share (never more than half, so no
fixed sentence dominates a subtask) and paraphrases fill the rest.

Draws are dealt per part by `Deck`, which keeps each variant within one sample of its share while the order
stays random: an i.i.d. draw could by chance put a benchmark string in more than half of a subtask, and a
fixed cycle could line up with the letter balancer's cycle (a shortcut between frame and answer letter).
With shares <= 0.45 no variant exceeds half of any subtask of 20 samples or more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Variant:
    text: str  # "" = the part is left out
    share: float
    origin: str  # where the wording comes from (docs/benchmarks.md cites the files)


# Shown before the question of a video sample (image samples have no pre-prompt in the benchmarks we follow).
VIDEO_PRE_PROMPTS: tuple[Variant, ...] = (
    Variant("These are frames of a video.", 0.40, "VSI-Bench (lmms-eval, EASI)"),
    Variant("The images are frames taken from one video of a room.", 0.15, "paraphrase"),
    Variant("These frames come from a video walking through an indoor scene.", 0.15, "paraphrase"),
    Variant("", 0.30, "none"),
)
# The line before the options of a multiple-choice question.
OPTION_HEADERS: tuple[Variant, ...] = (
    Variant("Options:", 0.45, "lmms-eval"),
    Variant("", 0.45, "EASI / VLMEvalKit"),
    Variant("Choices:", 0.10, "paraphrase"),
)
MC_POST_PROMPTS: tuple[Variant, ...] = (
    Variant("Answer with the option's letter from the given choices directly.", 0.45, "lmms-eval, EASI"),
    Variant("Reply with the letter of the correct option only.", 0.20, "paraphrase"),
    Variant("Give only the letter of your choice.", 0.20, "paraphrase"),
    Variant("Respond with just the option letter.", 0.15, "paraphrase"),
)
NUMERIC_POST_PROMPTS: tuple[Variant, ...] = (
    Variant("Please answer the question using a single word or phrase.", 0.30, "lmms-eval"),
    Variant("Answer briefly and directly in one float number.", 0.30, "EASI / VLMEvalKit"),
    Variant("Answer with a single number.", 0.20, "paraphrase"),
    Variant("Reply with just the number.", 0.20, "paraphrase"),
)
PARTS: dict[str, tuple[Variant, ...]] = {
    "video_pre_prompt": VIDEO_PRE_PROMPTS,
    "option_header": OPTION_HEADERS,
    "mc_post_prompt": MC_POST_PROMPTS,
    "numeric_post_prompt": NUMERIC_POST_PROMPTS,
}


class Deck:
    """Deals variant indices so that every variant's count stays below share x n + 1 after n deals, in a random
    order: a variant may be dealt only while it is behind its share (deficit > 0), and among those the pick is
    random with probability proportional to the deficit (the deficits always sum to 1)."""

    def __init__(self, variants: Sequence[Variant], rng: np.random.Generator):
        total = sum(v.share for v in variants)
        self.shares = [v.share / total for v in variants]
        self.counts = [0] * len(variants)
        self.dealt = 0
        self.rng = rng

    def deal(self) -> int:
        # rng.choice(n, p=weights / sum) in plain floats (a deal per prompt part made numpy's per-call overhead
        # a tenth of the generate stage): the same sums in the same order, one rng.random() draw, the cdf
        # searched the same way, so the same index for the same stream
        dealt = self.dealt + 1
        weights = [
            max(share * dealt - count, 0.0) for share, count in zip(self.shares, self.counts, strict=True)
        ]
        total = 0.0
        for w in weights:
            total += w
        cdf, running = [], 0.0
        for w in weights:
            running += w / total
            cdf.append(running)
        r = self.rng.random()
        k = 0  # bisect_right over the non-decreasing c / running: how many are <= r
        for c in cdf:
            if c / running > r:
                break
            k += 1
        self.counts[k] += 1
        self.dealt = dealt
        return k


class PromptFrame:
    """Frames the questions of one (scene, subtask); its rng is the subtask's own frame stream."""

    def __init__(self, rng: np.random.Generator, media: str):
        self.media = media
        self.decks = {name: Deck(variants, rng) for name, variants in PARTS.items()}

    def _draw(self, part: str) -> str:
        return PARTS[part][self.decks[part].deal()].text

    def render(self, question: str, options: Sequence[str] | None, answer_type: str) -> str:
        lines: list[str] = []
        if self.media == "video":
            lines.append(self._draw("video_pre_prompt"))
        lines.append(question.strip())
        if options is not None:
            lines.append(self._draw("option_header"))
            lines.extend(options)
            lines.append(self._draw("mc_post_prompt"))
        elif answer_type == "numeric":
            lines.append(self._draw("numeric_post_prompt"))
        return "\n".join(line for line in lines if line)


def frame_strings() -> set[str]:
    """Every non-empty string the frame may add (the sentence audit tells them from question text)."""
    return {v.text for variants in PARTS.values() for v in variants if v.text}


def question_stem(question: str) -> str:
    """The first line of a framed question that the frame did not add (the question itself)."""
    frame = frame_strings()
    return next((line for line in question.split("\n") if line and line not in frame), "")
