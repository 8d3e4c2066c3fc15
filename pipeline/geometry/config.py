"""Knobs of the geometry stage (sizes of what it keeps, and where it runs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GeometryConfig:
    max_frames: int = 64  # frames kept in facts, uniform over the scene's frames (chosen before decoding)
    track_points: int = 1500  # surface points followed across frames (correspondence, view overlap)
    virtual_view_frames: int = 24  # frames from which turned (virtual) views are rendered
    virtual_view_size: tuple[int, int] = (160, 120)  # width, height of a virtual view
    grid_cell: float = 0.1  # metres, free-floor grid
    device: str = "auto"  # "cpu" | "cuda" | "auto" (CUDA when Open3D sees one)
    threads: int = 0  # 0 = all cores (raycasting, KD-tree queries)
