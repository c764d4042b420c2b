"""Shared paths and helpers for the artifact parser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.runtime.mapping import RouteTarget

SAMPLES = Path(__file__).parent / "samples"
DEMO_ROOT = SAMPLES / "demo_service"  # the code the sample artifacts were captured from

# The demo service's routes as the engine would report them (handlers in demoapp/routes.py).
DEMO_ROUTES = (
    RouteTarget("GET", "/api/rates", "demoapp/routes.py", 7, "get_rates"),
    RouteTarget("GET", "/api/items/{item_id}", "demoapp/routes.py", 11, "get_health"),
    RouteTarget("GET", "/api/orders", "demoapp/routes.py", 24, "serve"),
)


@pytest.fixture
def samples() -> Path:
    return SAMPLES


def sample(relative: str) -> Path:
    return SAMPLES / relative
