"""LLaVA instruction json/jsonl: `id`, `image` (one path) or `video`, `conversations` with `<image>` tags."""

from __future__ import annotations

from typing import Any

from sources.community.conversation import conversation_records
from sources.community.record import CommunityRecord

NAME = "llava"
SUFFIXES = (".jsonl", ".json")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    return conversation_records(obj, NAME, file, index)
