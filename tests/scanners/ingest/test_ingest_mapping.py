"""Mapping runtime data onto code: paths by longest suffix, functions, and route templates."""

from __future__ import annotations

import pytest

from scanners.runtime.mapping import (
    FunctionIndex,
    PathMapper,
    RouteMatcher,
    RouteTarget,
    list_python_files,
)
from tests.scanners.ingest.conftest import DEMO_ROOT

TREE = [
    "pkg/__init__.py",
    "pkg/x.py",
    "src/pkg/api/routes.py",
    "pkg/api/routes.py",
    "other/api/routes.py",
    "tools/x.py",
    "main.py",
]


@pytest.mark.parametrize(
    ("foreign", "expected"),
    [
        ("/app/src/pkg/x.py", "pkg/x.py"),  # full suffix beats the partial tools/x.py
        ("pkg/x.py", "pkg/x.py"),
        ("/srv/app/src/pkg/api/routes.py", "src/pkg/api/routes.py"),  # the longest suffix wins
        ("/srv/other/api/routes.py", "other/api/routes.py"),
        ("/deploy/lib/api/routes.py", None),  # api/routes.py matches two files equally
        ("/elsewhere/__init__.py", None),  # a generic name alone says nothing
        ("/srv/app/main.py", "main.py"),
        ("/srv/app/unknown.py", None),
        ("C:\\build\\pkg\\x.py", "pkg/x.py"),
    ],
)
def test_path_mapper_longest_suffix(foreign: str, expected: str | None) -> None:
    assert PathMapper(TREE).map(foreign) == expected


def test_list_python_files_of_the_demo_service() -> None:
    assert list_python_files(DEMO_ROOT) == [
        "demoapp/__init__.py",
        "demoapp/routes.py",
        "demoapp/services.py",
        "demoapp/typed.py",
    ]


def test_function_index_reads_spans_lazily() -> None:
    index = FunctionIndex(DEMO_ROOT)
    span = index.innermost("demoapp/routes.py", 8)
    assert span is not None
    assert (span.qualname, span.is_async, span.line, span.end_line) == ("get_rates", True, 7, 8)
    service = index.innermost("demoapp/services.py", 5)
    assert service is not None and (service.qualname, service.is_async) == ("load_rates", False)
    assert index.innermost("demoapp/routes.py", 2) is None
    assert index.by_name("demoapp/routes.py", "serve.<locals>.x") is None
    assert index.source_line("demoapp/services.py", 5).strip() == "time.sleep(0.05)"


ROUTES = [
    RouteTarget.parse("GET /items/{item_id}"),
    RouteTarget.parse("GET /items/recent"),
    RouteTarget.parse("POST /items"),
    RouteTarget.parse("GET /api/v1/users/{user_id}/orders/{order_id}"),
    RouteTarget.parse("GET /files/{path:path}"),
    RouteTarget.parse("/health"),
]


@pytest.mark.parametrize(
    ("method", "name", "expected"),
    [
        ("GET", "/items/123", "GET /items/{item_id}"),
        ("GET", "/items/[id]", "GET /items/{item_id}"),
        ("GET", "/items/{id}", "GET /items/{item_id}"),
        ("GET", "/items/:id", "GET /items/{item_id}"),
        ("GET", "/items/recent", "GET /items/recent"),  # the literal beats the parameter
        ("POST", "/items/", "POST /items"),
        ("POST", "/items/5", None),
        ("GET", "http://localhost:8000/items/9?full=1", "GET /items/{item_id}"),
        ("GET", "/api/v1/users/7/orders/[order]", "GET /api/v1/users/{user_id}/orders/{order_id}"),
        ("GET", "/files/a/b/c.txt", "GET /files/{path:path}"),
        ("DELETE", "/health", "/health"),
        ("GET", "/prefix/items/5", "GET /items/{item_id}"),  # behind a mount prefix
        ("", "/items/5", "GET /items/{item_id}"),
        ("GET", "/nothing/here/at/all", None),
    ],
)
def test_route_matcher(method: str, name: str, expected: str | None) -> None:
    route = RouteMatcher(ROUTES).match(method, name)
    assert (route.key if route else None) == expected


def test_route_target_parse_and_match_request() -> None:
    assert RouteTarget.parse("get /x") == RouteTarget("GET", "/x")
    matcher = RouteMatcher(ROUTES)
    route = matcher.match_request("GET /items/77")
    assert route is not None and route.template == "/items/{item_id}"
