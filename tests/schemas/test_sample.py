"""Schema and semantic checks: what a sample must satisfy before it is written."""

from __future__ import annotations

import copy

import pytest

from schemas import validate_sample


def good_mc() -> dict:
    return {
        "id": "scannet-scene0000_00-relative_distance-00001",
        "category": "spatial_relations",
        "subtask": "relative_distance",
        "source": "scannet",
        "scene_id": "scene0000_00",
        "question": "Which of these objects is closest to the bed?\nA. lamp\nB. chair",
        "options": ["A. lamp", "B. chair"],
        "answer": "B",
        "answer_type": "multiple_choice",
        "images": ["scannet/scene0000_00/000000.jpg"],
        "facts": {"objects": [{"instance_id": 3, "label": "bed"}], "frames": [0]},
        "provenance": {
            "generator": "generators.spatial_relations",
            "version": "1.0",
            "seed": 0,
            "taxonomy_version": "1.0",
        },
    }


def good_numeric() -> dict:
    s = good_mc()
    s.update(
        subtask="object_size",
        category="metric_measurement",
        options=None,
        answer="182",
        answer_type="numeric",
    )
    s["facts"].update(value=181.6, unit="cm")
    return s


def test_valid_samples_pass():
    assert validate_sample(good_mc())[1] is None
    assert validate_sample(good_numeric())[1] is None


def broken(base, **change):
    s = copy.deepcopy(base())
    for key, value in change.items():
        if "__" in key:
            outer, inner = key.split("__")
            s[outer][inner] = value
        else:
            s[key] = value
    return s


@pytest.mark.parametrize(
    "sample, why",
    [
        (broken(good_mc, answer="C"), "not one of the option letters"),
        (broken(good_mc, options=["A. lamp", "C. chair"]), "lettered"),
        (broken(good_mc, options=["A lamp", "B. chair"]), "'A. text'"),
        (broken(good_mc, options=["A. lamp", "B. lamp"]), "repeat"),
        (broken(good_mc, id="scannet.scene0000_00"), "no dots"),
        (broken(good_mc, subtask="object_size"), "does not belong"),
        (broken(good_mc, subtask="no_such_subtask"), "unknown subtask"),
        (broken(good_mc, images=[]), "at least 1"),
        (broken(good_mc, facts__frames=[0, 1]), "one source frame per image"),
        (broken(good_numeric, answer="about 3"), "bare number"),
        (broken(good_numeric, answer="nan"), "finite"),
        (broken(good_numeric, answer="-2"), "non-negative"),
        (broken(good_numeric, options=["A. 1", "B. 2"]), "take no options"),
        (broken(good_numeric, facts__value=None), "unrounded"),
    ],
)
def test_schema_rejects_with_a_reason(sample, why):
    model, reason = validate_sample(sample)
    assert model is None
    assert why in reason


def test_semantic_checks_instances_and_media():
    _, reason = validate_sample(good_mc(), instance_ids={1, 2})
    assert "instances [3]" in reason
    _, reason = validate_sample(good_mc(), instance_ids={3}, media_exists=lambda ref: False)
    assert "do not exist under media" in reason
    assert validate_sample(good_mc(), instance_ids={3}, media_exists=lambda ref: True)[1] is None
