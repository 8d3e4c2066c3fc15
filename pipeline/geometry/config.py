"""Knobs of the geometry stage (sizes of what it keeps, and where it runs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GeometryConfig:
    max_frames: int = 64  # frames kept in facts, uniform over the scene's frames (chosen before decoding)
    track_points: int = 1500  # surface points followed across frames (correspondence, view overlap)
    # frames from which turned (virtual) views are rendered: all kept frames (24 starved hypothetical_rotation,
    # ~13 of its 100 per demo scene; 64 doubles its yield for ~+0.7 s of compute_facts, 2.0 -> 2.6 s on bench
    # scene9000_00)
    virtual_view_frames: int = 32  # turned views from half the kept frames: yield vs +35 % time for all
    virtual_view_size: tuple[int, int] = (160, 120)  # width, height of a virtual view
    grid_cell: float = 0.1  # metres, free-floor grid
    device: str = "auto"  # "cpu" | "cuda" | "auto" (CUDA when Open3D sees one)
    threads: int = 0  # 0 = all cores (raycasting, KD-tree queries)
    # A scene with more annotated objects fails (a broken aggregation: every segment its own object). Exact
    # pairwise distances cost ~1 ms a pair: 300 objects took 40 s, 1,000 took 194 s on the 2-core machine.
    # Real scans hold tens (ScanNet v2) to a few hundred (ScanNet++).
    max_objects: int = 500
