"""The prompt frame: declared variants with stated shares, benchmark strings included, none over half."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from generators import prompt_frame as pf
from generators.base import GenContext, GenerationConfig


def test_shares_are_declared_and_no_variant_is_over_half():
    for part, variants in pf.PARTS.items():
        assert sum(v.share for v in variants) == pytest.approx(1.0), part
        assert max(v.share for v in variants) <= 0.45, part
        assert len(variants) >= 3, part
    texts = pf.frame_strings()
    assert "These are frames of a video." in texts  # lmms-eval / EASI pre-prompt
    assert "Options:" in texts  # lmms-eval's options header (EASI has none: the "" variant)
    assert "Answer briefly and directly in one float number." in texts  # EASI's numeric post-prompt
    assert "Please answer the question using a single word or phrase." in texts  # lmms-eval's


@pytest.mark.parametrize("n", [20, 37, 200])
def test_deck_keeps_every_variant_within_one_of_its_share(n):
    deck = pf.Deck(pf.OPTION_HEADERS, np.random.default_rng(n))
    counts = Counter(deck.deal() for _ in range(n))
    for i, v in enumerate(pf.OPTION_HEADERS):
        assert counts[i] < v.share * n + 1
        assert counts[i] <= n / 2


def test_render_orders_pre_prompt_question_options_post_prompt():
    frame = pf.PromptFrame(np.random.default_rng(0), "video")
    seen_header = Counter()
    for _ in range(40):
        text = frame.render("Where is the lamp?", ["A. left", "B. right"], "multiple_choice")
        lines = text.split("\n")
        q = lines.index("Where is the lamp?")
        assert q <= 1 and (q == 0 or lines[0] in pf.frame_strings())
        a = lines.index("A. left")
        assert lines[a + 1] == "B. right" and lines[a + 2] in pf.frame_strings()
        seen_header[lines[a - 1] if a - 1 > q else ""] += 1
    assert seen_header["Options:"] and seen_header[""]  # both evaluators' layouts
    image = pf.PromptFrame(np.random.default_rng(0), "image")
    assert image.render("How far?", None, "numeric").startswith("How far?\n")


def test_video_frames_up_to_32_per_build():
    from pipeline.config import FramesConfig
    from tests.facts_builder import box_object, make_facts

    facts = make_facts([box_object(1, "bed", (0, 0, 0.3), (1, 1, 0.6))], None)  # 20 frames
    ctx = GenContext(np.random.default_rng(0), "object_count", GenerationConfig(video_frames=32))
    assert len(ctx.video_frames(facts)) == 20
    facts40 = make_facts([box_object(1, "bed", (0, 0, 0.3), (1, 1, 0.6))], None)
    facts40.frames = facts40.frames * 2
    assert len(ctx.video_frames(facts40)) == 32
    assert FramesConfig(video_frames=32).video_frames == 32
    with pytest.raises(ValueError):
        FramesConfig(video_frames=33)


def test_docs_state_the_declared_shares():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md").read_text()
    for part, variants in pf.PARTS.items():
        for v in variants:
            assert f"| {part} | {v.text or '(none)'} | {v.share:.0%} |" in doc, (part, v.text)


def _numpy_deal(deck_shares, counts, rng):
    """The deal as first written with numpy (rng.choice with p): the plain-float Deck must match it draw by draw."""
    shares = np.array(deck_shares)
    c = np.array(counts, dtype=np.int64)
    weights = np.clip(shares * (c.sum() + 1) - c, 0.0, None)
    return int(rng.choice(len(weights), p=weights / weights.sum()))


@pytest.mark.parametrize("variants", list(pf.PARTS.values()))
def test_deck_deals_what_numpy_choice_deals(variants):
    for seed in range(20):
        deck = pf.Deck(variants, np.random.default_rng(seed))
        reference_rng = np.random.default_rng(seed)
        counts = [0] * len(variants)
        for _ in range(60):
            expected = _numpy_deal(deck.shares, counts, reference_rng)
            assert deck.deal() == expected
            counts[expected] += 1
