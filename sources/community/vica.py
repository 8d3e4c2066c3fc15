"""ViCA-322K: LLaVA-Video json arrays `<scan dataset>/{base,complex}/<task>.json` of records `video`
(`arkitscenes/47115148.mp4`) and `conversations`; the task is the file's name (records carry no type)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sources.community.conversation import TYPE_FIELDS, conversation_records
from sources.community.record import CommunityRecord
from taxonomy.ingest_map import lookup

NAME = "vica"
SUFFIXES = (".json", ".jsonl")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    qtype = next((str(obj[f]) for f in TYPE_FIELDS if obj.get(f)), None)
    stem = Path(file).stem
    if qtype is None and lookup(NAME, stem) is not None:
        qtype = stem  # ViCA's task files are named by task; other names fall back to the question template
    return conversation_records(obj, NAME, file, index, qtype=qtype)
