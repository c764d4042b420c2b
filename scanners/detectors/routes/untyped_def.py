"""Detector for TYPE-UNTYPED-DEF."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.detectors.routes.graph import reachable_from_routes
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.pydantic_models import pydantic_models, with_nested
from scanners.project.summary import Expr, FunctionSummary

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
    class, `Annotated[T, Depends(f)]`, `dependencies=[...]`), every project function they
    call, and the validators/serializers of the models routes take or answer with, that lack
    a parameter annotation (the implicit `self`/`cls` excepted) or a return annotation. Tests,
    scripts, migrations and code no route reaches are not reported.

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
    reached = dict(reachable_from_routes(project))
    for fid, label in _model_hooks(project).items():
        reached.setdefault(fid, label)
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


# Decorators of model methods Pydantic runs while validating or serializing a model.
MODEL_HOOKS = frozenset(
    {
        "validator",
        "root_validator",
        "field_validator",
        "model_validator",
        "field_serializer",
        "model_serializer",
    }
)


def _decorator_name(decorator: Expr) -> str:
    target = decorator[1] if decorator[0] == "call" else decorator
    if target[0] == "name":
        return str(target[1])
    if target[0] == "attr":
        return str(target[2])
    return ""


def _model_hooks(project: Project) -> dict[str, str]:
    """Validators and serializers of the models routes take or answer with (Pydantic runs them
    on every request), mapped to one route label that uses the model."""
    models = pydantic_models(project)
    labels: dict[str, str] = {}
    for fid, uses in sorted(models.routes.items()):
        routes = project.route_handlers.get(fid)
        if not routes:
            continue
        for cid in (*(cid for _name, cid in uses.bodies), *uses.responses):
            labels.setdefault(cid, routes[0].label)
    # the models routes really use, and the models nested in them (not every `*In` class)
    used = with_nested(project, models, set(labels))
    found: dict[str, str] = {}
    for cid in sorted(used):
        klass = project.resolver.klass(cid)
        if klass is None:
            continue
        module_name, _, qualname = cid.partition(":")
        for method in klass[1].methods:
            info = project.function(f"{module_name}:{qualname}.{method}")
            if info is None:
                continue
            if any(_decorator_name(d) in MODEL_HOOKS for d in info.summary.decorators):
                found[info.fid] = labels.get(cid, f"validation of `{qualname}`")
    return found


def _is_reportable(project: Project, info: FunctionInfo) -> bool:
    summary = info.summary
    if summary.is_module_body or "<lambda>" in summary.qualname:
        return False
    return not project.is_offloop(info)
