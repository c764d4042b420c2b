"""Reads for scans, artifacts and load-test figures, scoped to the user's organizations."""

from __future__ import annotations

from django.db.models import QuerySet

from audit_platform.accounts.selectors import UserLike
from audit_platform.projects.models import Project
from audit_platform.scans.models import Artifact, EndpointLoadStat, Scan, ScanStatus

# Big JSON columns a list never shows.
_HEAVY_FIELDS = ("log", "load_test", "trend", "completed_steps")


def scan_list_for_user(
    user: UserLike,
    *,
    project: Project | None = None,
    status: str | None = None,
    branch: str | None = None,
) -> QuerySet[Scan]:
    """Scans the user may see, newest first, without the heavy JSON columns."""
    if not user.is_authenticated:
        return Scan.objects.none()
    scans = Scan.objects.filter(project__organization__memberships__user=user)
    if project is not None:
        scans = scans.filter(project=project)
    if status:
        scans = scans.filter(status=status)
    if branch:
        scans = scans.filter(branch=branch)
    return (
        scans.select_related("project__organization", "created_by")
        .defer(*_HEAVY_FIELDS)
        .order_by("-created_at", "-id")
    )


def scan_get_for_user(user: UserLike, *, project: Project, number: int) -> Scan:
    """The scan with all its columns, or ``Scan.DoesNotExist`` when not visible to the user."""
    if not user.is_authenticated:
        raise Scan.DoesNotExist
    return Scan.objects.select_related("project__organization", "created_by").get(
        project=project, number=number, project__organization__memberships__user=user
    )


def latest_successful_scan(user: UserLike, project: Project, branch: str = "") -> Scan | None:
    """The newest succeeded scan of the project (on ``branch``, default the default branch)."""
    return (
        scan_list_for_user(user, project=project, status=ScanStatus.SUCCEEDED)
        .filter(branch=branch or project.default_branch)
        .order_by("-finished_at", "-id")
        .first()
    )


def artifact_list_for_user(user: UserLike, scan: Scan) -> QuerySet[Artifact]:
    if not user.is_authenticated:
        return Artifact.objects.none()
    return Artifact.objects.filter(
        scan=scan, scan__project__organization__memberships__user=user
    ).order_by("id")


def endpoint_stats_for_user(
    user: UserLike, project: Project, *, endpoint: str | None = None
) -> QuerySet[EndpointLoadStat]:
    """Per-endpoint load-test rows of the project's succeeded scans, oldest scan first.

    ``endpoint="Aggregated"`` gives the overall row of each load test (Locust's name for it).
    """
    if not user.is_authenticated:
        return EndpointLoadStat.objects.none()
    stats = EndpointLoadStat.objects.filter(
        scan__project=project,
        scan__status=ScanStatus.SUCCEEDED,
        scan__project__organization__memberships__user=user,
    )
    if endpoint is not None:
        stats = stats.filter(endpoint=endpoint)
    ordering = ("scan__created_at", "scan_id", "endpoint", "method")
    return stats.select_related("scan").order_by(*ordering)
