"""ViCA-322K: LLaVA-Video json arrays `<scan dataset>/{base,complex}/<task>.json` of records `video`
(`arkitscenes/47115148.mp4`) and `conversations`; the task is the file's name (records carry no type), else the
question's template."""

from __future__ import annotations

from typing import Any

from sources.community.conversation import conversation_records
from sources.community.record import CommunityRecord

NAME = "vica"
SUFFIXES = (".json", ".jsonl")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    return conversation_records(obj, NAME, file, index)
