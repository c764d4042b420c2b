"""The ingest stage of ``scan()``: artifacts in, runtime findings and ranking signals out.

Adapts the engine's project model (function spans, FastAPI routes with full paths, route reach)
to ``ingest_artifacts`` and writes what it returns into the ``ScanResult``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scanners.findings import Finding, ScanOptions, ScanResult
from scanners.project.model import Project
from scanners.project.summary import MODULE_BODY
from scanners.runtime.mapping import FunctionSpan, RouteTarget
from scanners.runtime.pipeline import IngestOptions, ingest_artifacts


@dataclass
class RuntimeInputs:
    """What the ranking needs from the artifacts (empty when none was uploaded)."""

    route_traffic: dict[str, float] = field(default_factory=dict)
    function_heat: dict[tuple[str, str], float] = field(default_factory=dict)
    confirmed: int = 0  # static findings that received runtime evidence

    def __bool__(self) -> bool:
        return bool(self.route_traffic or self.function_heat)


def spans_from_project(project: Project) -> list[FunctionSpan]:
    return [
        FunctionSpan(
            info.path,
            info.summary.qualname,
            info.summary.is_async,
            info.summary.line,
            info.summary.end_line,
        )
        for info in project.functions()
        if info.summary.qualname != MODULE_BODY
    ]


def routes_from_project(project: Project) -> list[RouteTarget]:
    """Route templates with their handler's ``def`` line (where route findings are reported)."""
    targets = []
    for route in project.routes:
        handler = project.function(route.handler)
        if handler is not None:
            path, line, name = handler.path, handler.summary.line, handler.summary.qualname
        else:
            path, line, name = route.file, route.line, ""
        targets.append(RouteTarget(route.method, route.path, path, line, name))
    return targets


def _fill_reach(project: Project, findings: Sequence[Finding]) -> None:
    """Runtime findings get the routes that reach their function, like static ones."""
    fids = {(info.path, info.summary.qualname): info.fid for info in project.functions()}
    for finding in findings:
        if finding.reach or not finding.enclosing:
            continue
        fid = fids.get((finding.path, finding.enclosing))
        if fid is not None:
            finding.reach = project.reach_labels(fid)


def run_ingest_stage(
    project: Project, options: ScanOptions, findings: list[Finding], result: ScanResult
) -> RuntimeInputs:
    """Ingest ``options.artifacts``: add their findings to ``findings`` (static ones get
    evidence), fill ``result.artifacts`` / ``result.load_test``, return the ranking signals."""
    if not options.artifacts:
        return RuntimeInputs()
    ingested = ingest_artifacts(
        options.artifacts,
        project.root,
        routes_from_project(project),
        functions=spans_from_project(project),
        files=list(project.by_path),
        static_findings=findings,
        options=IngestOptions(latency_budget_ms=options.latency_budget_ms),
    )
    _fill_reach(project, ingested.findings)
    findings.extend(ingested.findings)
    result.artifacts = ingested.outcomes
    result.load_test = ingested.load_test
    result.timings["ingest"] = ingested.seconds
    return RuntimeInputs(ingested.route_traffic, ingested.function_heat, ingested.confirmed)
