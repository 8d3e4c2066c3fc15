from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemas.sample import FactObject, Provenance, Sample, SampleFacts, validate_sample

__all__ = ["FactObject", "Provenance", "Sample", "SampleFacts", "validate_sample"]


def __getattr__(name: str) -> Any:
    # Loaded on first use (PEP 562): importing `schemas.errors` (every CLI command does) must not pay the
    # ~0.2 s of building the pydantic models, which only the build and validation need.
    if name in __all__:
        from schemas import sample

        return getattr(sample, name)
    raise AttributeError(f"module 'schemas' has no attribute {name!r}")
