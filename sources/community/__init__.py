"""Community spatial-QA datasets: sources that yield QA records instead of scenes (docs/ingest.md).

One module per format (`parse(obj, file, index) -> [CommunityRecord]`); `normalise` turns a record into a
sample of our schema or a counted drop, the same way for every format.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sources.community.record import CommunityRecord, Drop


@dataclass(frozen=True)
class Format:
    name: str
    parse: Callable[[dict[str, Any], str, int], list[CommunityRecord]]
    suffixes: tuple[str, ...]


def _load() -> dict[str, Format]:
    from sources.community import internvl, llava, mindcube, sat, spar7m, vica, viewspatial, vlm3r, vsi590k

    mods = (internvl, llava, vsi590k, spar7m, mindcube, vica, vlm3r, sat, viewspatial)
    return {m.NAME: Format(m.NAME, m.parse, m.SUFFIXES) for m in mods}


FORMATS = _load()

# Files that are themselves benchmarks (their questions are the test): never training data, dropped whole.
BENCHMARK_FILES = [
    (re.compile(r"viewspatial[-_ ]?bench", re.I), "ViewSpatial-Bench"),
    (re.compile(r"vsi[-_ ]?bench", re.I), "VSI-Bench"),
    (re.compile(r"mmsi[-_ ]?bench", re.I), "MMSI-Bench"),
    (re.compile(r"spar[-_ ]?bench", re.I), "SPAR-Bench"),
    (re.compile(r"vsti[-_ ]?bench", re.I), "VSTI-Bench"),
]


def benchmark_file(path: Path) -> str | None:
    """The benchmark a file is (judged by its name), or None."""
    for pattern, name in BENCHMARK_FILES:
        if pattern.search(path.name):
            return name
    return None


def format_names() -> list[str]:
    return list(FORMATS)


__all__ = ["FORMATS", "CommunityRecord", "Drop", "Format", "benchmark_file", "format_names"]
