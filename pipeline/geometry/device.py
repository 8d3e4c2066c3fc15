"""CPU/CUDA choice, made once: an array backend that the projection kernel is written against.

The kernel (`projection.depth_test`, on rows picked with `take`) uses only arithmetic operators, `@`, comparisons, `&`, slicing, integer
indexing and `.clip`, which numpy arrays and Open3D core tensors share; the few calls they spell differently
live here. numpy is the CPU path (measured 6x faster than open3d.core on CPU for this kernel); Open3D tensors
on CUDA:0 are the GPU path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from schemas.errors import UserError
from sources.open3d_import import open3d

DEVICES = ("auto", "cpu", "cuda")
# The one rule for a requested device, with one message wherever it is applied (the driver, a Ray task, here):
# "cuda" means CUDA or an error, never a silent CPU run; "auto" takes CUDA when there is one.
NO_CUDA = "device 'cuda' was requested but no CUDA device is available here; use device 'auto' or 'cpu'"


def gpu_available() -> bool:
    """True when Open3D was built with CUDA and sees a device."""
    try:
        return bool(open3d().core.cuda.is_available())
    except Exception:  # an Open3D without the core module or a broken driver: no GPU
        return False


def choose_device(requested: str, has_cuda: bool) -> str:
    """ "cpu" or "cuda" for a requested "auto" | "cpu" | "cuda", given whether a CUDA device is there."""
    if requested not in DEVICES:
        raise UserError(f"device must be auto, cpu or cuda, not {requested!r}")
    if requested == "auto":
        return "cuda" if has_cuda else "cpu"
    if requested == "cuda" and not has_cuda:
        raise UserError(NO_CUDA)
    return requested


def task_device(requested: str, granted_gpu: bool) -> str:
    """What a Ray scene task asks the geometry stage for: without a GPU granted, "auto" is "cpu" and "cuda" is
    the NO_CUDA error; with one, the request goes on as it is and is resolved against Open3D there."""
    return requested if granted_gpu and requested in DEVICES else choose_device(requested, False)


def resolve_device(requested: str) -> str:
    """`choose_device` against what Open3D sees on this machine."""
    return choose_device(requested, requested != "cpu" and gpu_available())


class NumpyBackend:
    name = "cpu"

    def asarray(self, a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a)

    def abs(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    def floor_index(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x).astype(np.int64)

    def take(self, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        # rows are increasing: all of them is the identity; np.take is ~4x faster than x[rows] here
        return x if len(rows) == len(x) else np.take(x, rows, axis=0)

    def to_numpy(self, x: np.ndarray) -> np.ndarray:
        return x


class Open3DBackend:
    """Open3D core tensors on one device ("CUDA:0" for the GPU path, "CPU:0" to test this path without one)."""

    def __init__(self, device: str = "CUDA:0") -> None:
        o3c = open3d().core

        self.o3c = o3c
        self.device = o3c.Device(device)
        self.name = device.lower()

    def asarray(self, a: np.ndarray) -> Any:
        return self.o3c.Tensor(np.ascontiguousarray(a), device=self.device)

    def abs(self, x: Any) -> Any:
        return x.abs()

    def floor_index(self, x: Any) -> Any:
        return x.floor().to(self.o3c.int64)

    def take(self, x: Any, rows: np.ndarray) -> Any:
        if len(rows) == x.shape[0]:
            return x
        return x[self.o3c.Tensor(np.ascontiguousarray(rows, dtype=np.int64), device=self.device)]

    def to_numpy(self, x: Any) -> np.ndarray:
        return x.cpu().numpy()


Backend = NumpyBackend | Open3DBackend


def make_backend(device: str) -> Backend:
    return Open3DBackend("CUDA:0") if resolve_device(device) == "cuda" else NumpyBackend()
