"""The keywords a route was declared with: its decorator's, or its ``add_api_route`` call's.

In the project model (not in a detector) because both detectors and ``pydantic_models`` read
``response_model`` and friends from it."""

from __future__ import annotations

from scanners.project.fastapi import ROUTE_DECORATORS, Route
from scanners.project.model import Project
from scanners.project.summary import Expr


def declaration_keywords(project: Project, route: Route) -> dict[str, Expr]:
    """The keywords of the decorator (or ``add_api_route`` call) that declared ``route``."""
    info = project.function(route.handler)
    if info is not None and route.file == info.path:
        for decorator, line in zip(
            info.summary.decorators, info.summary.decorator_lines, strict=False
        ):
            if line == route.line and _is_route_call(decorator):
                return {key: value for key, value in decorator[3] if key is not None}
    handler_name = route.handler.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    return _added_routes(project).get((route.line, handler_name), {})


def _added_routes(project: Project) -> dict[tuple[int, str], dict[str, Expr]]:
    """``router.add_api_route(path, endpoint, **keywords)`` calls by (line, endpoint name)."""

    def compute() -> dict[tuple[int, str], dict[str, Expr]]:
        found: dict[tuple[int, str], dict[str, Expr]] = {}
        for info in project.functions():
            for site in info.summary.calls:
                if site.func[0] != "attr" or site.func[2] != "add_api_route":
                    continue
                endpoint = site.args[1] if len(site.args) > 1 else site.keyword("endpoint")
                if endpoint is None or endpoint[0] not in ("name", "attr"):
                    continue
                name = str(endpoint[1] if endpoint[0] == "name" else endpoint[2])
                keywords = {key: value for key, value in site.kwargs if key is not None}
                found[(site.line, name)] = keywords
        return found

    return project.memo("routes.added_routes", compute)


def _is_route_call(decorator: Expr) -> bool:
    return (
        decorator[0] == "call"
        and decorator[1][0] == "attr"
        and (decorator[1][2] in ROUTE_DECORATORS)
    )
