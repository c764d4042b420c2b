"""Detector for TYPE-UNTYPED-DEF."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.detectors.routes.graph import reachable_from_routes
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.summary import FunctionSummary

RULE_ID = "untyped-def-reachable-from-route"
CATEGORY = "TYPE-UNTYPED-DEF"


def _is_method_receiver_dropped(summary: FunctionSummary) -> bool:
    """Methods receive ``self``/``cls`` implicitly (``@staticmethod`` excepted)."""
    if not summary.class_qualname:
        return False
    for decorator in summary.decorators:
        if decorator[0] == "name" and decorator[1] == "staticmethod":
            return False
    return True


def missing_annotations(summary: FunctionSummary) -> tuple[list[str], bool]:
    """(unannotated parameter names, whether the return annotation is missing)."""
    params = list(summary.params)
    if params and _is_method_receiver_dropped(summary) and params[0].kind == "positional":
        params = params[1:]
    untyped = [param.name for param in params if param.annotation is None]
    missing_return = summary.returns is None
    if summary.name == "__init__" and missing_return and params and not untyped:
        missing_return = False  # type checkers infer `-> None` for an annotated __init__
    return untyped, missing_return


def _describe(untyped: list[str], missing_return: bool) -> str:
    parts = []
    if untyped:
        names = ", ".join(f"`{name}`" for name in untyped[:4])
        more = f" and {len(untyped) - 4} more" if len(untyped) > 4 else ""
        noun = "parameter" if len(untyped) == 1 else "parameters"
        parts.append(f"{noun} {names}{more}")
    if missing_return:
        parts.append("the return value")
    return " and ".join(parts)


@detector(RULE_ID, CATEGORY)
def untyped_def_reachable_from_route(project: Project) -> Iterator[Finding]:
    """A function that serves requests without type annotations.

    ## What it does
    Finds route handlers, their dependencies (however declared: `Depends(f)`, `Depends()` on a
    class, `Annotated[T, Depends(f)]`, `dependencies=[...]`) and every project function they
    call, that lack a parameter annotation (the implicit `self`/`cls` excepted) or a return
    annotation. Tests, scripts, migrations and code no route reaches are not reported.

    ## Why is this bad?
    Unannotated functions are skipped by mypy and pyright: type errors in the code that serves
    requests go unnoticed until production, and FastAPI cannot document what a route returns.

    ## Example
    ```python
    def normalise_host(host):
        return host.strip().lower()
    ```

    ## Use instead
    ```python
    def normalise_host(host: str) -> str:
        return host.strip().lower()
    ```
    """
    reached = reachable_from_routes(project)
    for fid in sorted(reached):
        info = project.function(fid)
        if info is None or not _is_reportable(project, info):
            continue
        untyped, missing_return = missing_annotations(info.summary)
        if not untyped and not missing_return:
            continue
        what = _describe(untyped, missing_return)
        yield make_finding(
            project,
            info,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            line=info.summary.line,
            message=(
                f"`{info.summary.name}` runs when serving {reached[fid]} but lacks annotations "
                f"for {what}: type checkers skip what it does"
            ),
            reach=(reached[fid],),
            remediation="Annotate every parameter and the return type.",
        )


def _is_reportable(project: Project, info: FunctionInfo) -> bool:
    summary = info.summary
    if summary.is_module_body or "<lambda>" in summary.qualname:
        return False
    return not project.is_offloop(info)
