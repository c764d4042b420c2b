"""``api_schema``: drf-spectacular's ``extend_schema`` bound to its own AutoSchema.

``extend_schema`` on a method builds on ``DEFAULT_SCHEMA_CLASS`` unless the function names a
schema; this API sets its schema class on its views instead of in the project-wide DRF settings,
so the decorator is told here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema

F = TypeVar("F", bound=Callable[..., Any])


def api_schema(**kwargs: Any) -> Callable[[F], F]:
    def decorator(function: F) -> F:
        if not hasattr(function, "schema") and not hasattr(function, "kwargs"):
            function.schema = AutoSchema  # type: ignore[attr-defined]
        decorated: F = extend_schema(**kwargs)(function)
        return decorated

    return decorator
