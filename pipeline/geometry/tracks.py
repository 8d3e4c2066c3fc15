"""Surface points followed through the frames (correspondence questions) and the view overlap they give."""

from __future__ import annotations

import hashlib

import numpy as np

from sources.scene import Scene


def scene_rng(scene: Scene) -> np.random.Generator:
    """Seeded by the scene's identity only, so a rerun samples the same points."""
    digest = hashlib.sha256(f"{scene.source}/{scene.scene_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def sample_track_points(scene: Scene, count: int) -> np.ndarray:
    """(P, 3) float32 mesh vertices, P = min(count, vertices), sampled without replacement, in vertex order."""
    n = len(scene.vertices)
    chosen = np.sort(scene_rng(scene).choice(n, size=min(count, n), replace=False))
    return np.asarray(scene.vertices[chosen], dtype=np.float32).reshape(-1, 3)


def view_overlap(visible: np.ndarray) -> np.ndarray:
    """(F, F): share of frame a's visible track points also visible in b, symmetrised with min; diagonal 1."""
    seen = visible.astype(np.float64)
    shared = seen @ seen.T
    counts = seen.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(counts[:, None] > 0, shared / counts[:, None], 0.0)
    overlap = np.minimum(share, share.T)
    np.fill_diagonal(overlap, 1.0)
    return overlap
