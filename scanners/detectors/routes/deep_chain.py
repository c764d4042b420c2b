"""Detector for DI-DEEP-CHAIN."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.detectors.routes.graph import DependencyNode, dependency_chain, route_dependencies
from scanners.findings import Finding, WitnessStep
from scanners.project.model import Project

RULE_ID = "deep-dependency-chain"
CATEGORY = "DI-DEEP-CHAIN"
MAX_LEVELS = 3  # the route's own Depends is level 1


def _step(project: Project, node: DependencyNode) -> WitnessStep | None:
    info = project.function(node.fid) if node.fid else None
    if info is None:
        return None
    return WitnessStep(info.path, info.summary.line, info.display, f"Depends({node.label})")


@detector(RULE_ID, CATEGORY)
def deep_dependency_chain(project: Project) -> Iterator[Finding]:
    """A route whose dependencies nest more than three levels deep.

    ## What it does
    Follows each route's dependencies (its own `Depends(...)` parameters are level 1, their
    `Depends` parameters level 2, ...) through functions, classes used as `Depends()`,
    `Annotated[T, Depends(...)]` and `Annotated[Cls, Depends()]` aliases, callable instances
    such as `APIKeyHeader(...)` or `RoleChecker("admin")`, and `dependencies=[...]` of the
    route, its routers (constructor and `include_router`) and app, and reports routes whose
    longest chain reaches level 4.

    ## Why is this bad?
    Every level is resolved on every request and hides what a route needs: a reader has to
    walk four files to learn that an endpoint requires an admin token, tests must override
    the whole chain, and a slow or failing link deep down is hard to find.

    ## Example
    ```python
    def read_token(token: str = Depends(api_key_header)) -> str: ...
    def verify_admin(token: str = Depends(read_token)) -> None: ...
    class AdminContext:
        def __init__(self, _: None = Depends(verify_admin)) -> None: ...

    @router.delete("/purge")
    async def purge(ctx: AdminContext = Depends()) -> None: ...
    ```

    ## Use instead
    ```python
    def require_admin(token: str = Depends(api_key_header)) -> None: ...

    @router.delete("/purge", dependencies=[Depends(require_admin)])
    async def purge() -> None: ...
    ```
    """
    for fid, routes in sorted(project.route_handlers.items()):
        info = project.function(fid)
        if info is None or project.is_offloop(info):
            continue
        longest: list[DependencyNode] = []
        for route in routes:
            for node in route_dependencies(project, route):
                chain = dependency_chain(project, node)
                if len(chain) > len(longest):
                    longest = chain
        if len(longest) <= MAX_LEVELS:
            continue
        labels = sorted({route.label for route in routes})
        path = " -> ".join(node.label for node in longest)
        witness = [
            WitnessStep(info.path, info.summary.line, info.display, labels[0]),
            *(step for step in (_step(project, node) for node in longest) if step is not None),
        ]
        yield make_finding(
            project,
            info,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            line=info.summary.line,
            message=(
                f"{labels[0]} (`{info.summary.name}`) resolves a chain of {len(longest)} nested "
                f"dependencies ({path}); keep dependency chains to {MAX_LEVELS} levels"
            ),
            reach=labels,
            witness=witness,
        )
