"""Records in the InternVL / LLaVA conversation layout (`conversations` of {from, value}), shared by several
formats: one CommunityRecord per human question and the model answer that follows it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sources.community.record import CommunityRecord, Drop
from taxonomy.ingest_map import lookup

TYPE_FIELDS = ("question_type", "type", "task_type", "task")


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def media_of(obj: dict[str, Any]) -> tuple[list[str], str]:
    """(media references, kind): `image`/`images` (a string or a list), else `video`/`videos`."""
    images = _as_list(obj.get("image")) + _as_list(obj.get("images"))
    if images:
        return images, "image"
    videos = _as_list(obj.get("video")) + _as_list(obj.get("videos"))
    if len(videos) > 1:
        raise Drop(f"several videos: {len(videos)} in one record")
    return videos, "video"


def _turns(conv: Any) -> list[tuple[str, str]]:
    if not isinstance(conv, list):
        raise Drop("malformed record: no conversations list")
    turns = []
    for turn in conv:
        if not isinstance(turn, dict):
            raise Drop("malformed record: a conversation turn is not an object")
        who = str(turn.get("from", turn.get("role", ""))).lower()
        text = turn.get("value", turn.get("content", ""))
        turns.append(("human" if who in ("human", "user") else "gpt", str(text)))
    pairs = []
    for i in range(len(turns) - 1):
        if turns[i][0] == "human" and turns[i + 1][0] == "gpt":
            pairs.append((turns[i][1], turns[i + 1][1]))
    if not pairs:
        raise Drop("malformed record: no question followed by an answer")
    return pairs


_IMAGE_TAG = re.compile(r"<image>")


def type_from_path(dataset: str, file: str) -> str | None:
    """Sets organised one file (or folder) per task name it in the path: `.../object_abs_distance.json`,
    `.../<task>/select/select_100.jsonl`. Only a declared type counts."""
    path = Path(file)
    for name in (path.stem, path.parent.name, path.parent.parent.name):
        if name and lookup(dataset, name) is not None:
            return name
    return None


def conversation_records(
    obj: dict[str, Any], dataset: str, file: str, index: int, qtype: str | None = None
) -> list[CommunityRecord]:
    media, kind = media_of(obj)
    if qtype is None:
        qtype = next((str(obj[f]) for f in TYPE_FIELDS if obj.get(f)), None) or type_from_path(dataset, file)
    pairs = _turns(obj.get("conversations", obj.get("conversation")))
    tags = sum(len(_IMAGE_TAG.findall(q)) for q, _ in pairs)
    if kind == "image" and tags and tags != len(media):
        raise Drop(f"media tag mismatch: {tags} <image> tags for {len(media)} images")
    return [
        CommunityRecord(
            dataset=dataset,
            file=file,
            index=index,
            original_id=str(obj.get("id", "")),
            question=question,
            answer=answer,
            media=media,
            media_kind=kind,
            qtype=qtype,
            turn=turn,
        )
        for turn, (question, answer) in enumerate(pairs)
    ]
