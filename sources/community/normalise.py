"""One community record -> one sample of our schema (before media are placed), or a Drop with its reason.

Order of the checks (the first that fails names the drop): task type mapped, answer present, options and answer
parsed, media safe and present under --media-root, scan not in a benchmark room, markers drawable.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sources.community.markers import Draw, plan
from sources.community.record import CommunityRecord, Drop
from sources.community.scenes import benchmark_reason, scenes_of
from sources.community.text import (
    MC_INSTRUCTION,
    format_number,
    lettered,
    mc_letter,
    option_texts,
    parse_number,
    parse_options,
    split_reasoning,
    strip_media_tags,
)
from taxonomy import TAXONOMY_VERSION
from taxonomy.ingest_map import ALL_SUBTASKS, MapRow, classify_question, lookup

INGEST_VERSION = "1.0"


@dataclass
class Draft:
    """A normalised sample plus what the write stage needs: source files of its media and marks to draw."""

    sample: dict[str, Any]
    sources: list[str | None] = field(default_factory=list)  # absolute path per image (None: already placed)
    draws: list[Draw] = field(default_factory=list)

    def key(self) -> int:
        """Exact-duplicate key: same question, answer and media (and marks), as 64 bits."""
        s = self.sample
        text = "\0".join(
            [s["question"], s["answer"], *(p or r for p, r in zip(self.sources, s["images"], strict=True))]
        )
        text += "\0" + repr(self.draws)
        return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little", signed=True)


def map_type(record: CommunityRecord, question: str) -> tuple[str, MapRow]:
    if record.qtype:
        row = lookup(record.dataset, record.qtype)
        if row is None:
            raise Drop(f"unmapped type: {record.qtype}")
        return record.qtype, row
    hit = classify_question(question)
    if hit is None:
        raise Drop("no task type: the record has none and its question matches no declared template")
    row = lookup(record.dataset, hit[0]) or lookup("vsi", hit[0])
    if row is None:  # a rule naming an undeclared type is our bug
        raise AssertionError(f"question rule type {hit[0]} has no map row")
    return hit[0], row


def answer_fields(question: str, answer: str, options: Any, row: MapRow) -> dict[str, Any]:
    """question, options, answer, answer_type, value, unit in our form."""
    if options:
        stem, texts, tail = question, option_texts(options), ""
    else:
        parsed = parse_options(question)
        stem, texts, tail = parsed if parsed else (question, [], "")
    if len(texts) >= 2:
        if len({t.strip().lower() for t in texts}) != len(texts):
            raise Drop("options repeat: two options have the same text")
        letter = mc_letter(answer, texts)
        if letter is None:
            raise Drop(f"answer not an option: {answer[:60]!r}")
        options_out = lettered(texts)
        text = "\n".join([p for p in (stem, "\n".join(options_out), tail or MC_INSTRUCTION) if p])
        return {"question": text, "options": options_out, "answer": letter, "answer_type": "multiple_choice"}
    assert row.subtask is not None
    if ALL_SUBTASKS[row.subtask].answer_type == "numeric":
        value = parse_number(answer, row.unit)
        if value is not None and value >= 0:
            return {
                "question": question,
                "options": None,
                "answer": format_number(value),
                "answer_type": "numeric",
                "value": value,
                "unit": row.unit,
            }
    return {"question": question, "options": None, "answer": answer, "answer_type": "text"}


def _safe(ref: str) -> bool:
    rel = ref.replace("\\", "/")
    return bool(ref) and not rel.startswith("/") and ".." not in rel.split("/") and ":" not in rel[:3]


_RESOLVED: dict[tuple[str, str, tuple[str, ...], str], tuple[str, str] | None] = {}  # records share media


def _resolve_one(dataset: str, media_root: Path, hints: list[str], ref: str) -> tuple[str, str] | None:
    key = (dataset, str(media_root), tuple(hints), ref)
    if key not in _RESOLVED:
        if len(_RESOLVED) > 200_000:  # bounded: a chunk's working set of frames, not the dataset's
            _RESOLVED.clear()
        rel = ref.replace("\\", "/")
        _RESOLVED[key] = None
        for base in ["", *hints]:
            candidate = os.path.join(media_root, base, rel) if base else os.path.join(media_root, rel)
            if os.path.isfile(candidate):
                _RESOLVED[key] = (f"{dataset}/{base}/{rel}" if base else f"{dataset}/{rel}", candidate)
                break
    return _RESOLVED[key]


def resolve_media(record: CommunityRecord, media_root: Path) -> tuple[list[str], list[str]]:
    """(corpus refs under media/, absolute source paths) for every medium of the record."""
    refs, paths = [], []
    for ref in record.media:
        if not _safe(ref):
            raise Drop(f"unsafe media path: {ref[:80]}")
        hit = _resolve_one(record.dataset, media_root, record.root_hints, ref)
        if hit is None:
            raise Drop(f"missing media: {ref[:80]}")
        refs.append(hit[0])
        paths.append(hit[1])
    return refs, paths


def scene_fields(record: CommunityRecord, keep_benchmark: bool) -> tuple[str, str]:
    """(scan source, scene id) parsed from the media paths; a benchmark room drops the record."""
    scans = scenes_of(record.media)
    if record.scan_hint and record.scan_hint not in scans:
        scans.insert(0, record.scan_hint)
    if not keep_benchmark:
        reason = benchmark_reason(scans)
        if reason:
            raise Drop(reason)
    if scans:
        return scans[0]
    if record.media:  # no known scan: the folder of the first medium groups what was taken together
        parent = str(PurePosixPath(record.media[0].replace("\\", "/")).parent)
        return "", parent if parent not in ("", ".") else Path(record.file).stem
    return "", f"{Path(record.file).stem}-{record.index}"


def normalise(
    record: CommunityRecord, sample_id: str, media_root: Path | None, keep_benchmark: bool
) -> Draft:
    question = strip_media_tags(record.question)
    qtype, row = map_type(record, question)
    if row.subtask is None:
        raise Drop(f"skipped type: {qtype} ({row.reason})")
    answer, reasoning = split_reasoning(record.answer)
    if not answer:
        raise Drop("empty answer")
    fields = answer_fields(question, answer, record.options, row)
    scene_source, scene_id = scene_fields(record, keep_benchmark)
    if record.embedded:
        refs, sources = [], []
    else:
        if not record.media:
            raise Drop("no media: the record names no image or video")
        if media_root is None:
            raise Drop("missing media: no --media-root given")
        refs, sources = resolve_media(record, media_root)
    draws = plan(qtype, record.markers, len(refs)) if record.dataset == "spar7m" else []
    subtask = ALL_SUBTASKS[row.subtask]
    sample: dict[str, Any] = {
        "id": sample_id,
        "category": subtask.category,
        "subtask": subtask.id,
        "source": record.dataset,
        "scene_id": scene_id,
        "scene_source": scene_source,
        "question": fields["question"],
        "options": fields["options"],
        "answer": fields["answer"],
        "answer_type": fields["answer_type"],
        "images": refs,
        "media_type": "video" if record.media_kind == "video" else "image",
        "facts": {
            "objects": [],
            "frames": list(range(len(refs))),
            "value": fields.get("value"),
            "unit": fields.get("unit"),
        },
        "provenance": {
            "generator": f"ingest.{record.dataset}",
            "version": INGEST_VERSION,
            "seed": 0,
            "taxonomy_version": TAXONOMY_VERSION,
            "dataset": record.dataset,
            "file": record.file,
            "index": record.index,
            "turn": record.turn,
            "original_id": record.original_id,
            "type": qtype,
            "mapping": row.reason,
        },
    }
    if reasoning:
        sample["reasoning"] = reasoning
    return Draft(sample, sources, draws)
