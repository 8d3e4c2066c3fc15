"""SPAR-7M: `spar/<dataset>/qa_jsonl/{train,val}/<task>/{fill,select,sentence}/<fmt>_<N>.jsonl`, InternVL records
(`id`, `image` list, `conversations`) plus `type` and marker fields (`red_point`, `red_bbox`, `point_img_idx`, ...)
drawn on the images at training time; images live under `spar/<dataset>/images/`."""

from __future__ import annotations

import re
from typing import Any

from sources.community.conversation import conversation_records
from sources.community.record import CommunityRecord

NAME = "spar7m"
SUFFIXES = (".jsonl", ".json")
MARKER_FIELDS = re.compile(r"^(red|blue|green|yellow)_(point|bbox)$|^(point|bbox)_(img_idx|list)$")
_DATASET_DIR = re.compile(r"(?:^|/)([A-Za-z0-9_+-]+)/qa_jsonl/")


def parse(obj: dict[str, Any], file: str, index: int) -> list[CommunityRecord]:
    records = conversation_records(obj, NAME, file, index, qtype=obj.get("type") or None)
    markers = {k: v for k, v in obj.items() if MARKER_FIELDS.match(k)}
    m = _DATASET_DIR.search(file.replace("\\", "/"))
    hints = [f"{m.group(1)}/images", f"spar/{m.group(1)}/images"] if m else []
    for r in records:
        r.markers = markers or None
        r.root_hints = hints
        if len(r.media) > 10 and r.media_kind == "image":
            r.media_kind = "frames"  # SPAR's trainer reads more than 10 images as a video
    return records
