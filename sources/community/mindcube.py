"""MindCube, in both layouts its authors publish:
- raw: `id, category, type, meta_info, question, images, gt_answer` (options inline in `question`);
- prompt data (its `scripts/generate_prompts.py`): `id, input_prompt, grounded_output, images`;
- RL-formatted (VAGEN's crossview env): `id, setting_tag, images, gt_answer, question_str`, where `question_str`
  is `<image>` tags + a [Task] prompt + an [Answer Instruction] (with an example option list of its own) +
  the [Question] with inline options `A. ... B. ...`.
The setting (among / around / rotation) comes from `setting_tag`, else the id prefix, else `category`/`type`."""

from __future__ import annotations

import re
from typing import Any

from sources.community.record import CommunityRecord, Drop

NAME = "mindcube"
SUFFIXES = (".jsonl", ".json")
_SETTINGS = ("among", "around", "rotation")
_QUESTION_SECTION = re.compile(r"\[Question\]\s*(.*)$", re.S)


def _setting(obj: dict[str, Any]) -> str | None:
    tag = str(obj.get("setting_tag") or "").lower()
    if tag in _SETTINGS:
        return tag
    prefix = str(obj.get("id", "")).split("_", 1)[0].lower()
    if prefix in _SETTINGS:
        return prefix
    for field in ("category", "type"):
        value = obj.get(field)
        values = value if isinstance(value, list) else [value]
        for v in values:
            for s in _SETTINGS:
                if s in str(v).lower():
                    return s
    return None


def question_text(obj: dict[str, Any]) -> str:
    """The question with its inline options; the RL prompt's task text and answer-format example dropped."""
    text = obj.get("question_str") or obj.get("question") or obj.get("input_prompt") or ""
    section = _QUESTION_SECTION.search(text)
    return section.group(1).strip() if section else str(text)


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    images = obj.get("images") or []
    if isinstance(images, str):
        images = [images]
    answer = next(
        (obj[k] for k in ("gt_answer", "answer", "grounded_output") if obj.get(k) is not None), None
    )
    if answer is None:
        raise Drop("malformed record: no gt_answer")
    return [
        CommunityRecord(
            dataset=NAME,
            file=file,
            index=index,
            original_id=str(obj.get("id", "")),
            question=question_text(obj),
            answer=str(answer),
            media=[str(i) for i in images],
            qtype=_setting(obj),
        )
    ]
