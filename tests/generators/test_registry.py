"""The corpus guards that the registry applies to every subtask: letters, balance keys, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np

from generators.base import Draft, GenContext, GenerationConfig, rng_for
from generators.registry import LetterBalancer, balanced_selection


def test_rng_depends_on_seed_source_scene_subtask_only():
    a = rng_for(0, "scannet", "scene0000_00", "object_size").integers(1 << 30, size=4)
    b = rng_for(0, "scannet", "scene0000_00", "object_size").integers(1 << 30, size=4)
    c = rng_for(0, "scannet", "scene0000_00", "object_height").integers(1 << 30, size=4)
    assert (a == b).all() and not (a == c).all()


def test_correct_letter_is_uniform_within_a_subtask():
    letters = LetterBalancer(np.random.default_rng(0))
    counts = Counter()
    for _ in range(400):
        options, slot = letters.place(["right", "w1", "w2", "w3"])
        assert options[slot] == "right" and sorted(options) == ["right", "w1", "w2", "w3"]
        counts[slot] += 1
    assert set(counts.values()) == {100}


def test_balanced_selection_flattens_a_skewed_label_distribution():
    drafts = [Draft("q", [0], [0], choices=["front", "left"], balance_key="front") for _ in range(90)]
    drafts += [Draft("q", [0], [0], choices=["left", "front"], balance_key="left") for _ in range(10)]
    chosen = balanced_selection(drafts, 20, np.random.default_rng(0))
    assert Counter(d.balance_key for d in chosen) == {"front": 10, "left": 10}


def test_numeric_choices_put_the_true_value_at_every_rank():
    ctx = GenContext(np.random.default_rng(1), "object_size", GenerationConfig())
    ranks = Counter()
    for _ in range(400):
        texts = ctx.numeric_choices(100.0, "{:.0f}")
        values = [float(t) for t in texts]
        assert values[0] == 100.0 and len(set(values)) == 4
        ranks[sorted(values).index(100.0)] += 1
    assert all(70 <= n <= 130 for n in ranks.values()) and len(ranks) == 4


def test_option_prior_guard_stops_one_text_from_being_usually_right():
    rng = np.random.default_rng(0)
    labels = ["pillow", "window", "door", "shelf", "cabinet"]
    drafts = []
    for _ in range(400):  # "lamp" is the right answer 3 times in 4: a text-only model would learn that
        if rng.random() < 0.75:
            choices = ["lamp", *rng.choice(labels, 3, replace=False)]
        else:
            right, *rest = rng.choice(labels, 4, replace=False)
            choices = [right, "lamp", *rest[:2]]
        drafts.append(Draft("q", [0], [0], choices=list(choices)))
    chosen = balanced_selection(drafts, 100, np.random.default_rng(1))
    offered = sum("lamp" in d.choices for d in chosen)
    right = sum(d.choices[0] == "lamp" for d in chosen)
    assert len(chosen) == 100
    assert right / offered <= 0.25 + 0.10 + 0.02


def test_option_prior_guard_keeps_a_fixed_option_set_flowing():
    rng = np.random.default_rng(0)
    directions = ["left", "right", "forward", "backward"]
    drafts = []
    for k in range(200):  # every draft offers the same four texts; each is right a quarter of the time
        right = directions[k % 4]
        drafts.append(
            Draft("q", [0], [0], choices=[right, *[d for d in directions if d != right]], balance_key=right)
        )
    rng.shuffle(drafts)
    assert len(balanced_selection(drafts, 100, np.random.default_rng(1))) == 100
