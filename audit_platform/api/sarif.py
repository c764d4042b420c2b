"""SARIF export of one scan: the stored findings turned back into the engine's dataclasses, so
``scanners.sarif.to_sarif`` — the same code the CLI uses — writes the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit_platform.findings.models import TRIAGED_STATUSES, FindingOccurrence
from audit_platform.scans.models import Scan
from scanners.catalog import Severity as EngineSeverity
from scanners.findings import Finding as EngineFinding
from scanners.findings import RuntimeEvidence, ScanResult, WitnessStep
from scanners.sarif import to_sarif

# The archive or checkout the scan read is gone; results are relative to the repository root.
EXPORT_ROOT = Path("/")


def _witness(raw: Any) -> tuple[WitnessStep, ...]:
    steps = []
    for step in raw if isinstance(raw, list) else []:
        if isinstance(step, dict) and step.get("path"):
            steps.append(
                WitnessStep(
                    path=str(step["path"]),
                    line=int(step.get("line") or 1),
                    function=str(step.get("function", "")),
                    note=str(step.get("note", "")),
                )
            )
    return tuple(steps)


def _evidence(raw: Any) -> list[RuntimeEvidence]:
    items = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            raw_metrics = item.get("metrics")
            metrics = {
                str(name): float(value)
                for name, value in (raw_metrics.items() if isinstance(raw_metrics, dict) else ())
                if isinstance(value, int | float)
            }
            items.append(
                RuntimeEvidence(
                    kind=str(item.get("kind", "")),
                    summary=str(item.get("summary", "")),
                    artifact=str(item.get("artifact", "")),
                    metrics=metrics,
                )
            )
    return items


def scan_result_for_export(scan: Scan, *, include_triaged: bool = False) -> ScanResult:
    """What ``scan`` saw, each finding where that scan saw it, ranked by blast radius."""
    occurrences = (
        FindingOccurrence.objects.filter(scan=scan)
        .select_related("finding")
        .order_by("-blast_radius", "id")
    )
    if not include_triaged:
        occurrences = occurrences.exclude(finding__status__in=TRIAGED_STATUSES)
    findings = []
    for occurrence in occurrences.iterator(chunk_size=2000):
        row = occurrence.finding
        findings.append(
            EngineFinding(
                rule_id=row.rule_id,
                category=row.category,
                severity=EngineSeverity(occurrence.severity),
                title=row.title,
                message=row.message or row.title,
                path=occurrence.path,
                start_line=occurrence.start_line,
                start_col=row.start_col,
                end_line=occurrence.end_line,
                end_col=row.end_col,
                enclosing=occurrence.enclosing,
                snippet=row.snippet,
                remediation=row.remediation,
                suggested_fix=row.suggested_fix,
                confidence=row.confidence,
                source=row.rule_source,
                reach=tuple(str(route) for route in row.reach or []),
                witness=_witness(row.witness),
                evidence=_evidence(row.runtime_evidence),
                blast_radius=occurrence.blast_radius,
                blast_explanation=row.blast_explanation,
                fingerprint=row.fingerprint,
                properties=dict(row.properties or {}),
            )
        )
    return ScanResult(
        root=EXPORT_ROOT,
        findings=findings,
        versions={str(k): str(v) for k, v in (scan.scanner_versions or {}).items()},
        stats={str(k): v for k, v in (scan.stats or {}).items() if isinstance(v, int)},
    )


def scan_sarif(scan: Scan, *, include_triaged: bool = False) -> dict[str, Any]:
    result = scan_result_for_export(scan, include_triaged=include_triaged)
    document: dict[str, Any] = to_sarif(result)
    return document
