"""One synthetic scene and its facts, computed once per module that asks."""

from __future__ import annotations

import pytest

from pipeline.geometry import GeometryConfig, compute_facts
from schemas.facts import SceneFacts
from tests.geometry.synthetic import make_scene


@pytest.fixture(scope="module")
def facts() -> SceneFacts:
    return compute_facts(make_scene(), GeometryConfig(device="cpu", virtual_view_frames=10))


def position(facts: SceneFacts, label: str) -> int:
    return next(i for i, o in enumerate(facts.objects) if o.label == label)
