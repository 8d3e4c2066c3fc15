"""One community QA record as its format module reads it, before normalisation (docs/ingest.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CommunityRecord:
    dataset: str  # format name: the corpus `source`
    file: str  # input file as given on the command line
    index: int  # record position in the file (line / row / array element), for ids and provenance
    original_id: str  # the dataset's own id ("" when it has none)
    question: str  # raw prompt text: may hold <image> tags, inline options, instructions
    answer: str  # raw answer: a letter, "A. text", a number, a sentence, <think>..</think><answer>..</answer>
    media: list[str]  # media references as written in the record (relative to --media-root)
    media_kind: str = (
        "image"  # image | video (one video file) | frames (an image list the trainer reads as video)
    )
    qtype: str | None = None  # the dataset's task / question type, when it has one
    options: list[str] | None = None  # options from a separate field (texts, with or without letters)
    markers: dict[str, Any] | None = None  # SPAR-style marker fields (red_point, red_bbox, ..., *_img_idx)
    embedded: list[bytes] = field(default_factory=list)  # images carried in the file itself (SAT parquet)
    root_hints: list[str] = field(default_factory=list)  # extra folders under --media-root to look in
    turn: int = 0  # conversation turn (multi-turn records give one record per question-answer pair)
    scan_hint: tuple[str, str] | None = (
        None  # (scan source, scene id) a record states outside its media paths
    )


class Drop(Exception):
    """A record that does not enter the corpus; `reason` is counted by its text before the first ':'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reason_key(reason: str) -> str:
    return reason.split(":", 1)[0].strip()
