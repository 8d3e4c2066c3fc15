"""Each export read back the way its trainer's loader reads it (the loaders' checks restated: fields, tags, files).

qwenvl: qwen-vl-finetune `_build_messages`; llamafactory: `SharegptDatasetConverter` + `_find_medias` + the
mm_plugin's tag count; swift: the standard `messages` format; llava: LLaVA-NeXT's yaml `--data_path` loader;
internvl: meta.json + `<image>`/`<video>` placeholders. VSI-Bench: lmms-eval's vsibench columns and doc_to_text.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from schemas.errors import UserError
from shards.export import export, plan_export
from shards.exports.video import frame_count
from shards.exports.vsibench import NA_POST
from shards.writer import read_shard
from taxonomy import SUBTASKS
from tests.shards.corpus_factory import Plan, build_corpus

PLAN = Plan(
    scenes=2,
    frames=5,
    per_scene={
        "relative_distance": 6,  # video, 4 options
        "allocentric_direction": 6,  # video, 4 options
        "camera_left_right": 4,  # one image
        "frame_order": 4,  # several images
        "object_size": 4,  # video, numeric
    },
)
TRAINERS = ("internvl", "llava", "qwenvl", "llamafactory", "swift")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spatial")
    build_corpus(out, PLAN)
    return out


@pytest.fixture(scope="module")
def samples(corpus: Path) -> dict[str, dict]:
    return {s["id"]: s for tar in sorted((corpus / "shards").glob("qa-*.tar")) for s in read_shard(tar)}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def is_video_sample(sample: dict) -> bool:
    return SUBTASKS[sample["subtask"]].media == "video" and len(sample["images"]) > 1


def qwen_messages(item: dict, base: Path) -> list[dict]:
    """qwen-vl-finetune's _build_messages: each <image>/<video> pops the next file; none may be left over."""
    images = item.get("image") or []
    images = [images] if isinstance(images, str) else images
    videos = item.get("video") or []
    videos = [videos] if isinstance(videos, str) else videos
    image_pool = [str((base / p).resolve()) for p in images]
    video_pool = [str((base / p).resolve()) for p in videos]
    messages = []
    for turn in item["conversations"]:
        role = "user" if turn["from"] == "human" else "assistant"
        if role == "assistant":
            messages.append({"role": role, "content": [{"type": "text", "text": turn["value"]}]})
            continue
        content = []
        for seg in re.split(r"(<image>|<video>)", turn["value"]):
            if seg == "<image>":
                content.append({"type": "image", "image": image_pool.pop(0)})  # IndexError: too many tags
            elif seg == "<video>":
                content.append({"type": "video", "video": video_pool.pop(0)})
            elif seg.strip():
                content.append({"type": "text", "text": seg.strip()})
        messages.append({"role": role, "content": content})
    assert not image_pool and not video_pool, "media left over (not consumed by placeholders)"
    return messages


@pytest.mark.parametrize("video", [None, "mp4"])
def test_qwenvl(corpus: Path, samples: dict, tmp_path: Path, video: str | None) -> None:
    counts = export(corpus, "qwenvl", tmp_path, name="spatial", video=video)
    records = lines(tmp_path / "spatial.jsonl")
    assert len(records) == counts["samples"] == len(samples)
    entry = json.loads((tmp_path / "qwenvl_data.json").read_text())["spatial"]
    assert Path(entry["annotation_path"]) == (tmp_path / "spatial.jsonl").resolve()
    for record in records:
        sample = samples[record["id"]]
        messages = qwen_messages({**record, "data_path": entry["data_path"]}, Path(entry["data_path"]))
        media = [c for c in messages[0]["content"] if c["type"] in ("image", "video")]
        assert all(os.path.isfile(c.get("image") or c.get("video")) for c in media)
        assert messages[1]["content"][0]["text"] == sample["answer"]
        if video and is_video_sample(sample):
            assert "image" not in record and len(media) == 1 and media[0]["type"] == "video"
            assert frame_count(Path(media[0]["video"])) == len(sample["images"])
        else:
            assert isinstance(record["image"], str) == (len(sample["images"]) == 1)
            assert [c["type"] for c in media] == ["image"] * len(sample["images"])
        text = " ".join(c["text"] for c in messages[0]["content"] if c["type"] == "text")
        assert text == sample["question"].strip()


@pytest.mark.parametrize("video", [None, "mp4"])
def test_llamafactory(corpus: Path, samples: dict, tmp_path: Path, video: str | None) -> None:
    export(corpus, "llamafactory", tmp_path, name="spatial", video=video)
    info = json.loads((tmp_path / "dataset_info.json").read_text())["spatial"]
    assert info["formatting"] == "sharegpt"
    columns, tags = info["columns"], info["tags"]
    records = lines(tmp_path / info["file_name"])
    has_videos = any("videos" in r for r in records)
    assert ("videos" in columns) == has_videos and "images" in columns
    for record in records:
        example = {key: record.get(key) for key in columns.values()}  # the json loader fills missing keys
        messages = example[columns["messages"]]
        odd, even = (tags["user_tag"],), (tags["assistant_tag"],)
        assert all(m[tags["role_tag"]] in (odd, even)[i % 2] for i, m in enumerate(messages))
        assert len(messages) % 2 == 0
        images = example.get(columns["images"]) or []
        videos = example.get(columns.get("videos", "videos")) or []
        for media in images + videos:  # _find_medias: joined to media_dir (= dataset_dir)
            assert os.path.isfile(os.path.join(tmp_path, media))
        prompt = messages[0][tags["content_tag"]]
        assert prompt.count("<image>") == len(images) and prompt.count("<video>") == len(videos)
        sample = samples[record["id"]]
        assert len(images) + len(videos) * len(sample["images"]) == len(sample["images"])
        assert messages[1][tags["content_tag"]] == sample["answer"]


def test_swift(corpus: Path, samples: dict, tmp_path: Path) -> None:
    export(corpus, "swift", tmp_path, name="spatial", video="mp4")
    for record in lines(tmp_path / "spatial.jsonl"):
        roles = [m["role"] for m in record["messages"]]
        assert roles == ["user", "assistant"]
        images, videos = record.get("images", []), record.get("videos", [])
        content = record["messages"][0]["content"]
        assert content.count("<image>") == len(images) and content.count("<video>") == len(videos)
        assert all(
            (tmp_path / p).is_file() for p in images + videos
        )  # relative to DEST, the working directory
        assert record["messages"][1]["content"] == samples[record["id"]]["answer"]


def test_llava_onevision_yaml(corpus: Path, samples: dict, tmp_path: Path) -> None:
    export(corpus, "llava", tmp_path, name="spatial", video="mp4")
    data = yaml.safe_load((tmp_path / "spatial.yaml").read_text())
    (dataset,) = data["datasets"]
    assert dataset["sampling_strategy"] == "all" and dataset["json_path"].endswith(".jsonl")
    with open(dataset["json_path"]) as f:  # LLaVA-NeXT reads a .jsonl json_path line by line
        records = [json.loads(line.strip()) for line in f]
    assert len(records) == len(samples)
    for record in records:
        human, gpt = record["conversations"]
        if "video" in record:  # LLaVA-NeXT video: `video` under --video_folder, one <image> token
            assert (tmp_path / record["video"]).is_file() and human["value"].count("<image>") == 1
        else:
            images = [record["image"]] if isinstance(record["image"], str) else record["image"]
            assert human["value"].count("<image>") == len(images)
            assert all((tmp_path / p).is_file() for p in images)  # under --image_folder DEST
        assert gpt["value"] == samples[record["id"]]["answer"]


def test_internvl_video(corpus: Path, samples: dict, tmp_path: Path) -> None:
    counts = export(corpus, "internvl", tmp_path, name="spatial", video="mp4")
    meta = json.loads((tmp_path / "meta.json").read_text())["spatial"]
    records = lines(Path(meta["annotation"]))
    assert meta["length"] == len(records) == len(samples)
    videos = [r for r in records if "video" in r]
    assert len(videos) == counts["video_records"] == sum(is_video_sample(s) for s in samples.values())
    for record in videos:
        assert record["conversations"][0]["value"].startswith("<video>\n")
        assert "<image>" not in record["conversations"][0]["value"]
        assert (Path(meta["root"]) / record["video"]).is_file()
    # frames of video samples are not placed as images unless an image record uses them
    used = {p for r in records for p in r.get("image", [])}
    placed = {p.relative_to(tmp_path).as_posix() for p in (tmp_path / "images").rglob("*.jpg")}
    assert placed == used


def test_plan_matches_the_export(corpus: Path, tmp_path: Path) -> None:
    plan = plan_export(corpus, video="mp4")
    counts = export(corpus, "swift", tmp_path, video="mp4")
    assert plan == {
        "samples": counts["samples"],
        "frames": counts["images"],
        "videos": counts["video_records"],
    }


def test_every_format_is_deterministic(corpus: Path, tmp_path: Path) -> None:
    for fmt in TRAINERS:
        export(corpus, fmt, tmp_path / "a", name=fmt, video="mp4")
        export(corpus, fmt, tmp_path / "b", name=fmt, video="mp4")
        a, b = (tmp_path / "a" / f"{fmt}.jsonl").read_text(), (tmp_path / "b" / f"{fmt}.jsonl").read_text()
        assert a == b and a.count("\n") == 48
    videos = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "videos").rglob("*.mp4"))
    assert videos and all(
        (tmp_path / "a" / v).read_bytes() == (tmp_path / "b" / v).read_bytes() for v in videos
    )


def test_split_keeps_only_that_split(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sources.splits

    monkeypatch.setattr(
        sources.splits, "official_split", lambda source, scene: "val" if scene.endswith("1_00") else "train"
    )
    counts = export(corpus, "swift", tmp_path, name="val", split="val")
    records = lines(tmp_path / "val.jsonl")
    assert counts["samples"] == len(records) == 24 and all("scene0001_00" in r["id"] for r in records)
    with pytest.raises(UserError, match="unknown split"):
        export(corpus, "swift", tmp_path, split="holdout")


def test_vsibench(corpus: Path, samples: dict, tmp_path: Path) -> None:
    counts = export(corpus, "vsibench", tmp_path)
    table = pq.read_table(tmp_path / "vsibench.parquet")
    expected = {
        "id": pa.int64(),
        "dataset": pa.string(),
        "scene_name": pa.string(),
        "question_type": pa.string(),
        "question": pa.string(),
        "options": pa.list_(pa.string()),
        "ground_truth": pa.string(),
    }
    assert {f.name: f.type for f in table.schema if f.name in expected} == expected
    rows = table.to_pylist()
    kept = [
        s
        for s in samples.values()
        if s["subtask"] in ("relative_distance", "allocentric_direction", "object_size")
    ]
    assert len(rows) == counts["samples"] == len(kept) and [r["id"] for r in rows] == list(range(len(rows)))
    types = {"relative_distance": "object_rel_distance", "allocentric_direction": "object_rel_direction_hard"}
    types["object_size"] = "object_size_estimation"
    for row in rows:
        sample = samples[row["sample_id"]]
        assert row["ground_truth"] == sample["answer"] and row["dataset"] == sample["source"]
        assert row["question_type"] == types[sample["subtask"]]
        assert row["scene_name"].startswith(sample["scene_id"])
        # lmms-eval's vsibench_doc_to_text rebuilds the prompt from these columns
        if row["options"] is None:
            assert sample["options"] is None
            assert row["question"] + "\n" + NA_POST == sample["question"]
        else:
            assert row["options"] == sample["options"]
            rebuilt = "\n".join(
                [
                    row["question"],
                    *row["options"],
                    "Answer with the option's letter from the given choices directly.",
                ]
            )
            assert rebuilt == sample["question"]
        video = tmp_path / "hf" / "vsibench" / row["dataset"] / f"{row['scene_name']}.mp4"
        assert video.is_file() and frame_count(video) == len(sample["images"])
    task = yaml.safe_load(Path(counts["yaml"]).read_text())
    assert task["include"] == "_default_template_yaml" and task["test_split"] == "test"
    assert task["dataset_path"] == "parquet"
    assert Path(task["dataset_kwargs"]["data_files"]["test"]) == (tmp_path / "vsibench.parquet").resolve()
    assert "video" not in task["dataset_kwargs"]  # no download of the real benchmark


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "sharegpt"], "unknown export format 'sharegpt'"),
        (["--video", "avi"], "unknown video encoding"),
    ],
)
def test_cli_mistakes_are_one_error_line(corpus: Path, tmp_path: Path, args: list[str], message: str) -> None:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "export", str(corpus), "--dest", str(tmp_path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2 and result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
