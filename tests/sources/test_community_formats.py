"""Each community format on records written in its documented schema, the real fixture records, and every row of
the declared type map (taxonomy/ingest_map.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sources.community import FORMATS, benchmark_file
from sources.community.inputs import iter_objects, plan_chunks
from sources.community.normalise import normalise
from sources.community.record import CommunityRecord, Drop
from taxonomy import SUBTASKS
from taxonomy.ingest_map import ALL_SUBTASKS, COMMUNITY_SUBTASKS, MAP_ROWS, TYPE_FAMILY

COMMUNITY = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "community"


@pytest.fixture
def media(tmp_path: Path):
    root = tmp_path / "media"

    def make(*refs: str) -> Path:
        from PIL import Image

        for ref in refs:
            p = root / ref
            p.parent.mkdir(parents=True, exist_ok=True)
            if ref.endswith(".mp4"):
                p.write_bytes(b"\0" * 64)
            else:
                Image.new("RGB", (200, 100), (90, 90, 90)).save(p)
        return root

    return make


def one(fmt: str, obj: dict, media_root: Path | None, file: str = "data.jsonl") -> dict:
    records = FORMATS[fmt].parse(obj, file, 0)
    assert len(records) == 1
    return normalise(records[0], f"{fmt}-1", media_root, False).sample


def dropped(fmt: str, obj: dict, media_root: Path | None, file: str = "data.jsonl") -> str:
    with pytest.raises(Drop) as e:
        for r in FORMATS[fmt].parse(obj, file, 0):
            normalise(r, "x", media_root, False)
    return e.value.reason


def test_internvl_options_in_text_and_image_string(media):
    root = media("scannet/scene0000_00/1.jpg")
    obj = {
        "id": 7,
        "image": "scannet/scene0000_00/1.jpg",
        "type": "object_rel_distance",
        "conversations": [
            {
                "from": "human",
                "value": "<image>\nWhich is closest to the bed?\nA. chair\nB. desk\nC. lamp\nD. door",
            },
            {"from": "gpt", "value": "<think>desk is by the bed</think>B"},
        ],
    }
    s = one("internvl", obj, root)
    assert (s["subtask"], s["answer"], s["answer_type"]) == ("relative_distance", "B", "multiple_choice")
    assert s["options"] == ["A. chair", "B. desk", "C. lamp", "D. door"]
    assert s["reasoning"] == "desk is by the bed" and "<image>" not in s["question"]
    assert (s["scene_source"], s["scene_id"]) == ("scannet", "scene0000_00")
    assert s["provenance"]["original_id"] == "7" and s["images"] == ["internvl/scannet/scene0000_00/1.jpg"]


def test_llava_typeless_record_placed_by_its_template(media):
    root = media("v/room.mp4")
    obj = {
        "video": "v/room.mp4",
        "conversations": [
            {"from": "human", "value": "<image>\nHow many chair(s) are in this room?"},
            {"from": "gpt", "value": "4"},
        ],
    }
    s = one("llava", obj, root)
    assert (s["subtask"], s["answer"], s["answer_type"], s["media_type"]) == (
        "object_count",
        "4",
        "numeric",
        "video",
    )
    obj["conversations"][0]["value"] = "Describe the room."
    assert dropped("llava", obj, root).startswith("no task type")


def test_vsi590k_numeric_with_unit_and_benchmark_room(media):
    root = media("arkitscenes/40753679.mp4", "scannet/scene0251_00.mp4")
    obj = {
        "video": "arkitscenes/40753679.mp4",
        "question_type": "object_size_estimation",
        "conversations": [
            {
                "from": "human",
                "value": "<image>\nWhat is the length of the longest dimension of the sofa, in cm?",
            },
            {"from": "gpt", "value": "It is about 1.8 meters."},
        ],
    }
    s = one("vsi590k", obj, root)
    assert (s["subtask"], s["answer"], s["facts"]["unit"]) == ("object_size", "180", "cm")
    obj["video"] = "scannet/scene0251_00.mp4"  # a VSI-Bench val scan
    assert dropped("vsi590k", obj, root).startswith("benchmark room: VSI-Bench")
    obj["question_type"] = "object_telepathy"
    assert dropped("vsi590k", obj, root) == "unmapped type: object_telepathy"


def test_vlm3r_scene_from_its_fields(media):
    root = media("videos/abc.mp4")
    obj = {
        "id": "5b0c",
        "data_source": "scannet",
        "scene_name": "scene0011_00",  # ViewSpatial-Bench evaluates on this room
        "question_type": "object_counting",
        "video": "videos/abc.mp4",
        "conversations": [
            {"from": "human", "value": "How many tables are there?"},
            {"from": "gpt", "value": "2"},
        ],
    }
    assert dropped("vlm3r", obj, root).startswith("benchmark room: ViewSpatial-Bench")
    obj["scene_name"] = "scene0000_00"
    s = one("vlm3r", obj, root)
    assert (s["scene_source"], s["scene_id"], s["subtask"]) == ("scannet", "scene0000_00", "object_count")


def test_vica_task_from_the_file_name_and_free_text_skipped(media):
    root = media("arkitscenes/47115148.mp4")
    obj = {
        "video": "arkitscenes/47115148.mp4",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat is the distance between the bed and the sofa?"},
            {"from": "gpt", "value": "2.3"},
        ],
    }
    s = one("vica", obj, root, file="ViCA-322K/arkitscenes/base/object_abs_distance.json")
    assert (s["subtask"], s["answer"], s["scene_source"]) == ("absolute_distance", "2.3", "arkitscenes")
    reason = dropped("vica", obj, root, file="ViCA-322K/arkitscenes/complex/usage.json")
    assert reason.startswith("skipped type: usage")


def test_spar7m_markers_drawn_like_its_trainer(media, tmp_path):
    root = media("scannet/images/scene0000_00/image_color/10.jpg")
    obj = {
        "id": "scene0000_00_1",
        "image": ["scene0000_00/image_color/10.jpg"],
        "type": "distance_prediction_oc",
        "red_point": [[500, 500]],
        "conversations": [
            {
                "from": "human",
                "value": "How far is the chair (red point) from the camera? The unit is meter.",
            },
            {"from": "gpt", "value": "The chair is about 2.1 meters away."},
        ],
    }
    file = "spar/scannet/qa_jsonl/train/distance_prediction_oc/sentence/sentence_1.jsonl"
    records = FORMATS["spar7m"].parse(obj, file, 0)
    draft = normalise(records[0], "spar7m-1", root, False)
    assert draft.sample["subtask"] == "center_distance" and draft.sample["answer"] == "2.1"
    assert draft.sample["images"] == ["spar7m/scannet/images/scene0000_00/image_color/10.jpg"]
    assert draft.draws == [(0, "point", "red", [500.0, 500.0])]
    from io import BytesIO

    from PIL import Image

    from sources.community.markers import render

    marked = Image.open(BytesIO(render(Path(draft.sources[0]).read_bytes(), draft.draws)))
    r, g, b = marked.getpixel((100, 50))  # the disc's centre, in the image's own pixels
    assert r > 200 and g < 60 and b < 60
    assert marked.getpixel((10, 10))[0] < 120  # far from the mark: untouched grey
    obj["type"] = "spatial_imagination_map_mv"
    assert dropped("spar7m", obj, root, file).startswith("marker task not rendered")


def test_mindcube_raw_schema(media):
    root = media("images/rot_1/a.jpg", "images/rot_1/b.jpg")
    obj = {
        "id": "rotation_group1_q0",
        "category": ["rotation"],
        "type": "rotation",
        "meta_info": [],
        "question": "After turning 90 degrees right, what is in front of you? A. window B. bed C. desk",
        "images": ["images/rot_1/a.jpg", "images/rot_1/b.jpg"],
        "gt_answer": "C",
    }
    s = one("mindcube", obj, root)
    assert (s["category"], s["subtask"], s["answer"]) == ("perspective_taking", "crossview_rotation", "C")
    assert s["options"] == ["A. window", "B. bed", "C. desk"]


def test_viewspatial_choices_field_and_coco_benchmark(media):
    root = media("train2017/000000123456.jpg", "val2017/000000000285.jpg")
    obj = {
        "question_type": "Person perspective - Relative Direction",
        "image_path": ["train2017/000000123456.jpg"],
        "question": "From the perspective of the man in white, where is the dog?",
        "answer": "B. left",
        "choices": "A. front\nB. left\nC. back-right",
    }
    s = one("viewspatial", obj, root)
    assert (s["subtask"], s["answer"], s["options"][1]) == ("person_relative_direction", "B", "B. left")
    obj["image_path"] = ["val2017/000000000285.jpg"]  # one of ViewSpatial-Bench's COCO images
    assert dropped("viewspatial", obj, root).startswith("benchmark room: ViewSpatial-Bench")
    assert benchmark_file(Path("eval/ViewSpatial-Bench.json")) == "ViewSpatial-Bench"
    assert benchmark_file(Path("mvsm/train.json")) is None


def test_missing_and_unsafe_media_drop_the_record(media):
    root = media("present.jpg")
    obj = {
        "image": "absent.jpg",
        "type": "object_counting",
        "conversations": [
            {"from": "human", "value": "How many chairs are there?"},
            {"from": "gpt", "value": "3"},
        ],
    }
    assert dropped("internvl", obj, root) == "missing media: absent.jpg"
    obj["image"] = "../etc/passwd"
    assert dropped("internvl", obj, root).startswith("unsafe media path")


def test_answer_must_be_an_option(media):
    root = media("a.jpg")
    obj = {
        "image": "a.jpg",
        "type": "object_rel_distance",
        "conversations": [
            {"from": "human", "value": "Which is closest to the bed? A. chair B. desk"},
            {"from": "gpt", "value": "lamp"},
        ],
    }
    assert dropped("internvl", obj, root).startswith("answer not an option")


@pytest.mark.parametrize("row", MAP_ROWS, ids=lambda r: f"{r.dataset}:{r.type}")
def test_every_map_row_lands_where_it_says(row, tmp_path):
    """A record of each declared type comes out under the declared subtask and its category (or is skipped)."""
    from PIL import Image

    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
        Image.new("RGB", (100, 100)).save(tmp_path / name)
    dataset = (
        row.dataset if row.dataset in FORMATS else next(d for d, f in TYPE_FAMILY.items() if f == row.dataset)
    )
    box = [[100, 100, 300, 300]]
    markers = {f"{c}_{k}": (box if k == "bbox" else [[500, 500]]) for c in ("red", "blue", "green", "yellow")
               for k in ("point", "bbox")}  # fmt: skip
    markers.update(point_img_idx=[[0, 1, 2, 3]], bbox_img_idx=[[0, 1, 2, 3]])
    if row.type == "obj_spatial_relation_oo_mv":
        markers.pop("green_bbox")
    record = CommunityRecord(
        dataset=dataset,
        file="data.jsonl",
        index=0,
        original_id="1",
        question="Which one is it, looking at these views? A. first B. second",
        answer="A",
        media=["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
        qtype=row.type,
        markers=markers if dataset == "spar7m" else None,
    )
    if row.subtask is None:
        with pytest.raises(Drop, match="skipped type"):
            normalise(record, "x", tmp_path, False)
        return
    try:
        sample = normalise(record, "x", tmp_path, False).sample
    except Drop as d:
        assert d.reason.startswith("marker task not rendered"), d.reason
        return
    assert sample["subtask"] == row.subtask
    assert sample["category"] == ALL_SUBTASKS[row.subtask].category
    assert row.reason


def test_community_subtasks_are_declared_apart_from_generated_ones():
    assert not set(COMMUNITY_SUBTASKS) & set(SUBTASKS)
    assert all(s.quota == 0 for s in COMMUNITY_SUBTASKS.values())


# --- the real records in ../shared/fixtures/community (read in place) -------------------------------------


def _fixture(name: str) -> Path:
    path = COMMUNITY / name
    if not path.is_file():
        pytest.skip(f"community fixtures not found at {COMMUNITY}")
    return path


def _records(fmt: str, path: Path) -> list[CommunityRecord]:
    out = []
    for chunk in plan_chunks([path], 1 << 20, 100):
        for index, obj in iter_objects(chunk):
            out.extend(FORMATS[fmt].parse(obj, str(path), index))
    return out


def test_real_mindcube_tinybench_lines_are_perspective_taking_with_their_own_answers(media):
    path = _fixture("mindcube_tinybench_sample.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    root = media(*{ref for line in lines for ref in line["images"]})
    records = _records("mindcube", path)
    samples = [normalise(r, f"m-{i}", root, False).sample for i, r in enumerate(records)]
    assert [s["answer"] for s in samples] == [line["gt_answer"] for line in lines]
    assert {s["category"] for s in samples} == {"perspective_taking"}
    assert {s["subtask"] for s in samples} == {"crossview_among"}
    first = samples[0]
    assert first["options"] == [
        "A. TV",
        "B. Wooden dining table",
        "C. Light purple sofa",
        "D. Brown curtains and windows",
    ]
    assert (
        "Above" not in first["question"] and "<think>" not in first["question"]
    )  # the RL prompt's example is gone
    assert [len(s["images"]) for s in samples] == [len(line["images"]) for line in lines]


def test_real_spar7m_readme_record(media):
    path = _fixture("spar7m_readme_record.json")
    root = media("scene0261_00/image_color/543.jpg")
    (record,) = _records("spar7m", path)
    draft = normalise(record, "s-1", root, False)
    s = draft.sample
    assert (s["subtask"], s["answer"], s["answer_type"], s["facts"]["value"]) == (
        "point_depth",
        "1.5",
        "numeric",
        1.5,
    )
    assert (s["scene_source"], s["scene_id"]) == ("scannet", "scene0261_00")
    assert [(d[2], d[3]) for d in draft.draws] == [("red", [553.0, 397.0]), ("blue", [641.0, 838.0])]
    assert s["provenance"]["original_id"] == "scene0261_00_16"


def test_real_vica_record(media):
    path = _fixture("vica322k_record.json")
    root = media("arkitscenes/47115148.mp4")
    (record,) = _records("vica", path)
    s = normalise(record, "v-1", root, False).sample
    assert (s["subtask"], s["answer_type"], s["media_type"]) == ("triangle_geometry", "text", "video")
    assert s["answer"].startswith("The separation between stove and fireplace is 3.5 meters")
    assert (s["scene_source"], s["scene_id"]) == ("arkitscenes", "47115148")


def test_docs_list_every_map_row_and_community_subtask():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ingest.md").read_text(encoding="utf-8")
    for row in MAP_ROWS:
        assert f"| {row.dataset} | `{row.type}` |" in doc, row
    for sid in COMMUNITY_SUBTASKS:
        assert f"| `{sid}` |" in doc, sid


def test_mindcube_prompt_data_with_grounded_output(media):
    root = media("around/g1/a.jpg", "around/g1/b.jpg")
    obj = {
        "id": "around_group1_q2",
        "input_prompt": "You moved around the table. Which object was left of the vase? A. cup B. book",
        "grounded_output": "<think>The cup stood left.</think><answer>A. cup</answer>",
        "images": ["around/g1/a.jpg", "around/g1/b.jpg"],
    }
    s = one("mindcube", obj, root)
    assert (s["subtask"], s["answer"], s["reasoning"]) == ("crossview_around", "A", "The cup stood left.")


def test_internvl_type_from_the_file_name_and_tag_count_checked(media):
    root = media("a.jpg", "b.jpg")
    obj = {
        "image": ["a.jpg", "b.jpg"],
        "conversations": [
            {"from": "human", "value": "<image>\n<image>\nWhat is the size of the sofa, in centimeters?"},
            {"from": "gpt", "value": "180"},
        ],
    }
    s = one("internvl", obj, root, file="sensenova/object_size_estimation.jsonl")
    assert (s["subtask"], s["answer"]) == ("object_size", "180")
    obj["conversations"][0]["value"] = "<image>\nWhat is the size of the sofa, in centimeters?"
    reason = dropped("internvl", obj, root, file="sensenova/object_size_estimation.jsonl")
    assert reason == "media tag mismatch: 1 <image> tags for 2 images"
