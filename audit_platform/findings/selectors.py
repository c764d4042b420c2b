"""Reads for findings, scoped to the user's organizations. Lists come ranked by blast radius."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, QuerySet

from audit_platform.accounts.selectors import UserLike
from audit_platform.findings.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Severity,
)
from audit_platform.projects.models import Project
from audit_platform.scans.models import Scan

RANKED = ("-blast_radius", "-severity", "id")


def finding_list_for_user(
    user: UserLike,
    *,
    project: Project | None = None,
    status: str | list[str] | None = None,
    category: str | None = None,
    severity_at_least: int | None = None,
    path_prefix: str | None = None,
    assignee: UserLike | None = None,
    new_in_scan: Scan | None = None,
    confirmed_at_runtime: bool | None = None,
    min_blast_radius: float | None = None,
) -> QuerySet[Finding]:
    """Findings the user may see, filtered, ranked by blast radius (highest first)."""
    if not user.is_authenticated:
        return Finding.objects.none()
    findings = Finding.objects.filter(project__organization__memberships__user=user)
    if project is not None:
        findings = findings.filter(project=project)
    if isinstance(status, str):
        findings = findings.filter(status=status)
    elif status is not None:
        findings = findings.filter(status__in=status)
    if category:
        findings = findings.filter(category=category)
    if severity_at_least is not None:
        findings = findings.filter(severity__gte=severity_at_least)
    if path_prefix:
        findings = findings.filter(path__startswith=path_prefix)
    if assignee is not None:
        findings = findings.filter(assignee_id=assignee.pk)
    if new_in_scan is not None:
        findings = findings.filter(first_seen_scan=new_in_scan)
    if confirmed_at_runtime is not None:
        findings = findings.filter(confirmed_at_runtime=confirmed_at_runtime)
    if min_blast_radius is not None:
        findings = findings.filter(blast_radius__gte=min_blast_radius)
    return findings.select_related("project__organization", "assignee").order_by(*RANKED)


def finding_get_for_user(user: UserLike, pk: int) -> Finding:
    """The finding, or ``Finding.DoesNotExist`` when missing or not visible to the user."""
    return finding_list_for_user(user).get(pk=pk)


def my_open_findings(user: UserLike) -> QuerySet[Finding]:
    """Active findings assigned to the user, soonest due first (no due date last)."""
    if not user.is_authenticated:
        return Finding.objects.none()

    return (
        finding_list_for_user(user, status=list(ACTIVE_STATUSES))
        .filter(assignee_id=user.pk)
        .order_by(F("due_date").asc(nulls_last=True), *RANKED)
    )


def finding_event_list_for_user(user: UserLike, finding: Finding) -> QuerySet[FindingEvent]:
    """The finding's activity log, oldest first; empty when the user cannot see the finding."""
    if not finding_list_for_user(user).filter(pk=finding.pk).exists():
        return FindingEvent.objects.none()
    return FindingEvent.objects.filter(finding=finding).select_related("actor", "scan")


def occurrence_list_for_user(user: UserLike, scan: Scan) -> QuerySet[FindingOccurrence]:
    """What ``scan`` saw, as it saw it (location, severity, blast radius then), ranked."""
    if not user.is_authenticated:
        return FindingOccurrence.objects.none()
    return (
        FindingOccurrence.objects.filter(
            scan=scan, scan__project__organization__memberships__user=user
        )
        .select_related("finding")
        .order_by("-blast_radius", "-severity", "id")
    )


def _counts(queryset: QuerySet[Any], field: str) -> dict[str, int]:
    return {
        str(row[field]): row["n"]
        for row in queryset.values(field).annotate(n=Count("id")).order_by(field)
    }


def findings_trend_snapshot(scan: Scan) -> dict[str, Any]:
    """Counts after ``scan`` for trend charts: what the scan saw, and the project's state."""
    seen = FindingOccurrence.objects.filter(scan=scan)
    project_findings = Finding.objects.filter(project_id=scan.project_id)
    active = project_findings.filter(status__in=ACTIVE_STATUSES)

    def by_severity_label(counts: dict[str, int]) -> dict[str, int]:
        return {Severity(int(key)).label: value for key, value in counts.items()}

    return {
        "seen_by_severity": by_severity_label(_counts(seen, "severity")),
        "seen_by_category": _counts(seen.values("finding__category"), "finding__category"),
        "project_by_status": _counts(project_findings, "status"),
        "open_by_severity": by_severity_label(_counts(active, "severity")),
        "open_by_category": _counts(active, "category"),
    }
