"""The ScanNet label map (scannetv2-labels.combined.tsv), read tolerantly and keyed by `raw_category`.

The tsv's `id` column is not unique (pillow/pillows share 13): a dictionary keyed by id silently drops objects,
so every lookup goes through the raw label the annotator typed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class LabelEntry:
    category: str
    nyu40class: str
    nyu40id: int | None


@dataclass
class LabelMap:
    entries: dict[str, LabelEntry] = field(default_factory=dict)  # raw_category -> entry
    _folded: dict[str, LabelEntry] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for raw, entry in self.entries.items():
            self._folded.setdefault(_fold(raw), entry)

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, raw: str) -> LabelEntry | None:
        found = self.entries.get(raw)
        return found if found is not None else self._folded.get(_fold(raw))

    def lookup(self, raw: str) -> tuple[str, str] | None:
        """(category, nyu40class) for an annotation label, or None when the label is not in the map."""
        found = self.entry(raw)
        return None if found is None else (found.category, found.nyu40class)


def _fold(label: str) -> str:
    # Annotators' spelling varies in case and spacing only; anything else is a genuinely different label.
    return " ".join(label.strip().lower().split())


def load_label_map(path: Path) -> LabelMap:
    """Read the tsv; short rows are padded, rows without raw_category skipped, the first row for a label wins."""
    path = Path(path)
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows:
        raise ValueError(f"label map {path} is empty")
    header = [name.strip() for name in rows[0]]
    if "raw_category" not in header:
        raise ValueError(f"label map {path} has no raw_category column")
    column = {name: i for i, name in enumerate(header)}

    def cell(row: list[str], name: str) -> str:
        i = column.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    entries: dict[str, LabelEntry] = {}
    for row in rows[1:]:
        raw = cell(row, "raw_category")
        if not raw or raw in entries:
            continue
        nyu40id = cell(row, "nyu40id")
        entries[raw] = LabelEntry(
            category=cell(row, "category") or raw,
            nyu40class=cell(row, "nyu40class"),
            nyu40id=int(nyu40id) if nyu40id.isdigit() else None,
        )
    return LabelMap(entries)
