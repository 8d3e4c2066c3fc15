"""ScanNet++ labels onto the names our questions use.

ScanNet++ labels are free-form lower-case English typed by annotators (~1.5k distinct), the same kind of
text as ScanNet's `raw_category`, so a ScanNet-style label map (`--labels FILE`, or ROOT/scannetv2-labels.combined.tsv
when present) maps them onto its `category`; without a map, or for a label the map lacks, the label is kept as
typed (case and spacing folded), like ScanNet's unknown labels.
"""

from __future__ import annotations

from pathlib import Path

from sources.scannet.labels import LabelMap, load_label_map
from sources.scene import SceneError

DEFAULT_MAP = "scannetv2-labels.combined.tsv"


def label_map_for(root: Path, labels: Path | None) -> LabelMap | None:
    path = Path(labels) if labels is not None else Path(root) / DEFAULT_MAP
    if labels is None and not path.is_file():
        return None
    try:
        return load_label_map(path)
    except FileNotFoundError as exc:
        raise SceneError(f"label map not found: {path}") from exc
    except ValueError as exc:
        raise SceneError(f"label map unreadable: {exc}") from exc


def fold(label: str) -> str:
    return " ".join(str(label).strip().lower().split())


def map_label(raw: str, labels: LabelMap | None) -> tuple[str, str] | None:
    """(category, nyu40class) or None when unknown (the caller keeps the folded raw label)."""
    return None if labels is None else labels.lookup(raw)
