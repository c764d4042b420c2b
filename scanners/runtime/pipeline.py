"""The ingest stage: parse every artifact, place what it says on the code, and sum up the signals.

``ingest_artifacts`` is the one entry point the engine's ``scan()`` calls. A failing artifact gets
an ``ArtifactOutcome`` with ``ok=False`` and a readable error; the others go on.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.findings import ArtifactInput, ArtifactOutcome, Finding
from scanners.ingest import asyncio_log, locust, pyspy, sarif_import, sql_log, typecheck
from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.registry import AUTO, KINDS, detect_kind
from scanners.runtime import detect
from scanners.runtime.mapping import (
    FunctionIndex,
    FunctionSpan,
    PathMapper,
    RouteMatcher,
    RouteTarget,
    list_python_files,
)

DEFAULT_N_PLUS_ONE_THRESHOLD = 10


@dataclass
class IngestResult:
    findings: list[Finding] = field(default_factory=list)  # runtime, type-check and imported
    outcomes: list[ArtifactOutcome] = field(default_factory=list)
    load_test: dict[str, Any] = field(default_factory=dict)  # for ScanResult.load_test
    route_traffic: dict[str, float] = field(default_factory=dict)  # route key -> request share
    function_heat: dict[tuple[str, str], float] = field(default_factory=dict)  # (path, qualname)
    confirmed: int = 0  # static findings that received runtime evidence
    seconds: float = 0.0


@dataclass
class IngestOptions:
    latency_budget_ms: float = 500.0
    n_plus_one_threshold: int = DEFAULT_N_PLUS_ONE_THRESHOLD
    sql: sql_log.SqlLogOptions = field(default_factory=sql_log.SqlLogOptions)


class _Accumulator:
    def __init__(self) -> None:
        self.placed: list[detect.Placed] = []
        self.heat: dict[tuple[str, str], int] = defaultdict(int)
        self.samples = 0
        self.route_requests: dict[str, int] = defaultdict(int)
        self.requests = 0
        self.load_tests: list[dict[str, Any]] = []


def ingest_artifacts(
    artifacts: Sequence[ArtifactInput],
    root: Path,
    routes: Sequence[str | RouteTarget],
    *,
    functions: Iterable[FunctionSpan] | None = None,
    files: Iterable[str] | None = None,
    static_findings: Sequence[Finding] = (),
    options: IngestOptions | None = None,
) -> IngestResult:
    """Parse ``artifacts`` and return runtime findings, outcomes, the load-test table and signals.

    ``routes`` are the engine's route templates ("GET /items/{item_id}", router prefixes
    included), as strings or ``RouteTarget``s carrying the handler's location. ``functions`` are
    the engine's function spans; without them the files that profiles point at are read with
    ``ast``. Static findings at a code location the runtime data confirms get ``evidence``.
    """
    started = time.perf_counter()
    options = options or IngestOptions()
    root = root.resolve()
    context = detect.CodeContext(
        paths=PathMapper(files if files is not None else list_python_files(root)),
        functions=FunctionIndex(root, functions),
        routes=RouteMatcher(
            route if isinstance(route, RouteTarget) else RouteTarget.parse(route)
            for route in routes
        ),
    )
    result = IngestResult()
    totals = _Accumulator()
    for artifact in artifacts:
        name = artifact.name or artifact.path.name
        kind = artifact.kind
        try:
            if kind == AUTO:
                detected = detect_kind(artifact.path)
                if detected is None:
                    raise ArtifactParseError(
                        "unknown format: none of " + ", ".join(KINDS) + " recognizes this file"
                    )
                kind = detected
            if kind not in KINDS:
                raise ArtifactParseError(
                    f"unknown artifact kind {kind!r}; expected one of {', '.join(KINDS)} or auto"
                )
            summary = _ingest_one(kind, artifact.path, name, context, options, totals, result)
        except ArtifactParseError as exc:
            result.outcomes.append(
                ArtifactOutcome(kind=kind, name=name, ok=False, error=exc.message)
            )
            continue
        except OSError as exc:
            result.outcomes.append(
                ArtifactOutcome(
                    kind=kind, name=name, ok=False, error=f"cannot read: {exc.strerror or exc}"
                )
            )
            continue
        except (ValueError, KeyError, TypeError, RecursionError, MemoryError) as exc:
            result.outcomes.append(
                ArtifactOutcome(
                    kind=kind,
                    name=name,
                    ok=False,
                    error=f"could not parse: {type(exc).__name__}: {exc}",
                )
            )
            continue
        result.outcomes.append(ArtifactOutcome(kind=kind, name=name, ok=True, summary=summary))
    result.findings = _merge_repeats(result.findings)
    result.findings.extend(
        detect.slow_steps_on_profile(
            [step for placed in totals.placed for step in placed.server_steps],
            [f for f in result.findings if f.category == "RUNTIME-BLOCKING-STACK"],
            context,
        )
    )
    result.confirmed = detect.attach_evidence(static_findings, totals.placed)
    if totals.samples:
        result.function_heat = {key: count / totals.samples for key, count in totals.heat.items()}
    if totals.requests:
        result.route_traffic = {
            key: count / totals.requests for key, count in totals.route_requests.items()
        }
    if totals.load_tests:
        # The latest run is the scan's load test; earlier ones stay available beside it.
        result.load_test = dict(totals.load_tests[-1])
        if len(totals.load_tests) > 1:
            result.load_test["other_runs"] = totals.load_tests[:-1]
    result.seconds = time.perf_counter() - started
    return result


def _merge_repeats(findings: list[Finding]) -> list[Finding]:
    """One finding per rule and place: two profiles of the same run confirm, not duplicate."""
    merged: dict[tuple[str, str, str, int], Finding] = {}
    for finding in findings:
        key = (finding.rule_id, *finding.location_key)
        first = merged.get(key)
        if first is None:
            merged[key] = finding
        elif finding.source == "runtime":
            first.evidence.extend(e for e in finding.evidence if e not in first.evidence)
        else:
            merged[(*key[:3], -len(merged))] = finding  # imported duplicates stay as reported
    return list(merged.values())


def _open_parse(path: Path, parse: Any) -> Any:
    with path.open("rb") as handle:
        return parse(handle)


def _ingest_one(  # noqa: PLR0917 (the stage's state, passed down once)
    kind: str,
    path: Path,
    name: str,
    context: detect.CodeContext,
    options: IngestOptions,
    totals: _Accumulator,
    result: IngestResult,
) -> dict[str, Any]:
    placed: detect.Placed
    summary: dict[str, Any]
    if kind == pyspy.KIND:
        profile: pyspy.PySpyProfile = _open_parse(path, pyspy.parse)
        placed = detect.profile_findings(profile, name, context)
        for function_key, samples in detect.profile_heat(profile, context).items():
            totals.heat[function_key] += samples
        totals.samples += profile.total_samples
        summary = profile.summary()
    elif kind == asyncio_log.KIND:
        log: asyncio_log.AsyncioLog = _open_parse(path, asyncio_log.parse)
        placed = detect.asyncio_findings(log, name, context)
        summary = log.summary()
    elif kind == locust.KIND:
        report = locust.load(path)
        placed = detect.locust_findings(report, name, context, options.latency_budget_ms)
        per_route, requests = detect.route_traffic(report, context)
        for key, count in per_route.items():
            totals.route_requests[key] += count
        totals.requests += requests
        totals.load_tests.append(
            detect.load_test_table(report, name, context, options.latency_budget_ms)
        )
        summary = report.summary()
        summary["matched_routes"] = len(per_route)
    elif kind in {typecheck.MYPY_KIND, typecheck.PYRIGHT_KIND}:
        parse = typecheck.parse_mypy if kind == typecheck.MYPY_KIND else typecheck.parse_pyright
        checked: typecheck.TypeCheckReport = _open_parse(path, parse)
        placed = detect.typecheck_findings(checked, name, context)
        summary = checked.summary()
    elif kind == sql_log.KIND:
        with path.open("rb") as handle:
            sql = sql_log.parse(handle, options.sql)
        placed = detect.sql_findings(sql, name, context, options.n_plus_one_threshold)
        summary = sql.summary()
    else:
        sarif: sarif_import.SarifLog = _open_parse(path, sarif_import.parse)
        placed = detect.sarif_findings(sarif, context)
        summary = sarif.summary()
    totals.placed.append(placed)
    result.findings.extend(placed.findings)
    summary["findings"] = len(placed.findings)
    if placed.unplaced:
        summary["unplaced"] = placed.unplaced[:50]
        summary["unplaced_count"] = len(placed.unplaced)
    return summary
