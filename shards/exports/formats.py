"""One JSONL record per sample, written the way each trainer's own loader reads it (docs/mix-export.md).

Every record carries one `<image>` tag per image, in order, before the question (or one `<video>` tag for a sample
exported as a video); paths are relative to DEST. The side files (meta.json, a LLaVA-OneVision data yaml,
dataset_info.json, a Qwen data_list entry) point the trainer at the JSONL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shards.atomic import atomic_write

IMAGE_TOKEN = "<image>"
VIDEO_TOKEN = "<video>"


def human_text(
    sample: dict[str, Any], images: list[str], video: str | None, video_token: str = VIDEO_TOKEN
) -> str:
    if video is not None:
        return f"{video_token}\n" + sample["question"]
    return "".join(f"{IMAGE_TOKEN}\n" for _ in images) + sample["question"]


def _sharegpt(
    sample: dict[str, Any], images: list[str], video: str | None, video_token: str = VIDEO_TOKEN
) -> list:
    return [
        {"from": "human", "value": human_text(sample, images, video, video_token)},
        {"from": "gpt", "value": sample["answer"]},
    ]


def internvl(sample: dict[str, Any], images: list[str], video: str | None) -> dict[str, Any]:
    """InternVL chat fine-tuning: `image` list; a video sample has `video` and a `<video>` tag, which the loader
    replaces by one `Frame-i: <image>` line per sampled frame."""
    record: dict[str, Any] = {"id": sample["id"]}
    if video is not None:
        record["video"] = video
    else:
        record["image"] = images
    record["conversations"] = _sharegpt(sample, images, video)
    return record


def llava(sample: dict[str, Any], images: list[str], video: str | None) -> dict[str, Any]:
    """LLaVA-NeXT / OneVision: `image` a string for one image, a list for several; a video sample has `video` and
    one `<image>` tag (LLaVA-NeXT marks video with the image token)."""
    record: dict[str, Any] = {"id": sample["id"]}
    if video is not None:
        record["video"] = video
    else:
        record["image"] = images[0] if len(images) == 1 else images
    record["conversations"] = _sharegpt(sample, images, video, video_token=IMAGE_TOKEN)
    return record


def qwenvl(sample: dict[str, Any], images: list[str], video: str | None) -> dict[str, Any]:
    """Qwen2.5-VL / Qwen3-VL qwen-vl-finetune: `image` (string or list) or `video`, `conversations`; its
    `_build_messages` pops one image per `<image>` and one video per `<video>` and rejects any left over."""
    record: dict[str, Any] = {"id": sample["id"]}
    if video is not None:
        record["video"] = video
    else:
        record["image"] = images[0] if len(images) == 1 else images
    record["conversations"] = _sharegpt(sample, images, video)
    return record


def _messages(sample: dict[str, Any], images: list[str], video: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": sample["id"],
        "messages": [
            {"role": "user", "content": human_text(sample, images, video)},
            {"role": "assistant", "content": sample["answer"]},
        ],
    }
    if video is not None:
        record["videos"] = [video]
    else:
        record["images"] = images
    return record


def llamafactory(sample: dict[str, Any], images: list[str], video: str | None) -> dict[str, Any]:
    """LLaMA-Factory sharegpt with the role/content tags of dataset_info.json; `images` / `videos` columns."""
    return _messages(sample, images, video)


def swift(sample: dict[str, Any], images: list[str], video: str | None) -> dict[str, Any]:
    """ms-swift standard format: `messages` (role/content), `images` / `videos`, `<image>` / `<video>` tags."""
    return _messages(sample, images, video)


# ------------------------------------------------------------------------------------------------ side files


def internvl_meta(dest: Path, name: str, jsonl: Path, counts: dict[str, Any]) -> list[Path]:
    """InternVL's meta file: one entry per dataset, image paths relative to `root`."""
    meta = {
        name: {
            "root": str(dest.resolve()),
            "annotation": str(jsonl.resolve()),
            "data_augment": False,
            "repeat_time": 1,
            "length": counts["samples"],
        }
    }
    atomic_write(dest / "meta.json", json.dumps(meta, indent=1).encode())
    return [dest / "meta.json"]


def llava_yaml(dest: Path, name: str, jsonl: Path, counts: dict[str, Any]) -> list[Path]:
    """LLaVA-OneVision `--data_path` yaml (`datasets: - json_path, sampling_strategy`); `--image_folder DEST`."""
    text = f'datasets:\n  - json_path: "{jsonl.resolve()}"\n    sampling_strategy: "all"\n'
    atomic_write(dest / f"{name}.yaml", text.encode())
    return [dest / f"{name}.yaml"]


def qwenvl_entry(dest: Path, name: str, jsonl: Path, counts: dict[str, Any]) -> list[Path]:
    """The entry qwen-vl-finetune's `qwenvl/data/__init__.py` data_dict takes (media joined to data_path)."""
    entry = {name: {"annotation_path": str(jsonl.resolve()), "data_path": str(dest.resolve())}}
    atomic_write(dest / "qwenvl_data.json", json.dumps(entry, indent=1).encode())
    return [dest / "qwenvl_data.json"]


def llamafactory_info(dest: Path, name: str, jsonl: Path, counts: dict[str, Any]) -> list[Path]:
    """dataset_info.json beside the JSONL: `--dataset_dir DEST` (media_dir defaults to it) `--dataset NAME`."""
    info = {
        name: {
            "file_name": jsonl.name,
            "formatting": "sharegpt",
            # a column the loader is told about must exist in the file: name only those some record has
            "columns": {"messages": "messages"}
            | ({"images": "images"} if counts["samples"] > counts["videos"] else {})
            | ({"videos": "videos"} if counts["videos"] else {}),
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
            },
        }
    }
    atomic_write(dest / "dataset_info.json", json.dumps(info, indent=1).encode())
    return [dest / "dataset_info.json"]


def no_side_file(dest: Path, name: str, jsonl: Path, counts: dict[str, Any]) -> list[Path]:
    return []  # ms-swift: `--dataset DEST/NAME.jsonl`, run from DEST (relative paths resolve against the cwd)


@dataclass(frozen=True)
class Format:
    record: Callable[[dict[str, Any], list[str], str | None], dict[str, Any]]
    side_files: Callable[[Path, str, Path, dict[str, Any]], list[Path]]


FORMATS: dict[str, Format] = {
    "internvl": Format(internvl, internvl_meta),
    "llava": Format(llava, llava_yaml),
    "qwenvl": Format(qwenvl, qwenvl_entry),
    "llamafactory": Format(llamafactory, llamafactory_info),
    "swift": Format(swift, no_side_file),
}
