"""Which scan a community record shows, parsed from its media paths, and whether a benchmark uses that room.

ScanNet `sceneRRRR_SS` anywhere in a path; ARKitScenes 8-digit video ids under a folder naming the dataset (or
known to its vendored lists); ScanNet++ 10-hex scene ids under a `scannetpp` folder or known to its lists; COCO
12-digit image ids (ViewSpatial-Bench evaluates on 1,059 val2017 images). Rooms are judged by `sources.splits`.
"""

from __future__ import annotations

import re
from functools import cache

from sources.splits import UNLISTED, benchmark_overlap, official_split

_SCANNET = re.compile(r"(?<![0-9A-Za-z])(scene\d{4}_\d{2})(?![0-9])")
_ARKIT = re.compile(r"(?<![0-9])(\d{8})(?![0-9])")
_SCANNETPP = re.compile(r"(?<![0-9a-f])([0-9a-f]{10})(?![0-9a-f])")
_COCO = re.compile(r"(?:^|[/_])(\d{12})\.(?:jpg|jpeg|png)$", re.I)


@cache
def _arkit_known(video: str) -> bool:
    return official_split("arkitscenes", video) != UNLISTED or bool(benchmark_overlap("arkitscenes", video))


@cache
def _scannetpp_known(scene: str) -> bool:
    return official_split("scannetpp", scene) != UNLISTED or bool(benchmark_overlap("scannetpp", scene))


def scene_of(ref: str) -> tuple[str, str] | None:
    """(scan source, scene id) named by one media path, or None."""
    low = ref.lower()
    m = _SCANNET.search(ref)
    if m and "scannetpp" not in low and "scannet++" not in low:
        return "scannet", m.group(1)
    if "arkit" in low:
        m = _ARKIT.search(ref)
        if m:
            return "arkitscenes", m.group(1)
    for m in _SCANNETPP.finditer(low):
        if "scannetpp" in low or "scannet++" in low or _scannetpp_known(m.group(1)):
            return "scannetpp", m.group(1)
    m = _COCO.search(ref)
    if m and ("coco" in low or "2017" in low or "2014" in low):
        return "coco", m.group(1)
    for m in _ARKIT.finditer(ref):
        if _arkit_known(m.group(1)):
            return "arkitscenes", m.group(1)
    return None


def scenes_of(refs: list[str]) -> list[tuple[str, str]]:
    """Every distinct scan the media of one record name, in order."""
    out: list[tuple[str, str]] = []
    for ref in refs:
        hit = scene_of(ref)
        if hit and hit not in out:
            out.append(hit)
    return out


def benchmark_reason(scans: list[tuple[str, str]]) -> str | None:
    """'benchmark room: ...' when any scan shares a room with a benchmark scan, else None."""
    for source, scene in scans:
        hits = benchmark_overlap(source, scene)
        if hits:
            names = ", ".join(sorted({b for b, _ in hits}))
            shared = ", ".join(sorted({s for _, s in hits})[:3])
            return f"benchmark room: {names} ({source} {scene}; shares {shared})"
    return None
