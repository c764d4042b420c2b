"""Helpers shared by detectors: building findings with location, snippet, reach and witness."""

from __future__ import annotations

from collections.abc import Iterable

from scanners.catalog import category
from scanners.findings import Finding, WitnessStep
from scanners.project.model import FunctionInfo, Project
from scanners.project.summary import MODULE_BODY, CallSite, Expr


def enclosing_name(info: FunctionInfo) -> str:
    """The function/class path within the module, lambdas folded into their parent."""
    qualname = info.summary.qualname
    if qualname == MODULE_BODY:
        return ""
    parts = [part for part in qualname.split(".") if not part.startswith("<lambda>")]
    return ".".join(parts)


def render(expr: Expr | None, limit: int = 60) -> str:
    """Source-like text for an encoded expression: ``requests.get``, ``self.http.post``."""
    text = _render(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(expr: Expr | None) -> str:
    if expr is None:
        return "?"
    kind = expr[0]
    if kind == "name":
        return str(expr[1])
    if kind == "attr":
        return f"{_render(expr[1])}.{expr[2]}"
    if kind == "call":
        return f"{_render(expr[1])}(...)" if expr[2] or expr[3] else f"{_render(expr[1])}()"
    if kind == "sub":
        return f"{_render(expr[1])}[...]"
    if kind == "const":
        return repr(expr[1])
    if kind == "await":
        return f"(await {_render(expr[1])})"
    return "..."


def make_finding(
    project: Project,
    info: FunctionInfo,
    *,
    rule_id: str,
    category_id: str,
    line: int,
    col: int = 1,
    end_line: int = 0,
    end_col: int = 0,
    message: str,
    confidence: str = "high",
    reach: Iterable[str] = (),
    witness: Iterable[WitnessStep] = (),
    remediation: str = "",
) -> Finding:
    entry = category(category_id)
    return Finding(
        rule_id=rule_id,
        category=entry.id,
        severity=entry.severity,
        title=entry.summary,
        message=message,
        path=info.path,
        start_line=line,
        start_col=col,
        end_line=end_line or line,
        end_col=end_col,
        enclosing=enclosing_name(info),
        snippet=project.source_line(info.path, line).rstrip(),
        remediation=remediation or entry.remediation,
        confidence=confidence,
        reach=tuple(reach),
        witness=tuple(witness),
    )


def make_call_finding(
    project: Project,
    info: FunctionInfo,
    site: CallSite,
    *,
    rule_id: str,
    category_id: str,
    message: str,
    reach: Iterable[str] = (),
    witness: Iterable[WitnessStep] = (),
    confidence: str = "high",
) -> Finding:
    """A finding located on a call expression."""
    return make_finding(
        project,
        info,
        rule_id=rule_id,
        category_id=category_id,
        line=site.line,
        col=site.col,
        end_line=site.end_line,
        end_col=site.end_col,
        message=message,
        reach=reach,
        witness=witness,
        confidence=confidence,
    )
