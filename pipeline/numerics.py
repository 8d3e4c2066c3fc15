"""One BLAS kernel on every x86-64 machine, so the same inputs give the same bytes on any of them.

numpy's and scipy's OpenBLAS choose a kernel for the CPU when they load, and the kernels differ in the last bits:
the SkylakeX kernel an AVX-512 machine gets fuses multiply-adds that the Haswell and Nehalem kernels do not. On a
demo scan that moved frame poses, object boxes and projected positions by an ulp, and so the float facts of
camera_distance, camera_displacement, object_size and view_correspondence samples: its 3,344 samples hashed
differently under each of the three kernels (the question, option and answer texts did not change). The kernel is
therefore fixed before numpy loads, in every process of ours and in the Ray workers a local build starts (they
inherit the environment): Nehalem, which every CPU numpy 2 runs on has (numpy's own baseline is x86-64-v2). Our
BLAS calls are small (4x4 poses, N x 3 by 3 x 3 projections): no time difference was measurable. A user's own
OPENBLAS_CORETYPE is kept; nodes of a cluster joined with --address keep the environment `ray start` gave them,
and the manifest records each scene's kernel so that a mixed build is reported.
"""

from __future__ import annotations

import os
import platform

PINNED_KERNEL = "Nehalem"


def pin_blas_kernel() -> None:
    """Choose the OpenBLAS kernel for this process and its children (no effect once numpy is loaded)."""
    if platform.machine().lower() in ("x86_64", "amd64"):
        os.environ.setdefault("OPENBLAS_CORETYPE", PINNED_KERNEL)


def blas_kernel() -> str:
    """The kernel of the BLAS libraries loaded in this process ("openblas Nehalem"); "none" before numpy."""
    from threadpoolctl import threadpool_info

    names = {
        f"{info.get('internal_api')} {info.get('architecture')}".removesuffix(" None")
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    }
    return "+".join(sorted(names)) or "none"
