"""The shortcut audit flags corpora skewed on purpose and passes a balanced one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shards.audit import AuditThresholds, audit, mean_relative_accuracy, scene_folds
from shards.stats import corpus_stats
from shards.writer import write_scene_shard
from tests.shards.corpus_factory import Plan, build_corpus, mc_sample, write_frames

SKEWED = Plan(
    scenes=8,
    per_scene={
        "relative_distance": 60,  # the right option is always the longest text
        "camera_left_right": 60,  # letter A right 60 % of the time
        "closer_of_two": 60,  # "left" right 80 % of the time, letters balanced
        "higher_lower": 60,  # the answer label follows from a word of the question
        "object_height": 40,  # the label alone gives the height
        "camera_near_far": 60,  # balanced control
        "size_comparison": 1,  # skewed but too small to judge
    },
    skew={
        "relative_distance": "longest",
        "camera_left_right": "letter_a",
        "closer_of_two": "option_prior",
        "higher_lower": "question_cue",
        "object_height": "label_value",
        "size_comparison": "letter_a",
    },
)
BALANCED = Plan(
    scenes=8, per_scene={"relative_distance": 60, "camera_left_right": 60, "object_height": 40}, seed=1
)


@pytest.fixture(scope="module")
def skewed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("skewed")
    build_corpus(out, SKEWED)
    return out


@pytest.fixture(scope="module")
def skewed_result(skewed: Path):
    return audit(skewed, AuditThresholds())


def by_subtask(result) -> dict:
    return {s.subtask: s for s in result.subtasks}


def failures_of(result, subtask: str) -> list[str]:
    return [f for f in result.failures if f.startswith(f"{subtask}:")]


def test_balanced_corpus_passes(tmp_path: Path) -> None:
    build_corpus(tmp_path, BALANCED)
    result = audit(tmp_path, AuditThresholds())
    assert result.ok, result.failures
    subs = by_subtask(result)
    assert subs["relative_distance"].chance == 0.25 and subs["camera_left_right"].chance == 0.5
    for s in result.subtasks:
        assert s.n_used == s.n == BALANCED.scenes * BALANCED.per_scene[s.subtask]
        assert abs(s.blind_accuracy - s.chance) < 0.06, (s.subtask, s.blind)
    assert subs["relative_distance"].letter_excess < 0.05
    assert set(subs["relative_distance"].blind) == {
        "letter_prior",
        "option_prior",
        "naive_bayes",
        "option_features",
    }
    assert json.loads((tmp_path / "audit.json").read_text())["ok"] is True


def test_longest_option_is_flagged(skewed_result) -> None:
    rd = by_subtask(skewed_result)["relative_distance"]
    assert rd.blind["option_features"] > 0.9  # is-longest is one of its features
    assert rd.letter_excess < 0.05  # letters alone look fine
    (failure,) = failures_of(skewed_result, "relative_distance")
    assert "text-only baseline" in failure and "chance 25.0%" in failure


def test_letter_skew_is_flagged(skewed_result) -> None:
    lr = by_subtask(skewed_result)["camera_left_right"]
    assert lr.letter_shares["2"]["A"] == pytest.approx(1 - lr.letter_shares["2"]["B"])
    assert lr.letter_shares["2"]["A"] > 0.55
    assert any(
        f.startswith("camera_left_right: letter A is right in")
        for f in failures_of(skewed_result, "camera_left_right")
    )


def test_option_text_prior_is_flagged(skewed_result) -> None:
    c2 = by_subtask(skewed_result)["closer_of_two"]
    assert c2.blind["option_prior"] > 0.7 and c2.letter_excess < 0.05
    assert c2.max_label_share == pytest.approx(c2.label_shares["left"]) and c2.label_shares["left"] > 0.7
    assert failures_of(skewed_result, "closer_of_two")


def test_question_cue_is_flagged_by_naive_bayes_only(skewed_result) -> None:
    hl = by_subtask(skewed_result)["higher_lower"]
    assert hl.blind["naive_bayes"] > 0.9
    assert hl.blind["option_prior"] < 0.6 and hl.blind["option_features"] < 0.6
    assert hl.blind_best == "naive_bayes" and failures_of(skewed_result, "higher_lower")


def test_label_determined_value_is_flagged(skewed_result) -> None:
    oh = by_subtask(skewed_result)["object_height"]
    assert oh.answer_type == "numeric"
    assert oh.blind["label_median"] > 0.9 and oh.blind["label_median_acc10"] == 1.0
    assert oh.chance < 0.6
    assert "MRA" in failures_of(skewed_result, "object_height")[0]


def test_control_and_small_subtasks_pass(skewed_result) -> None:
    assert not failures_of(skewed_result, "camera_near_far")
    small = by_subtask(skewed_result)["size_comparison"]
    assert small.n == 8 and small.blind_accuracy is None and "min_samples" in small.note
    assert not failures_of(skewed_result, "size_comparison")
    assert not skewed_result.ok


def test_label_share_threshold_and_audit_json(skewed: Path, skewed_result) -> None:
    strict = audit(skewed, AuditThresholds(max_label_share=0.6))
    assert [f for f in strict.failures if "answer 'left' is right" in f]
    assert len(strict.failures) == len(skewed_result.failures) + 1
    saved = json.loads((skewed / "audit.json").read_text())
    assert saved == json.loads(json.dumps(strict.to_dict()))
    blind = {r["subtask"]: r for r in corpus_stats(skewed)["blind_baseline"]["subtasks"]}
    assert blind["higher_lower"]["blind_best"] == "naive_bayes"


def test_subsampling_caps_the_baseline_samples(skewed: Path) -> None:
    result = audit(skewed, AuditThresholds(), max_samples=100)
    assert all(s.n_used <= 100 for s in result.subtasks)
    assert by_subtask(result)["relative_distance"].n == 8 * 60


def test_scene_folds_keep_a_scene_on_one_side() -> None:
    scenes = [("s", f"scene{i % 7}") for i in range(70)]
    folds = scene_folds(scenes, 5)
    assert folds is not None and set(folds) == set(range(5))
    for scene in set(scenes):
        assert len({f for f, s in zip(folds, scenes, strict=True) if s == scene}) == 1
    assert np.array_equal(folds, scene_folds(scenes, 5))
    assert scene_folds([("s", "one")] * 30, 5) is None
    assert set(scene_folds([("s", "a"), ("s", "b"), ("s", "a")], 5)) == {0, 1}


def test_mean_relative_accuracy() -> None:
    truth = np.array([100.0, 100.0, 100.0, 100.0])
    pred = np.array([100.0, 110.0, 0.0, 149.0])
    # 10 % off passes the thresholds 0.50..0.85 (8 of 10); 49 % off passes only 0.50
    assert mean_relative_accuracy(pred, truth) == pytest.approx([1.0, 0.8, 0.0, 0.1])


def letter_corpus(out: Path, right_a: int, total: int) -> None:
    """Two scenes of camera_left_right samples where letter A ("left") is right `right_a` times of `total`."""
    for shard_no, scene in enumerate(["scene0000_00", "scene0001_00"]):
        refs = write_frames(out, scene, 1)
        half = total // 2
        a_here = right_a // 2 + (right_a % 2 if shard_no == 0 else 0)
        samples = [
            mc_sample(
                scene,
                "camera_left_right",
                k,
                [0],
                refs,
                "Is the lamp left or right of the chair?",
                ["left", "right"],
                0 if k < a_here else 1,
                ["lamp", "chair"],
            )
            for k in range(half)
        ]
        write_scene_shard(out, shard_no, samples, [], {"source": "synth", "scene_id": scene})


def test_small_excess_needs_significance(tmp_path: Path) -> None:
    letter_corpus(tmp_path / "noise", right_a=15, total=24)  # 62.5 %: over +5 points, z = 1.2
    noisy = audit(tmp_path / "noise", AuditThresholds())
    (lr,) = noisy.subtasks
    assert lr.letter_excess == pytest.approx(0.125) and lr.letter_z == pytest.approx(
        0.125 / np.sqrt(0.25 / 24)
    )
    assert noisy.ok
    letter_corpus(tmp_path / "skew", right_a=22, total=24)  # 91.7 %: z = 4.1
    skewed = audit(tmp_path / "skew", AuditThresholds())
    assert [f for f in skewed.failures if f.startswith("camera_left_right: letter A is right in 91.7% of 24")]
    assert audit(tmp_path / "skew", AuditThresholds(min_z=5.0)).ok


def test_nearest_to_query_and_first_mentioned_skews_are_flagged(tmp_path: Path) -> None:
    # the two text-only shortcuts measured on a real scan: the option nearest the query's printed
    # coordinates right 32 % of the time (view_correspondence), the first-named option right 62 %
    # (closer_of_two); letters and option texts are balanced, so only the position checks can see them
    skewed = Plan(
        scenes=8,
        per_scene={"view_correspondence": 75, "closer_of_two": 50},
        skew={"view_correspondence": "nearest_query", "closer_of_two": "first_mentioned"},
    )
    build_corpus(tmp_path / "skewed", skewed)
    result = audit(tmp_path / "skewed", AuditThresholds())
    subs = by_subtask(result)
    vc, cot = subs["view_correspondence"], subs["closer_of_two"]
    assert vc.position_shares["nearest:4"]["0"] == pytest.approx(0.32)
    assert cot.position_shares["mention:2"]["0"] == pytest.approx(0.62)
    assert any(
        "nearest to the query point 1st is right in 32.0%" in f
        for f in failures_of(result, "view_correspondence")
    )
    assert any("mentioned 1st is right in 62.0%" in f for f in failures_of(result, "closer_of_two"))
    assert vc.letter_excess < 0.05 and cot.letter_excess < 0.05
    # the conditional logit sees the same features: it beats chance on both
    assert vc.blind["option_features"] > 0.29 and cot.blind["option_features"] > 0.57

    balanced = Plan(
        scenes=8,
        per_scene={"view_correspondence": 75, "closer_of_two": 50},
        skew={"view_correspondence": "point_balanced", "closer_of_two": "mention_balanced"},
        seed=2,
    )
    build_corpus(tmp_path / "balanced", balanced)
    result = audit(tmp_path / "balanced", AuditThresholds())
    assert result.ok, result.failures
    subs = by_subtask(result)
    assert subs["view_correspondence"].position_shares["nearest:4"] == pytest.approx(
        {str(r): 0.25 for r in range(4)}, abs=0.011
    )
    assert subs["closer_of_two"].position_shares["mention:2"] == {"0": 0.5, "1": 0.5}
