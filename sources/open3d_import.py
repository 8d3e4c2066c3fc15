"""Import Open3D without its plotting stack.

`import open3d` imports `open3d.visualization.draw_plotly`, which pulls dash and plotly: about half of Open3D's
import time, paid by every Ray worker, for functions we never call. A placeholder module for that one submodule is
registered first; calling anything in it raises, so nothing silently changes.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_PLOTLY = "open3d.visualization.draw_plotly"


def _unavailable(*_: Any, **__: Any) -> Any:
    raise RuntimeError("Open3D's plotly drawing is not loaded in sicorpus (see sources/open3d_import.py)")


def open3d() -> Any:
    """The `open3d` module (imported once per process)."""
    if "open3d" not in sys.modules and _PLOTLY not in sys.modules:
        stub = types.ModuleType(_PLOTLY)
        for name in ("get_plotly_fig", "draw_plotly", "draw_plotly_server"):
            setattr(stub, name, _unavailable)
        sys.modules[_PLOTLY] = stub
    import open3d as o3d

    return o3d
