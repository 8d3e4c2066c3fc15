"""The end-of-build summary of what went wrong without failing a scene: one line per kind of warning.

Scenes record `skipped_frames` (reason -> count: invalid poses, truncated streams, ...) and free-text `warnings`
in their manifest entry; a user reading the console should learn of them without opening the manifest.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from pipeline.numerics import PINNED_KERNEL

UNRECORDED_KERNEL = "a kernel not recorded (built before sicorpus recorded it)"


def _kind(warning: str) -> str:
    """The kind of a warning: its text before any detail (`: ...`), numbers generalised."""
    return re.sub(r"\d+", "N", warning.split(":", 1)[0]).strip()


def _scenes(ids: list[str], limit: int = 3) -> str:
    shown = ", ".join(ids[:limit])
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    n = len(ids)
    return f"{n} scene{'s' if n != 1 else ''}: {shown}{more}"


def warning_lines(records: list[dict[str, Any]]) -> list[str]:
    """`warning: ...` lines for the scene records of a manifest, in a stable order."""
    frames: dict[str, list[tuple[str, int]]] = defaultdict(list)
    texts: dict[str, list[str]] = defaultdict(list)
    kernels: dict[str, list[str]] = defaultdict(list)
    for record in records:
        scene = str(record.get("scene_id"))
        if record.get("status") == "ok":  # a failed or missing scene wrote no samples
            kernels[record.get("blas") or UNRECORDED_KERNEL].append(scene)
        for reason, count in sorted((record.get("skipped_frames") or {}).items()):
            if count:
                frames[reason].append((scene, int(count)))
        for text in sorted({_kind(w) for w in record.get("warnings") or []}):
            texts[text].append(scene)
    lines = []
    for reason, hits in sorted(frames.items()):
        total = sum(c for _, c in hits)
        lines.append(
            f"warning: skipped {total} frames ({reason.replace('_', ' ')}) in {_scenes([s for s, _ in hits])}"
        )
    for kind, scenes in sorted(texts.items()):
        lines.append(f"warning: {kind} in {_scenes(scenes)}")
    # more than one: e.g. cluster nodes started without the pinned OPENBLAS_CORETYPE (pipeline/numerics.py), or
    # a build resumed across the release that pinned it (its earlier scenes record no kernel); a build whose
    # every scene predates the record says nothing, as nothing is known
    if len(kernels) > 1:
        mixed = "; ".join(f"{kernel} for {_scenes(scenes)}" for kernel, scenes in sorted(kernels.items()))
        lines.append(
            f"warning: scenes were computed with {len(kernels)} BLAS kernels ({mixed}): their float facts may "
            "differ in the last bits from one machine's build; start every node with OPENBLAS_CORETYPE="
            f"{PINNED_KERNEL}"
        )
    return lines
