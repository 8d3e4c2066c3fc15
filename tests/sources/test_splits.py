"""The vendored split and benchmark lists, and the one decision built on them: may a scan enter training data?"""

from __future__ import annotations

import pytest

from sources.splits import (
    benchmark_names,
    benchmark_overlap,
    decide,
    lists_version,
    official_split,
    partition,
    room_of,
    rooms_held,
)


def test_official_splits_of_every_source():
    assert official_split("scannet", "scene0000_00") == "train"
    assert official_split("scannet", "scene0251_00") == "val"
    assert official_split("scannet", "scene0707_00") == "test"
    assert official_split("scannet", "scene9000_00") == "unlisted"
    assert official_split("scannetpp", "7b6477cb95") == "val"
    assert official_split("arkitscenes", "41159521") == "train"
    assert official_split("arkitscenes", "41159525") == "val"


def test_rooms_not_ids():
    assert room_of("scannet", "scene0251_02") == "scene0251"
    # ARKitScenes: the Training-fold sibling of a VSI-Bench video shares its visit (the same room)
    assert room_of("arkitscenes", "41159521") == room_of("arkitscenes", "41159525") == "visit 381879"
    hits = benchmark_overlap("arkitscenes", "41159521")
    assert ("VSI-Bench", "41159525") in hits


def test_decide_train_drops_benchmark_rooms_and_keeps_unlisted():
    assert decide("scannet", "scene0000_00", "train").keep
    unlisted = decide("scannet", "scene9000_00", "train")
    assert unlisted.keep and unlisted.split == "unlisted"
    val = decide("scannet", "scene0251_00", "train")
    assert not val.keep and "split: val" in val.reason
    sibling = decide("arkitscenes", "41159521", "train")  # a train video in a VSI-Bench room
    assert not sibling.keep and "VSI-Bench" in sibling.reason and "41159525" in sibling.reason
    both = decide("scannet", "scene0025_01", "all")
    assert both.keep and {b for b, _ in both.benchmarks} == {"VSI-Bench", "ViewSpatial-Bench"}
    rescan = decide("scannet", "scene0025_02", "val")  # shares room scene0025 with the VSI-Bench scan
    assert rescan.keep and ("VSI-Bench", "scene0025_01") in rescan.benchmarks
    with pytest.raises(ValueError, match="unknown split"):
        decide("scannet", "scene0000_00", "dev")


def test_lists_version_is_stable():
    assert lists_version() == lists_version() and len(lists_version()) == 16


def test_partition_names_every_excluded_scan_with_its_reason():
    kept, excluded = partition("arkitscenes", ["41159521", "41159525", "99999999"], "train")
    assert kept == ["99999999"]  # unknown to every list: a user's own scan
    sibling, vsi = excluded
    assert sibling["kind"] == "benchmark room" and sibling["room"] == "visit 381879"
    assert sibling["split"] == "train" and sibling["benchmarks"] == ["VSI-Bench"]
    assert vsi["kind"] == "split" and vsi["split"] == "val" and vsi["benchmarks"] == ["VSI-Bench"]
    assert partition("scannet", ["scene0251_00"], "all") == (["scene0251_00"], [])


def test_rooms_held_counts_rooms_of_the_sources_present():
    # two rescans of one room count once; ViewSpatial-Bench's COCO images are not rooms of a ScanNet corpus
    held = rooms_held([("scannet", "scene0025_01"), ("scannet", "scene0025_02"), ("scannet", "scene0000_00")])
    assert held == {"VSI-Bench": (1, 88), "ViewSpatial-Bench": (1, 131)}
    assert rooms_held([("scannet", "scene0000_00")]) == {}
    assert benchmark_names() == ["VSI-Bench", "ViewSpatial-Bench"]
