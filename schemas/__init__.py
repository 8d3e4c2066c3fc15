from __future__ import annotations

from schemas.sample import FactObject, Provenance, Sample, SampleFacts, validate_sample

__all__ = ["FactObject", "Provenance", "Sample", "SampleFacts", "validate_sample"]
