"""The corpus guards that the registry applies to every subtask (generators.guards): letters, balance keys,
mention order, lazy pulling, drop counts, determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np

from generators.base import Draft, GenContext, GenerationConfig, rng_for
from generators.guards import LetterBalancer, MentionOrderBalancer, mention_pair, select_balanced
from generators.registry import run_subtask
from tests.facts_builder import box_object, make_facts


def balanced_selection(drafts, quota, rng, **kw):
    return select_balanced(iter(drafts), quota, rng, max_pull=kw.pop("max_pull", 10**6), **kw)


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


def test_a_rare_label_late_in_the_stream_is_still_found():
    # The old registry cut the stream at quota x oversample before balancing: "left" at positions 500+ was
    # never seen. Pulling lazily per key finds it, and the round-robin then balances the two labels.
    drafts = [Draft("q", [0], [0], choices=["front", "left"], balance_key="front") for _ in range(500)]
    drafts += [Draft("q", [0], [0], choices=["left", "front"], balance_key="left") for _ in range(10)]
    pulled = []

    def stream():
        for d in drafts:
            pulled.append(d)
            yield d

    chosen = select_balanced(stream(), 20, np.random.default_rng(0), max_pull=10**6)
    assert Counter(d.balance_key for d in chosen) == {"front": 10, "left": 10}
    # lazily: nothing pulled after the quota was met (the 10th "left" is the last draft)
    assert len(pulled) == len(drafts)
    few = select_balanced(iter(drafts), 4, np.random.default_rng(0), max_pull=10**6)
    assert len(few) == 4


def test_pulling_stops_at_max_pull():
    drafts = (Draft("q", [0], [0], choices=["a", "b"], balance_key="a") for _ in range(10**6))
    drops: dict[str, int] = {}
    chosen = select_balanced(drafts, 10**5, np.random.default_rng(0), max_pull=300, drops=drops)
    assert len(chosen) <= 300


def test_cap_ratio_keeps_a_label_within_twice_the_scarcest():
    drafts = [
        Draft("q", [0], [0], choices=["left", "right", "behind"], balance_key="left") for _ in range(60)
    ]
    drafts += [
        Draft("q", [0], [0], choices=["right", "left", "behind"], balance_key="right") for _ in range(60)
    ]
    drafts += [
        Draft("q", [0], [0], choices=["behind", "left", "right"], balance_key="behind") for _ in range(5)
    ]
    rng = np.random.default_rng(3)
    order = rng.permutation(len(drafts))
    drafts = [drafts[i] for i in order]
    uncapped = Counter(d.balance_key for d in balanced_selection(drafts, 100, np.random.default_rng(0)))
    capped = Counter(
        d.balance_key for d in balanced_selection(drafts, 100, np.random.default_rng(0), cap_ratio=1.0)
    )
    assert uncapped["left"] > 2 * uncapped["behind"] and uncapped["behind"] == 5
    assert capped == {"left": 5, "right": 5, "behind": 5}


def test_grouped_keys_interleave_groups_before_labels():
    # "fine" has eight labels, "easy" two: the groups alternate, so "easy" is not drowned by label count
    drafts = []
    for k in range(400):
        fine = k % 2 == 0
        label = f"fine:{k % 8}" if fine else f"easy:{k % 4 // 2}"
        drafts.append(Draft("q", [0], [0], answer="1", balance_key=label))
    chosen = balanced_selection(drafts, 40, np.random.default_rng(0))
    groups = Counter(d.balance_key.split(":")[0] for d in chosen)
    assert groups == {"fine": 20, "easy": 20}


def test_mention_order_balancer_puts_the_right_option_first_half_the_time():
    balancer = MentionOrderBalancer(np.random.default_rng(0))
    firsts = 0
    for _ in range(101):

        def make(a: str, b: str) -> Draft:
            return Draft(f"Which is closer, the {a} or the {b}?", [0], [0], choices=["lamp", "desk"])

        d = balancer.place(mention_pair(make, "lamp", "desk"))
        firsts += d.question.index("lamp") < d.question.index("desk")
    assert firsts in (50, 51)


def test_run_subtask_counts_drops_by_reason_and_is_deterministic():
    objects = [
        box_object(1, "bed", (0, 0, 0.3), (2, 1.5, 0.6)),
        box_object(2, "lamp", (1.3, 0, 0.5), (0.2, 0.2, 0.4)),
        box_object(3, "desk", (3, 0, 0.4), (1.2, 0.6, 0.8)),
        box_object(4, "chair", (3.05, 0.9, 0.4), (0.5, 0.5, 0.8)),
        box_object(5, "sofa", (-2.5, 1.5, 0.4), (2.0, 0.9, 0.8)),
        box_object(6, "plant", (-0.5, 3.0, 0.5), (0.4, 0.4, 1.0)),
    ]
    facts = make_facts(objects)
    facts.visibility.visible[:] = True
    drops: dict[str, int] = {}
    samples = run_subtask(facts, "closer_of_two", GenerationConfig(), drops)
    again: dict[str, int] = {}
    assert samples == run_subtask(facts, "closer_of_two", GenerationConfig(), again) and drops == again
    assert samples and any(r.startswith("distance gap <") for r in drops)
    firsts = Counter(
        s["question"].index(s["options"][ord(s["answer"]) - 65][3:])
        < s["question"].index(s["options"][1 - (ord(s["answer"]) - 65)][3:])
        for s in samples
    )
    assert abs(firsts[True] - firsts[False]) <= 1
