"""The build configuration: the one boundary where user input becomes typed settings (pydantic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import tomllib
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sources.splits import lists_version
from taxonomy import SUBTASKS


class FramesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frame_step: int = Field(1, ge=1, description="read every k-th source frame")
    max_source_frames: int | None = Field(
        300, ge=1, description="then at most N frames uniformly (before decoding)"
    )
    max_frames: int = Field(64, ge=2, description="frames the geometry stage keeps per scene")
    video_frames: int = Field(
        16, ge=2, le=64, description="frames shown per video sample (16 default, 32 possible)"
    )


class BuildConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = "scannet"
    root: Path
    out: Path
    seed: int = 0
    split: Literal["train", "val", "test", "all"] = Field(
        "train",
        description="official split to build; train also drops benchmark rooms (docs/benchmark-hygiene.md)",
    )
    scenes: list[str] | None = None
    limit: int | None = Field(None, ge=1)
    labels: Path | None = None
    frames: FramesConfig = FramesConfig()
    quotas: dict[str, int] = Field(default_factory=dict, description="subtask -> max samples per scene")
    scene_cap: int | None = Field(None, ge=1, description="max samples per scene over all subtasks")
    device: str = "auto"
    gpu_fraction: float = Field(0.25, gt=0, le=1)
    task_memory_gb: float | None = Field(
        None,
        gt=0,
        description="memory Ray reserves per scene task (default: estimated from each mesh's size)",
    )
    retry_failed: bool = False

    @field_validator("quotas")
    @classmethod
    def _known_subtasks(cls, quotas: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(quotas) - set(SUBTASKS))
        if unknown:
            raise ValueError(f"unknown subtasks in quotas: {', '.join(unknown)}")
        return quotas

    def corpus_identity(self) -> dict[str, Any]:
        """The settings that determine the corpus bytes (a resumed build must match them)."""
        data = self.model_dump(
            mode="json", exclude={"out", "root", "retry_failed", "device", "gpu_fraction", "task_memory_gb"}
        )
        data["lists_version"] = lists_version()  # other split or benchmark lists: another corpus
        return data


def load_config_file(path: Path) -> dict[str, Any]:
    """A JSON or TOML file with BuildConfig fields (quotas, frames, scene_cap, ...)."""
    text = path.read_text()
    if path.suffix == ".toml":
        return tomllib.loads(text)
    return json.loads(text)
