"""InternVL / SenseNova-SI-style jsonl: `id`, `image` (a list, sometimes a plain string) or `video`,
`conversations`; a task type when the record carries one (`type`, `question_type`), else the question's template."""

from __future__ import annotations

from typing import Any

from sources.community.conversation import conversation_records
from sources.community.record import CommunityRecord

NAME = "internvl"
SUFFIXES = (".jsonl", ".json")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    return conversation_records(obj, NAME, file, index)
