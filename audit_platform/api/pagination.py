"""Keyset ("cursor") pagination over ``(ordering field, tie-breakers..., id)``.

Unlike offset pagination and DRF's own cursor (position + offset among equal values), every page
is one index range scan however deep the client goes and however many rows share a value — many
findings share a blast radius. The cursor is opaque to clients (url-safe base64 of JSON).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.db.models import F, Lookup, Q

# Row-value comparisons: Django's own, written for composite primary keys (5.2). The module is
# not documented API; tests/api/test_findings.py pins the SQL it must produce.
from django.db.models.fields.tuple_lookups import (
    Tuple,
    TupleGreaterThanOrEqual,
    TupleLessThanOrEqual,
)
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 50
# Orderings whose ties are broken as the findings app ranks (and indexes) them, so a page is
# one index range scan: (project, -blast_radius, -severity, id).
RANKED_ORDERINGS = {
    "-blast_radius": ("-blast_radius", "-severity", "id"),
    "blast_radius": ("blast_radius", "severity", "-id"),
}
MAX_PAGE_SIZE = 500


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]}) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), int):
        raise ValidationError({"cursor": ["Invalid cursor."]})
    return payload


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def page_size_from(request: Request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise ValidationError({"page_size": ["A whole number is required."]}) from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"Must be between 1 and {MAX_PAGE_SIZE}."]})
    return size


def ordering_keys(ordering: str) -> tuple[str, ...]:
    """The full sort of an ordering name: the field, tie-breakers, and ``id`` last (unique)."""
    if ordering in RANKED_ORDERINGS:
        return RANKED_ORDERINGS[ordering]
    descending = ordering.startswith("-")
    return (ordering, "-id" if descending else "id")


def _after(keys: tuple[str, ...], values: list[Any]) -> list[Q | Lookup[Any]]:
    """Conditions for the rows strictly after ``values`` in ``keys`` order.

    ``a < x OR (a = x AND b < y) ...`` decides; alone it is only a filter, so a deep page read
    (and threw away) every row before it. The leading keys that share a direction also give a
    row comparison, ``(a, b) <= (x, y)``, which PostgreSQL turns into the start of an index range
    scan. Not the strict ``<``: the planner estimates a row comparison from its first column,
    and ``a < x`` at the lowest value is "no rows", which chose a plan that sorts every row.
    """
    descending = keys[0].startswith("-")
    prefix = 1
    while prefix < len(keys) and keys[prefix].startswith("-") == descending:
        prefix += 1
    at_or_after = TupleLessThanOrEqual if descending else TupleGreaterThanOrEqual
    bound = at_or_after(Tuple(*(F(key.lstrip("-")) for key in keys[:prefix])), values[:prefix])
    expanded = Q()
    equal: dict[str, Any] = {}
    for key, value in zip(keys, values, strict=True):
        field = key.lstrip("-")
        operator = "lt" if key.startswith("-") else "gt"
        expanded |= Q(**equal, **{f"{field}__{operator}": value})
        equal[field] = value
    return [bound, expanded]


class KeysetPagination(BasePagination):
    """DRF pagination class; the view names the ordering with ``get_ordering()`` and may give
    ``cursor_value_parser(field, value)`` for fields that do not round-trip through JSON."""

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        ordering: str = view.get_ordering() if view is not None else "-id"
        parser = getattr(view, "cursor_value_parser", None)
        keys = ordering_keys(ordering)
        fields = [key.lstrip("-") for key in keys]
        size = page_size_from(request)
        queryset = queryset.order_by(*keys)
        cursor = request.query_params.get("cursor")
        if cursor:
            payload = _decode(cursor)
            if payload.get("o") != ordering:
                raise ValidationError({"cursor": ["The cursor belongs to another ordering."]})
            values = payload.get("v")
            if not isinstance(values, list) or len(values) != len(keys) - 1:
                raise ValidationError({"cursor": ["Invalid cursor."]})
            if parser is not None:
                try:
                    pairs = zip(fields[:-1], values, strict=True)
                    values = [parser(field, value) for field, value in pairs]
                except (TypeError, ValueError):
                    raise ValidationError({"cursor": ["Invalid cursor."]}) from None
            queryset = queryset.filter(*_after(keys, [*values, payload["id"]]))
        rows = list(queryset[: size + 1])
        self.next_url = None
        if len(rows) > size:
            rows = rows[:size]
            last = rows[-1]
            values = [_json_value(getattr(last, field)) for field in fields[:-1]]
            token = _encode({"o": ordering, "v": values, "id": last.pk})
            self.next_url = replace_query_param(request.build_absolute_uri(), "cursor", token)
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self.next_url, "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last page.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The opaque cursor from the previous page's `next`.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1-{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
