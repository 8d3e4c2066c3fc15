"""VSI-590K (`vsi_590k.jsonl`): LLaVA-Video records `conversations`, `video` or `image` (sometimes `videos` /
`images` lists) and `question_type`; the scan dataset is the first component of the media path."""

from __future__ import annotations

from typing import Any

from sources.community.conversation import conversation_records
from sources.community.record import CommunityRecord

NAME = "vsi590k"
SUFFIXES = (".jsonl", ".json")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    return conversation_records(obj, NAME, file, index, qtype=obj.get("question_type") or None)
