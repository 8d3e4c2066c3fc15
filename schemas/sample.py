"""The QA sample of docs/corpus.md as a pydantic model, with the semantic checks every written sample passes."""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from taxonomy import CATEGORIES
from taxonomy.ingest_map import ALL_SUBTASKS  # generated subtasks plus those only ingested data carries

_ID = re.compile(r"^[A-Za-z0-9_\-]+$")  # webdataset keys end at the first dot: no dots, no slashes
_OPTION = re.compile(r"^([A-Z])\. \S")


class FactObject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    instance_id: int
    label: str = Field(min_length=1)
    uid: str | None = None  # the source's own object key when it is not the instance id (ARKitScenes)


class SampleFacts(BaseModel):
    model_config = ConfigDict(extra="allow")  # plus whatever the rule used (angles, per-option distances)
    objects: list[FactObject]
    frames: list[int]
    value: float | None = None
    unit: str | None = None


class Provenance(BaseModel):
    model_config = ConfigDict(extra="allow")
    generator: str
    version: str
    seed: int
    taxonomy_version: str


class Sample(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    category: str
    subtask: str
    source: str
    scene_id: str
    question: str = Field(min_length=10)
    options: list[str] | None
    answer: str = Field(min_length=1)
    answer_type: Literal["multiple_choice", "numeric", "text"]
    images: list[str] = Field(min_length=1)
    facts: SampleFacts
    provenance: Provenance

    @field_validator("id")
    @classmethod
    def _id_is_a_key(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("id must be letters, digits, '_' or '-' (no dots: it is the webdataset key)")
        return v

    @model_validator(mode="after")
    def _semantics(self) -> Sample:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")
        if self.subtask not in ALL_SUBTASKS:
            raise ValueError(f"unknown subtask {self.subtask!r}")
        if ALL_SUBTASKS[self.subtask].category != self.category:
            raise ValueError(f"subtask {self.subtask} does not belong to {self.category}")
        if len(self.facts.frames) != len(self.images):
            raise ValueError("facts.frames must list one source frame per image")
        if self.answer_type == "multiple_choice":
            self._check_options()
        else:
            if self.options is not None:
                raise ValueError(f"{self.answer_type} answers take no options")
        if self.answer_type == "numeric":
            try:
                number = float(self.answer)
            except ValueError:
                raise ValueError(f"numeric answer {self.answer!r} is not a bare number") from None
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"numeric answer {self.answer!r} is not a finite non-negative number")
            if self.facts.value is None or not math.isfinite(self.facts.value):
                raise ValueError("numeric samples carry the unrounded facts.value")
        return self

    def _check_options(self) -> None:
        if not self.options or len(self.options) < 2:
            raise ValueError("multiple choice needs at least two options")
        letters = []
        for i, opt in enumerate(self.options):
            m = _OPTION.match(opt)
            if not m:
                raise ValueError(f"option {opt!r} is not written 'A. text'")
            if m.group(1) != chr(ord("A") + i):
                raise ValueError("options must be lettered A, B, C ... in order")
            letters.append(m.group(1))
        if self.answer not in letters:
            raise ValueError(f"answer {self.answer!r} is not one of the option letters {letters}")
        texts = [o[3:].strip().lower() for o in self.options]
        if len(set(texts)) != len(texts):
            raise ValueError("options repeat the same text")


def validate_sample(
    sample: dict[str, Any],
    instance_ids: set[int] | None = None,
    media_exists: Any = None,
) -> tuple[Sample | None, str | None]:
    """Validate one sample dict. Returns (model, None) or (None, one-line reason).

    `instance_ids`: the scene's annotated instance ids (referenced objects must exist);
    `media_exists(ref) -> bool`: whether an image reference resolves under media/.
    """
    try:
        model = Sample.model_validate(sample)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return None, f"schema: {where}: {first.get('msg', '')}".strip()
    if instance_ids is not None:
        missing = [o.instance_id for o in model.facts.objects if o.instance_id not in instance_ids]
        if missing:
            return None, f"semantic: referenced instances {missing} do not exist in the scene"
    if media_exists is not None:
        absent = [ref for ref in model.images if not media_exists(ref)]
        if absent:
            return None, f"semantic: images {absent[:3]} do not exist under media/"
    return model, None
