"""Detector for API-UNTYPED-ENDPOINT."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanners.detectors.base import make_call_finding, make_finding, render
from scanners.detectors.registry import detector
from scanners.detectors.routes.declarations import is_loose_mapping, type_name, unwrap_annotated
from scanners.detectors.routes.graph import reachable_from_routes
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.summary import Expr, Param

RULE_ID = "untyped-request-body"
CATEGORY = "API-UNTYPED-ENDPOINT"

REQUEST_TYPES = frozenset(
    {
        "fastapi.Request",
        "fastapi.requests.Request",
        "starlette.requests.Request",
        "starlette.requests.HTTPConnection",
    }
)
BODY_READS = frozenset({"json", "form"})
BODY_MARKERS = frozenset({"fastapi.Body", "fastapi.params.Body"})
SEQUENCE_TYPES = frozenset({"list", "typing.List", "typing.Sequence", "collections.abc.Sequence"})
PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def _is_request(project: Project, info: FunctionInfo, expr: Expr) -> bool:
    value = project.resolve(info, expr)
    return value is not None and value[0] == "inst" and str(value[1]) in REQUEST_TYPES


def _body_reads(project: Project, info: FunctionInfo) -> Iterator[Finding]:
    for site in info.summary.calls:
        func = site.func
        if func[0] != "attr" or func[2] not in BODY_READS or site.args or site.kwargs:
            continue
        if not _is_request(project, info, func[1]):
            continue
        yield make_call_finding(
            project,
            info,
            site,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            message=(
                f"`{info.summary.name}` reads the request body with `await {render(func)}()`: "
                "nothing validates or documents it. Take a Pydantic model parameter instead"
            ),
            reach=sorted({route.label for route in project.route_handlers.get(info.fid, [])}),
        )


def _is_body_marker(project: Project, info: FunctionInfo, default: Expr | None) -> bool:
    if default is None or default[0] != "call":
        return False
    callee = project.resolve(info, default[1])
    return callee is not None and callee[0] == "ext" and str(callee[1]) in BODY_MARKERS


def _is_loose_body_type(project: Project, info: FunctionInfo, annotation: Expr) -> bool:
    if is_loose_mapping(project, info, annotation):
        return True
    if annotation[0] == "sub" and type_name(project, info, annotation[1]) in SEQUENCE_TYPES:
        items: tuple[Expr, ...] = annotation[2]
        return len(items) == 1 and is_loose_mapping(project, info, items[0])
    return False


def _untyped_body_parameter(
    project: Project, info: FunctionInfo, param: Param, path_names: set[str]
) -> bool:
    if param.name in path_names or param.kind in ("vararg", "kwarg"):
        return False
    default = param.default
    if param.annotation is None:
        return _is_body_marker(project, info, default)
    annotation = unwrap_annotated(project, info, param.annotation)
    if annotation is None or not _is_loose_body_type(project, info, annotation):
        return False
    metadata: tuple[Expr, ...] = ()
    if param.annotation[0] == "sub" and annotation is not param.annotation:
        metadata = param.annotation[2][1:]
    markers = [item for item in (default, *metadata) if item is not None and item[0] == "call"]
    # A dict parameter is the JSON body unless another marker (Query, Depends...) says otherwise.
    return all(_is_body_marker(project, info, marker) for marker in markers)


@detector(RULE_ID, CATEGORY)
def untyped_request_body(project: Project) -> Iterator[Finding]:
    """A request body read without a model.

    ## What it does
    Finds code serving a route that reads the body with `await request.json()` or
    `await request.form()`, and route parameters that take the body as a plain `dict`,
    `dict[str, Any]`, `Any`, a list of those, or without annotation (`data=Body(...)`).

    ## Why is this bad?
    Nothing validates the payload: missing or mistyped fields surface as `KeyError`s and
    500s deep in the handler, malicious extra fields flow into the database, and the OpenAPI
    schema (and every generated client) knows nothing about the request.

    ## Example
    ```python
    @router.post("/webhooks")
    async def webhook(request: Request) -> None:
        event = await request.json()
    ```

    ## Use instead
    ```python
    @router.post("/webhooks")
    async def webhook(event: WebhookEvent) -> None:
        ...
    ```
    """
    reached = reachable_from_routes(project)
    for fid in sorted(reached):
        info = project.function(fid)
        if info is None or project.is_offloop(info):
            continue
        yield from _body_reads(project, info)
    for fid, routes in sorted(project.route_handlers.items()):
        info = project.function(fid)
        if info is None or project.is_offloop(info):
            continue
        if all(route.method == "WEBSOCKET" for route in routes):
            continue
        path_names = {name for route in routes for name in PATH_PARAMETER.findall(route.path)}
        untyped = [
            param.name
            for param in info.summary.params
            if _untyped_body_parameter(project, info, param, path_names)
        ]
        if not untyped:
            continue
        names = ", ".join(f"`{name}`" for name in untyped)
        yield make_finding(
            project,
            info,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            line=info.summary.line,
            message=(
                f"`{info.summary.name}` takes its request body as {names} without a model: "
                "declare a Pydantic model for it"
            ),
            reach=sorted({route.label for route in routes}),
        )
