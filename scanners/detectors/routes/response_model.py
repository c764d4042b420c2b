"""Detector for API-MISSING-RESPONSE-MODEL."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.detectors.routes.declarations import (
    RESPONSE_TYPE_SUFFIXES,
    is_loose_mapping,
    is_response_type,
    schemaless_routers,
    unwrap_annotated,
)
from scanners.findings import Finding
from scanners.project.fastapi import Route
from scanners.project.model import FunctionInfo, Project
from scanners.project.route_declarations import declaration_keywords

RULE_ID = "route-without-response-model"
CATEGORY = "API-MISSING-RESPONSE-MODEL"
NO_CONTENT = 204


def _problem(project: Project, info: FunctionInfo, routes: list[Route]) -> str:
    """Why the route has no response schema, "" when it has one (or needs none)."""
    summary = info.summary
    for route in routes:
        keywords = declaration_keywords(project, route)
        hidden = keywords.get("include_in_schema")
        if "response_class" in keywords or (hidden is not None and hidden == ("const", False)):
            return ""
        if route.router in schemaless_routers(project):
            return ""
        status = keywords.get("status_code")
        if status is not None and status[0] == "const" and status[1] == NO_CONTENT:
            return ""
        response_model = keywords.get("response_model")
        if response_model is not None:
            if is_loose_mapping(project, info, response_model, with_any=False):
                return "its `response_model` is a bare `dict`"
            return ""
    returns = unwrap_annotated(project, info, summary.returns)
    if returns is not None:
        if is_response_type(project, info, returns):
            return ""
        if is_loose_mapping(project, info, returns, with_any=False):
            return "its return annotation is a bare `dict`"
        return ""
    if not summary.return_values:
        return ""  # returns nothing: no body to describe
    for value in summary.return_values:
        if value[0] == "call" and is_response_type(project, info, value[1]):
            return ""  # builds its own Response
        returned = project.resolve(info, value)
        if returned is not None and returned[0] == "inst":
            kind = str(returned[1]).rsplit(".", 1)[-1].rsplit(":", 1)[-1]
            if kind.endswith(RESPONSE_TYPE_SUFFIXES):
                return ""
    return "it has neither `response_model` nor a return annotation"


@detector(RULE_ID, CATEGORY)
def route_without_response_model(project: Project) -> Iterator[Finding]:
    """A route whose response has no declared schema.

    ## What it does
    Finds routes with neither `response_model=` nor a return annotation, and routes whose
    response model or return annotation is a bare `dict` (or `dict[str, Any]`, `Mapping`). Routes
    that return a `Response` themselves, declare `response_class=`, answer `204 No Content`,
    return nothing, or are left out of the schema (`include_in_schema=False` on the route, its
    router or the include, `openapi_url=None`, a `default_response_class`) are not reported.

    ## Why is this bad?
    FastAPI validates and filters the response through the declared model. Without one,
    whatever the handler returns (an ORM object with its password hash, an internal dict) is
    serialized as is, the OpenAPI schema says nothing about the response, and generated
    clients get `any`.

    ## Example
    ```python
    @router.get("/users/me")
    async def read_me(user: User = Depends(current_user)):
        return user
    ```

    ## Use instead
    ```python
    @router.get("/users/me", response_model=UserOut)
    async def read_me(user: User = Depends(current_user)) -> User:
        return user
    ```
    """
    for fid, declared in sorted(project.route_handlers.items()):
        info = project.function(fid)
        if info is None or project.is_offloop(info):
            continue
        routes = [route for route in declared if route.method != "WEBSOCKET"]
        if not routes:
            continue
        problem = _problem(project, info, routes)
        if not problem:
            continue
        labels = sorted({route.label for route in routes})
        yield make_finding(
            project,
            info,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            line=info.summary.line,
            message=(
                f"{labels[0]} (`{info.summary.name}`) declares no response schema: {problem}. "
                "Declare a Pydantic model as `response_model=` or return annotation"
            ),
            reach=labels,
        )
