"""Runtime findings from parsed artifacts, placed on the scanned code.

Every builder returns the findings it could place on a file of the tree, and a list of what it
could not place (a slow step in the server's own code, an endpoint matching no route) for the
artifact's summary: runtime facts are never silently dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scanners.catalog import Severity, category, is_catalog_category
from scanners.findings import Finding, RuntimeEvidence, WitnessStep
from scanners.ingest.asyncio_log import AsyncioLog, SlowStep
from scanners.ingest.locust import EndpointStats, LocustReport
from scanners.ingest.pyspy import Frame, PySpyProfile, is_library_file
from scanners.ingest.sarif_import import SarifLog
from scanners.ingest.sql_log import SqlLog
from scanners.ingest.typecheck import TypeCheckReport
from scanners.runtime.blocking import BlockingLeaf, application_leaf, library_leaf
from scanners.runtime.mapping import FunctionIndex, PathMapper, RouteMatcher, RouteTarget

MIN_BLOCKING_SAMPLES = 2  # one sample is noise, not a pattern
MIN_BLOCKING_SHARE = 0.005  # of the event loop's samples


@dataclass
class CodeContext:
    """What the builders need to know about the scanned code."""

    paths: PathMapper
    functions: FunctionIndex
    routes: RouteMatcher

    def map_app(self, file: str) -> str | None:
        if is_library_file(file):
            return None
        return self.paths.map(file)


@dataclass
class Placed:
    findings: list[Finding] = field(default_factory=list)
    unplaced: list[dict[str, Any]] = field(default_factory=list)
    # (path, line) -> evidence for static findings at that line; (path, first, last) for spans
    line_evidence: dict[tuple[str, int], list[RuntimeEvidence]] = field(
        default_factory=lambda: defaultdict(list)
    )
    span_evidence: list[tuple[str, int, int, RuntimeEvidence]] = field(default_factory=list)
    route_evidence: dict[str, list[RuntimeEvidence]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # slow steps of server code (uvicorn's request task), placed later with a profile's help
    server_steps: list[tuple[str, SlowStep]] = field(default_factory=list)


def _runtime_finding(  # noqa: PLR0917 (one call per runtime category, all positional facts)
    category_id: str,
    rule_id: str,
    title: str,
    message: str,
    path: str,
    line: int,
    context: CodeContext,
    evidence: RuntimeEvidence,
    *,
    witness: tuple[WitnessStep, ...] = (),
    reach: tuple[str, ...] = (),
    severity: Severity | None = None,
    source: str = "runtime",
    properties: dict[str, Any] | None = None,
) -> Finding:
    entry = category(category_id)
    span = context.functions.innermost(path, line)
    return Finding(
        rule_id=rule_id,
        category=category_id,
        severity=severity if severity is not None else entry.severity,
        title=title,
        message=message,
        path=path,
        start_line=line,
        enclosing=span.qualname if span else "",
        snippet=context.functions.source_line(path, line),
        remediation=entry.remediation,
        source=source,
        reach=reach,
        witness=witness,
        evidence=[evidence],
        properties=dict(properties or {}),
    )


def _percent(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.1%}"


# --- py-spy -----------------------------------------------------------------------------------


@dataclass
class _BlockingSite:
    path: str
    line: int
    leaf: BlockingLeaf
    leaf_frame: Frame
    async_frame: tuple[str, int, str]  # path, line, qualname of the innermost async def
    chain: list[tuple[str, int, str]]  # mapped frames from the async frame to the site
    samples: int = 0


def profile_findings(profile: PySpyProfile, artifact: str, context: CodeContext) -> Placed:
    """RUNTIME-BLOCKING-STACK: event-loop samples inside a blocking leaf under an ``async def``."""
    placed = Placed()
    loop_samples = profile.event_loop_samples
    if loop_samples == 0:
        return placed
    sites: dict[tuple[str, int], _BlockingSite] = {}
    unplaced: dict[str, int] = defaultdict(int)
    for stack, count in profile.loop_stacks.items():
        frames = [profile.frames[index] for index in stack]
        mapped: list[tuple[str, int, str, bool]] = []  # path, line, qualname, is_async
        for frame in frames:
            path = context.map_app(frame.file)
            if path is None:
                continue
            if frame.line > 0:
                line, span = frame.line, context.functions.innermost(path, frame.line)
            else:  # py-spy --function: no line numbers, place the frame on its def line
                span = context.functions.by_name(path, frame.function)
                if span is None:
                    continue
                line = span.line
            mapped.append(
                (
                    path,
                    line,
                    span.qualname if span else frame.function,
                    bool(span and span.is_async),
                )
            )
        if not mapped:
            continue
        leaf_frame = frames[-1]
        leaf_path = context.map_app(leaf_frame.file)
        if leaf_path is not None:
            leaf = application_leaf(context.functions.source_line(leaf_path, leaf_frame.line))
        else:
            leaf = library_leaf(leaf_frame)
        if leaf is None:
            continue
        async_index = max((i for i, item in enumerate(mapped) if item[3]), default=-1)
        if async_index < 0:
            unplaced[f"{leaf.what} in {frames[-1].function} (no async def frame)"] += count
            continue
        site_path, site_line, _, _ = mapped[-1]
        site = sites.get((site_path, site_line))
        if site is None:
            async_path, async_line, async_name, _ = mapped[async_index]
            site = sites[(site_path, site_line)] = _BlockingSite(
                site_path,
                site_line,
                leaf,
                leaf_frame,
                (async_path, async_line, async_name),
                [(p, ln, q) for p, ln, q, _ in mapped[async_index:]],
            )
        site.samples += count
    for site in sorted(sites.values(), key=lambda s: -s.samples):
        share = site.samples / loop_samples
        if site.samples < MIN_BLOCKING_SAMPLES or share < MIN_BLOCKING_SHARE:
            continue
        async_path, async_line, async_name = site.async_frame
        summary = (
            f"{_percent(share)} of event-loop samples ({site.samples:,} of {loop_samples:,}) "
            f"inside {site.leaf.what}"
        )
        evidence = RuntimeEvidence(
            kind="pyspy",
            summary=summary,
            artifact=artifact,
            metrics={
                "samples": float(site.samples),
                "loop_samples": float(loop_samples),
                "share": share,
            },
        )
        leaf_note = (
            f"{site.leaf_frame.function} ({site.leaf_frame.file}"
            + (f":{site.leaf_frame.line})" if site.leaf_frame.line else ")")
            if context.map_app(site.leaf_frame.file) is None
            else site.leaf.what
        )
        last = len(site.chain) - 1
        witness = tuple(
            WitnessStep(
                path,
                line,
                name,
                f"blocks in {leaf_note}"
                if i == last
                else ("async def on the event loop" if i == 0 else "calls"),
            )
            for i, (path, line, name) in enumerate(site.chain)
        )
        placed.findings.append(
            _runtime_finding(
                "RUNTIME-BLOCKING-STACK",
                "runtime-blocking-stack",
                f"Event loop blocked in {site.leaf.what} ({_percent(share)} of loop samples)",
                f"py-spy sampled the event-loop thread {site.samples:,} times "
                f"({_percent(share)} of its {loop_samples:,} samples) inside {leaf_note} at "
                f"{site.path}:{site.line}, under async def {async_name} "
                f"({async_path}:{async_line}). While it runs no other request makes progress.",
                site.path,
                site.line,
                context,
                evidence,
                witness=witness,
                properties={
                    "blocking": site.leaf.what,
                    "static_category": site.leaf.category,
                    "share": round(share, 4),
                },
            )
        )
        for path, line, _ in site.chain:
            placed.line_evidence[(path, line)].append(evidence)
    placed.unplaced = [
        {"what": what, "samples": samples}
        for what, samples in sorted(unplaced.items(), key=lambda i: -i[1])
    ]
    return placed


def profile_heat(profile: PySpyProfile, context: CodeContext) -> dict[tuple[str, str], int]:
    """Inclusive samples per (tree path, function qualname), for the ranking's heat share."""
    heat: dict[tuple[str, str], int] = defaultdict(int)
    for (file, function), count in profile.function_samples.items():
        path = context.map_app(file)
        if path is None:
            continue
        span = context.functions.by_name(path, function)
        name = span.qualname if span else function.replace(".<locals>", "")
        heat[(path, name)] += count
    return heat


# --- asyncio debug log --------------------------------------------------------------------------


def asyncio_findings(log: AsyncioLog, artifact: str, context: CodeContext) -> Placed:
    """RUNTIME-SLOW-CALLBACK per slow step placed on code; never-awaited coroutines as evidence."""
    placed = Placed()
    for step in log.slow_steps:
        path = context.map_app(step.location.path) if step.location else None
        if path is None or step.location is None:
            placed.server_steps.append((artifact, step))
            placed.unplaced.append(
                {
                    "what": f"{step.kind} {step.name}",
                    "count": step.count,
                    "max_seconds": step.max_seconds,
                    "location": f"{step.location.path}:{step.location.line}"
                    if step.location
                    else "",
                }
            )
            continue
        span = context.functions.starting_at(path, step.location.line)
        line = span.line if span else step.location.line
        summary = (
            f"{step.count:,} slow {'steps' if step.count != 1 else 'step'} of {step.kind} "
            f"{step.name}() (max {step.max_seconds:.3f} s, mean {step.mean_seconds:.3f} s)"
        )
        evidence = RuntimeEvidence(
            kind="asyncio-log",
            summary=summary,
            artifact=artifact,
            metrics={
                "count": float(step.count),
                "max_seconds": step.max_seconds,
                "mean_seconds": round(step.mean_seconds, 6),
            },
        )
        placed.findings.append(
            _runtime_finding(
                "RUNTIME-SLOW-CALLBACK",
                "runtime-slow-callback",
                f"Slow {step.kind} {step.name}() held the event loop "
                f"up to {step.max_seconds:.3f} s",
                f"asyncio debug mode logged {summary}, first at log line {step.first_log_line}. "
                "During each such step the loop served nothing else.",
                path,
                line,
                context,
                evidence,
                properties={"count": step.count, "max_seconds": step.max_seconds},
            )
        )
        if span is not None:
            placed.span_evidence.append((path, span.line, span.end_line, evidence))
    for record in log.never_awaited:
        path = context.map_app(record.location.path) if record.location else None
        if path is None or record.location is None:
            placed.unplaced.append(
                {"what": f"coroutine {record.name} never awaited", "count": record.count}
            )
            continue
        evidence = RuntimeEvidence(
            kind="asyncio-log",
            summary=f"RuntimeWarning: coroutine '{record.name}' was never awaited "
            f"(logged {record.count}x)",
            artifact=artifact,
            metrics={"count": float(record.count)},
        )
        entry = category("ASYNC-MISSING-AWAIT")
        finding = _runtime_finding(
            "ASYNC-MISSING-AWAIT",
            "runtime-never-awaited",
            f"Coroutine {record.name}() was never awaited",
            f"Python warned at runtime that coroutine '{record.name}' was created at "
            f"{path}:{record.location.line} and never awaited: its body never ran.",
            path,
            record.location.line,
            context,
            evidence,
            severity=entry.severity,
        )
        placed.findings.append(finding)
        placed.line_evidence[(path, record.location.line)].append(evidence)
    return placed


def slow_steps_on_profile(
    steps: Sequence[tuple[str, SlowStep]], blocking: Sequence[Finding], context: CodeContext
) -> list[Finding]:
    """RUNTIME-SLOW-CALLBACK for slow steps of server code, placed where the profile saw the loop
    blocked: asyncio names uvicorn's request task, the profile names the line."""
    if not steps or not blocking:
        return []
    count = sum(step.count for _, step in steps)
    longest = max(step.max_seconds for _, step in steps)
    names = sorted({step.name for _, step in steps})
    artifacts = sorted({artifact for artifact, _ in steps})
    summary = f"{count:,} slow steps of {', '.join(names)}() in server code (max {longest:.3f} s)"
    evidence = RuntimeEvidence(
        kind="asyncio-log",
        summary=summary,
        artifact=", ".join(artifacts),
        metrics={"count": float(count), "max_seconds": longest},
    )
    placed = []
    for site in blocking:
        finding = _runtime_finding(
            "RUNTIME-SLOW-CALLBACK",
            "runtime-slow-callback",
            f"Slow request steps (up to {longest:.3f} s): the profile places them here",
            f"asyncio debug mode logged {summary}. Those lines name the server's request task, "
            f"not application code; the profile shows the event loop blocked at "
            f"{site.path}:{site.start_line} ({site.evidence[0].summary}).",
            site.path,
            site.start_line,
            context,
            evidence,
            witness=site.witness,
            properties={"count": count, "max_seconds": longest, "placed_by": "profile"},
        )
        finding.confidence = "medium"
        finding.evidence.extend(site.evidence)
        placed.append(finding)
    return placed


# --- Locust -------------------------------------------------------------------------------------


def _route_for(stats: EndpointStats, context: CodeContext) -> RouteTarget | None:
    return context.routes.match(stats.method, stats.name)


def load_test_table(
    report: LocustReport, artifact: str, context: CodeContext, budget_ms: float
) -> dict[str, Any]:
    endpoints = []
    for stats in report.endpoints:
        route = _route_for(stats, context)
        endpoints.append({**stats.as_row(), "route": route.key if route else ""})
    overall = report.aggregated.as_row() if report.aggregated else {}
    if overall:
        # Locust's all-endpoints row stays in the table under its own name ("Aggregated"):
        # the platform's stage table and p95 gate read it from there.
        endpoints.append({**overall, "route": ""})
    return {
        "source": artifact,
        "latency_budget_ms": budget_ms,
        "endpoints": endpoints,
        "overall": overall,
        "peak_users": report.peak_users,
        "failures": [
            {"method": f.method, "name": f.name, "error": f.error, "occurrences": f.occurrences}
            for f in report.failures
        ],
    }


def route_traffic(report: LocustReport, context: CodeContext) -> tuple[dict[str, int], int]:
    """Requests per matched route key, and the total requests of the run."""
    per_route: dict[str, int] = defaultdict(int)
    for stats in report.endpoints:
        route = _route_for(stats, context)
        if route is not None:
            per_route[route.key] += stats.requests
    total = report.total_requests or sum(stats.requests for stats in report.endpoints)
    return dict(per_route), total


def locust_findings(
    report: LocustReport, artifact: str, context: CodeContext, budget_ms: float
) -> Placed:
    """RUNTIME-SLOW-ENDPOINT: p95 over the latency budget, or failed requests."""
    placed = Placed()
    for stats in report.endpoints:
        over = stats.p95_ms > budget_ms
        if not over and stats.failures == 0:
            continue
        route = _route_for(stats, context)
        problems = []
        if over:
            problems.append(f"p95 {stats.p95_ms:,.0f} ms over the {budget_ms:,.0f} ms budget")
        if stats.failures:
            problems.append(
                f"{stats.failures:,} of {stats.requests:,} requests failed "
                f"({_percent(stats.error_rate)})"
            )
        label = f"{stats.method} {stats.name}".strip()
        summary = f"{label}: " + "; ".join(problems) + f" at {stats.rps:.1f} RPS"
        evidence = RuntimeEvidence(
            kind="locust",
            summary=summary,
            artifact=artifact,
            metrics={
                "p50_ms": stats.p50_ms,
                "p95_ms": stats.p95_ms,
                "p99_ms": stats.p99_ms,
                "rps": stats.rps,
                "requests": float(stats.requests),
                "failures": float(stats.failures),
                "error_rate": stats.error_rate,
            },
        )
        if route is None or not route.path or route.line <= 0:
            placed.unplaced.append({"what": summary, "route": route.key if route else ""})
            continue
        placed.findings.append(
            _runtime_finding(
                "RUNTIME-SLOW-ENDPOINT",
                "runtime-slow-endpoint",
                f"{route.key} is "
                + (
                    " and ".join(
                        (["over the latency budget"] if over else [])
                        + (["failing under load"] if stats.failures else [])
                    )
                ),
                f"The load test ({artifact}) measured {summary} "
                f"(p50 {stats.p50_ms:,.0f} ms, p99 {stats.p99_ms:,.0f} ms).",
                route.path,
                route.line,
                context,
                evidence,
                reach=(route.key,),
                witness=(WitnessStep(route.path, route.line, route.function, route.key),),
                properties={"endpoint": label, "route": route.key},
            )
        )
    return placed


# --- SQL logs -----------------------------------------------------------------------------------


def sql_findings(log: SqlLog, artifact: str, context: CodeContext, threshold: int) -> Placed:
    """RUNTIME-N-PLUS-ONE: one request ran the same query shape ``threshold`` times or more."""
    placed = Placed()
    for record in sorted(log.repeated.values(), key=lambda r: -r.max_per_request):
        if record.max_per_request < threshold:
            continue
        route = context.routes.match_request(record.endpoint) if record.endpoint else None
        shape = record.shape if len(record.shape) <= 200 else record.shape[:197] + "..."
        summary = (
            f"{record.max_per_request:,} runs of one query shape in a single request"
            + (f" ({record.endpoint})" if record.endpoint else "")
            + f", in {record.requests:,} request{'s' if record.requests != 1 else ''}: {shape}"
        )
        evidence = RuntimeEvidence(
            kind="sql-log",
            summary=summary,
            artifact=artifact,
            metrics={
                "max_per_request": float(record.max_per_request),
                "requests": float(record.requests),
                "total": float(record.total),
            },
        )
        if route is None or not route.path or route.line <= 0:
            placed.unplaced.append(
                {
                    "what": summary,
                    "endpoint": record.endpoint,
                    "log_line": record.first_log_line,
                    "grouping": log.grouping,
                }
            )
            continue
        placed.findings.append(
            _runtime_finding(
                "RUNTIME-N-PLUS-ONE",
                "runtime-n-plus-one",
                f"{route.key} runs one query {record.max_per_request:,} times per request",
                f"The SQL log ({artifact}, from line {record.first_log_line}) shows {summary}.",
                route.path,
                route.line,
                context,
                evidence,
                reach=(route.key,),
                witness=(WitnessStep(route.path, route.line, route.function, route.key),),
                properties={"shape": record.shape, "endpoint": record.endpoint},
            )
        )
        placed.route_evidence[route.key].append(evidence)
    return placed


# --- type checkers and foreign SARIF ------------------------------------------------------------


def typecheck_findings(report: TypeCheckReport, artifact: str, context: CodeContext) -> Placed:
    """TYPE-CHECK: errors are medium (a latent bug the checker can prove), warnings low."""
    placed = Placed()
    entry = category("TYPE-CHECK")
    unmapped: dict[str, int] = defaultdict(int)
    for diagnostic in report.diagnostics:
        path = context.paths.map(diagnostic.file)
        if path is None:
            unmapped[diagnostic.file] += 1
            continue
        severity = Severity.MEDIUM if diagnostic.severity == "error" else Severity.LOW
        code = f" [{diagnostic.code}]" if diagnostic.code else ""
        span = context.functions.innermost(path, diagnostic.line)
        placed.findings.append(
            Finding(
                rule_id=f"{report.tool}:{diagnostic.code or diagnostic.severity}",
                category=entry.id,
                severity=severity,
                title=f"{report.tool}: {diagnostic.message[:120]}",
                message=diagnostic.message
                + code
                + (f"\n{diagnostic.hint}" if diagnostic.hint else ""),
                path=path,
                start_line=diagnostic.line,
                start_col=max(1, diagnostic.column),
                end_line=max(diagnostic.line, diagnostic.end_line),
                end_col=diagnostic.end_column,
                enclosing=span.qualname if span else "",
                snippet=context.functions.source_line(path, diagnostic.line),
                remediation=entry.remediation,
                source=report.tool,
                properties={"checker_severity": diagnostic.severity, "code": diagnostic.code},
            )
        )
    placed.unplaced = [
        {"file": file, "diagnostics": count} for file, count in sorted(unmapped.items())
    ]
    return placed


def sarif_findings(log: SarifLog, context: CodeContext) -> Placed:
    placed = Placed()
    unmapped: dict[str, int] = defaultdict(int)
    for result in log.results:
        path = context.paths.map(result.uri)
        if path is None:
            unmapped[result.uri] += 1
            continue
        mapped = result.catalog_category
        if mapped and is_catalog_category(mapped):
            entry = category(mapped)
            category_id, severity, remediation = entry.id, entry.severity, entry.remediation
        else:
            category_id, remediation = result.rule_id, ""
            try:
                severity = Severity.parse(result.level)
            except ValueError:
                severity = Severity.MEDIUM
        span = context.functions.innermost(path, result.line)
        placed.findings.append(
            Finding(
                rule_id=result.rule_id,
                category=category_id,
                severity=severity,
                title=f"{result.tool}: {result.rule_name or result.rule_id}",
                message=result.message,
                path=path,
                start_line=result.line,
                start_col=result.column,
                end_line=result.end_line,
                end_col=result.end_column,
                enclosing=span.qualname if span else "",
                snippet=result.snippet or context.functions.source_line(path, result.line),
                remediation=remediation,
                source=f"sarif:{result.tool}",
                properties={"foreign_rule": result.rule_id, "help_uri": result.help_uri}
                if result.help_uri
                else {"foreign_rule": result.rule_id},
            )
        )
    placed.unplaced = [{"file": uri, "results": count} for uri, count in sorted(unmapped.items())]
    return placed


def attach_evidence(static: Sequence[Finding], placed: Sequence[Placed]) -> int:
    """Attach runtime evidence to static findings at the same code location; count them."""
    confirmed = 0
    for finding in static:
        if finding.source == "runtime":
            continue
        before = len(finding.evidence)
        for part in placed:
            for evidence in part.line_evidence.get((finding.path, finding.start_line), ()):
                if (
                    finding.category.startswith(("ASYNC-", "DB-"))
                    and evidence not in finding.evidence
                ):
                    finding.evidence.append(evidence)
            for path, first, last, evidence in part.span_evidence:
                if (
                    finding.path == path
                    and first <= finding.start_line <= last
                    and finding.category.startswith("ASYNC-")
                    and evidence not in finding.evidence
                ):
                    finding.evidence.append(evidence)
            if finding.category == "DB-N-PLUS-ONE":
                for route in finding.reach:
                    for evidence in part.route_evidence.get(route, ()):
                        if evidence not in finding.evidence:
                            finding.evidence.append(evidence)
        if len(finding.evidence) > before:
            confirmed += 1
    return confirmed
