"""SAT (Spatial Aptitude Training) parquet: `image_bytes` (list of encoded images), `question`, `answers` (the
option texts), `question_type`, `correct_answer` (the right option's text). Images are carried in the file."""

from __future__ import annotations

from typing import Any

from sources.community.record import CommunityRecord, Drop

NAME = "sat"
SUFFIXES = (".parquet",)


def _bytes(item: Any) -> bytes:
    if isinstance(item, dict):  # datasets' Image feature: {"bytes": ..., "path": ...}
        item = item.get("bytes")
    if not isinstance(item, (bytes, bytearray)) or not item:
        raise Drop("malformed record: an image_bytes entry holds no bytes")
    return bytes(item)


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    images = obj.get("image_bytes")
    if images is None or len(images) == 0:
        raise Drop("no media: image_bytes is empty")
    answers = obj.get("answers")
    return [
        CommunityRecord(
            dataset=NAME,
            file=file,
            index=index,
            original_id=str(obj.get("id", "")),
            question=str(obj.get("question", "")),
            answer=str(obj.get("correct_answer", "")),
            options=[str(a) for a in answers] if answers is not None and len(answers) else None,
            media=[],
            embedded=[_bytes(i) for i in images],
            qtype=obj.get("question_type") or None,
        )
    ]
