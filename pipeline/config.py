"""The build configuration: the one boundary where user input becomes typed settings (pydantic).

One rule merges the sources of a setting (docs/boundaries.md): the command-line value when one was given, else
the config file's, else the default. Every value is then checked for its type and range; numbers are strict
(TOML's `scene_cap = true` is not 1), and a bad value is a `UserError` naming the setting and where it came from.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
)

from schemas.errors import UserError
from sources.splits import lists_version
from taxonomy import SUBTASKS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as the `tomli` package
    import tomli as tomllib

Device = Literal["auto", "cpu", "cuda"]
Number = StrictFloat  # strict still takes 1 as 1.0; never true or "1"


class FramesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    frame_step: StrictInt = Field(1, ge=1, description="read every k-th source frame")
    max_source_frames: StrictInt | None = Field(
        300, ge=1, description="then at most N frames uniformly (before decoding)"
    )
    max_frames: StrictInt = Field(64, ge=2, description="frames the geometry stage keeps per scene")
    video_frames: StrictInt = Field(
        16, ge=2, le=32, description="frames shown per video sample (16 default; lmms-eval and EASI give 32)"
    )


class BuildConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = "scannet"
    root: Path
    out: Path
    seed: StrictInt = Field(0, ge=0)
    split: Literal["train", "val", "test", "all"] = Field(
        "train",
        description="official split to build; train also drops benchmark rooms (docs/benchmark-hygiene.md)",
    )
    scenes: list[str] | None = Field(None, min_length=1)
    limit: StrictInt | None = Field(None, ge=1, description="only the first N scenes (sorted)")
    labels: Path | None = None
    frames: FramesConfig = FramesConfig()
    quotas: dict[str, Annotated[StrictInt, Field(ge=0)]] = Field(
        default_factory=dict, description="subtask -> max samples per scene"
    )
    scene_cap: StrictInt | None = Field(None, ge=1, description="max samples per scene over all subtasks")
    device: Device = "auto"
    gpu_fraction: Number = Field(0.25, gt=0, le=1)
    task_memory_gb: Number | None = Field(
        None,
        gt=0,
        description="memory Ray reserves per scene task (default: estimated from each mesh's size)",
    )
    workers: StrictInt | None = Field(None, ge=1, description="scenes in flight (default: all cores)")
    address: str | None = Field(None, min_length=1, description="Ray cluster to join")
    retry_failed: StrictBool = False

    @field_validator("source")
    @classmethod
    def _known_source(cls, name: str) -> str:
        from sources import source_names

        if name not in source_names():
            raise ValueError(f"unknown source {name!r}; known: {', '.join(source_names())}")
        return name

    @field_validator("quotas")
    @classmethod
    def _known_subtasks(cls, quotas: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(quotas) - set(SUBTASKS))
        if unknown:
            raise ValueError(f"unknown subtasks in quotas: {', '.join(unknown)}")
        return quotas

    def corpus_identity(self) -> dict[str, Any]:
        """The settings that determine the corpus bytes (a resumed build must match them)."""
        run_only = {
            "out",
            "root",
            "retry_failed",
            "device",
            "gpu_fraction",
            "task_memory_gb",
            "workers",
            "address",
        }
        data = self.model_dump(mode="json", exclude=run_only)
        data["lists_version"] = lists_version()  # other split or benchmark lists: another corpus
        return data


def load_config_file(path: Path) -> dict[str, Any]:
    """A JSON or TOML file with BuildConfig fields (quotas, frames, scene_cap, ...)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(
            f"config {path}: cannot read it ({e.strerror if isinstance(e, OSError) else e})"
        ) from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise UserError(
            f"config {path}: not valid {path.suffix.lstrip('.').upper() or 'JSON'} ({e})"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"config {path}: expected a table of settings at the top level")
    return data


def validated(model: type[BaseModel], fields: dict[str, Any], given: dict[str, str] | None = None) -> Any:
    """`model` from `fields`, or a UserError on the first bad value; `given` names where each top-level
    setting came from (e.g. {"workers": "--workers"}), for the message."""
    try:
        return model.model_validate(fields)
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(map(str, first["loc"])) or "config"
        origin = (given or {}).get(str(first["loc"][0]) if first["loc"] else "", "")
        value = f" = {first['input']!r}" if first["type"] != "missing" and first["loc"] else ""
        where = f" (from {origin})" if origin else ""
        if first["type"] == "missing":
            raise UserError(f"setting {loc} is required (a command-line flag or a key in --config)") from None
        message = first["msg"].removeprefix("Value error, ")
        raise UserError(f"setting {loc}{value}{where}: {message}") from None


def merge_settings(
    cli: dict[str, Any], config_file: Path | None = None, flag_names: dict[str, str] | None = None
) -> BuildConfig:
    """The one merge rule: a command-line value when given (not None), else the config file's, else the default."""
    fields: dict[str, Any] = load_config_file(config_file) if config_file else {}
    given = {key: str(config_file) for key in fields}
    for key, value in cli.items():
        if value is not None:
            fields[key] = value
            given[key] = (flag_names or {}).get(key, f"--{key.replace('_', '-')}")
    return validated(BuildConfig, fields, given)
