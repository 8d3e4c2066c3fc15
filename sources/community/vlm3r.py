"""VLM-3R training data: `id` (uuid), `data_source`, `scene_name`, `question_type`, `video`, `conversations`.
`data_source` + `scene_name` name the scan when the video path does not."""

from __future__ import annotations

from typing import Any

from sources.community.conversation import conversation_records
from sources.community.record import CommunityRecord

NAME = "vlm3r"
SUFFIXES = (".jsonl", ".json")
_SOURCES = {
    "scannet": "scannet",
    "scannetpp": "scannetpp",
    "scannet++": "scannetpp",
    "arkitscenes": "arkitscenes",
}


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    records = conversation_records(obj, NAME, file, index, qtype=obj.get("question_type") or None)
    source = _SOURCES.get(str(obj.get("data_source", "")).lower())
    if source and obj.get("scene_name"):
        for r in records:
            r.scan_hint = (source, str(obj["scene_name"]))
    return records
