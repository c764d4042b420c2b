"""Reads of the API that need more than the domain's user-scoped selectors: the caller may be a
CI token (no user), and the project is already resolved and checked by ``ApiView``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from audit_platform.findings.models import Finding, FindingOccurrence, FindingStatus, Severity
from audit_platform.projects.models import Project
from audit_platform.scans.models import EndpointLoadStat, Scan, ScanStatus


def finding_list_for_project(
    project: Project,
    filters: dict[str, Any],
    *,
    me: AbstractBaseUser | AnonymousUser | None = None,
) -> QuerySet[Finding]:
    """The project's findings narrowed by validated ``FindingFilterSerializer`` data."""
    findings = Finding.objects.filter(project=project).select_related("assignee")
    if filters.get("status"):
        findings = findings.filter(status__in=filters["status"])
    if filters.get("category"):
        findings = findings.filter(category__in=filters["category"])
    if filters.get("severity"):
        findings = findings.filter(severity__in=filters["severity"])
    if filters.get("min_severity") is not None:
        findings = findings.filter(severity__gte=filters["min_severity"])
    if filters.get("path"):
        findings = findings.filter(path__startswith=filters["path"])
    assignee = filters.get("assignee")
    if assignee == "none":
        findings = findings.filter(assignee__isnull=True)
    elif assignee == "me":
        user_id = me.pk if me is not None and me.is_authenticated else None
        findings = findings.filter(assignee_id=user_id) if user_id else findings.none()
    elif assignee:
        findings = findings.filter(assignee__username=assignee)
    if filters.get("new_in_scan") is not None:
        findings = findings.filter(first_seen_scan_id=filters["new_in_scan"])
    if filters.get("seen_in_scan") is not None:
        seen = FindingOccurrence.objects.filter(scan_id=filters["seen_in_scan"])
        findings = findings.filter(id__in=seen.values("finding_id"))
    if filters.get("confirmed_at_runtime") is not None:
        findings = findings.filter(confirmed_at_runtime=filters["confirmed_at_runtime"])
    if filters.get("min_blast_radius") is not None:
        findings = findings.filter(blast_radius__gte=filters["min_blast_radius"])
    return findings


AGGREGATED_ENDPOINT = "Aggregated"
DEFAULT_TREND_SCANS = 50
MAX_TREND_SCANS = 500
LOAD_KEYS = ("p50_ms", "p95_ms", "p99_ms", "rps", "requests", "failures")


def _mean_days(durations: list[timedelta]) -> float | None:
    if not durations:
        return None
    return round(sum(d.total_seconds() for d in durations) / len(durations) / 86400.0, 2)


def project_remediation_times(project: Project) -> dict[str, Any]:
    """Mean time to remediate: days from first seen to fixed, overall and per severity."""
    rows = Finding.objects.filter(
        project=project, status=FindingStatus.FIXED, fixed_at__isnull=False
    ).values_list("severity", "created_at", "fixed_at")
    by_severity: dict[str, list[timedelta]] = {}
    every: list[timedelta] = []
    for severity, created_at, fixed_at in rows.iterator(chunk_size=5000):
        if fixed_at is None:
            continue
        duration = fixed_at - created_at
        every.append(duration)
        by_severity.setdefault(Severity(severity).label, []).append(duration)
    return {
        "fixed_findings": len(every),
        "mean_days": _mean_days(every),
        "mean_days_by_severity": {
            label: _mean_days(by_severity[label])
            for label in (member.label for member in reversed(Severity))
            if label in by_severity
        },
    }


def project_trend(
    project: Project, *, branch: str = "", limit: int = DEFAULT_TREND_SCANS
) -> dict[str, Any]:
    """Per succeeded scan, oldest first: counts (new/open/fixed/reopened), the domain's trend
    snapshot (by severity, category, status) and the load test's overall p95/RPS."""
    scans_query = Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED)
    if branch:
        scans_query = scans_query.filter(branch=branch)
    scans = list(reversed(scans_query.order_by("-number")[:limit]))
    load = {
        row["scan_id"]: row
        for row in EndpointLoadStat.objects.filter(
            scan__in=[scan.pk for scan in scans], endpoint=AGGREGATED_ENDPOINT
        ).values("scan_id", "p50_ms", "p95_ms", "p99_ms", "rps", "requests", "failures")
    }
    points = []
    for scan in scans:
        stats = load.get(scan.pk)
        points.append(
            {
                "scan": scan.pk,
                "number": scan.number,
                "branch": scan.branch,
                "commit_sha": scan.commit_sha,
                "finished_at": scan.finished_at,
                "new": scan.new_count,
                "open": scan.open_count,
                "fixed": scan.fixed_count,
                "reopened": scan.reopened_count,
                "total": scan.findings_count,
                "snapshot": scan.trend or {},
                "load_test": None if stats is None else {key: stats.get(key) for key in LOAD_KEYS},
            }
        )
    return {
        "project": project.pk,
        "branch": branch,
        "scans": points,
        "remediation": project_remediation_times(project),
    }
