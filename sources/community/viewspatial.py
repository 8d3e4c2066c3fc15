"""ViewSpatial's schema, shared by its training set (MVSM) and its benchmark: `question_type`, `image_path` (list),
`question`, `answer` ("A. right"), `choices` ("A. ...\nB. ..."). The benchmark's own file
(`ViewSpatial-Bench.json`) is recognised by name and dropped whole; its records name ScanNet val scans and
COCO val2017 images of the benchmark lists, so they would be dropped one by one as well."""

from __future__ import annotations

from typing import Any

from sources.community.record import CommunityRecord, Drop

NAME = "viewspatial"
SUFFIXES = (".json", ".jsonl")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    images = obj.get("image_path") or obj.get("images") or []
    if isinstance(images, str):
        images = [images]
    if "question" not in obj or "answer" not in obj:
        raise Drop("malformed record: no question or answer")
    return [
        CommunityRecord(
            dataset=NAME,
            file=file,
            index=index,
            original_id=str(obj.get("id", "")),
            question=str(obj["question"]),
            answer=str(obj["answer"]),
            options=obj.get("choices") or None,
            media=[str(i) for i in images],
            qtype=obj.get("question_type") or None,
        )
    ]
