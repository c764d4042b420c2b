"""Scans: the list, starting a scan (git ref or uploaded archive, with artifacts), the scan page and
its live progress fragment (polled by htmx while the scan runs)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from audit_platform.api.gate import evaluate_gate
from audit_platform.projects.models import Project
from audit_platform.reports import selectors
from audit_platform.reports.access import project_access, signed_in_user
from audit_platform.reports.forms import StartScanForm
from audit_platform.reports.views.common import paginate, render_page
from audit_platform.scans import services as scan_services
from audit_platform.scans.models import Scan, ScanStage


def _scan_or_404(project: Project, number: int) -> Scan:
    scan = Scan.objects.filter(project=project, number=number).select_related("created_by").first()
    if scan is None:
        raise Http404("No such scan.")
    scan.project = project
    return scan


@login_required
def scan_list(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    scans = (
        Scan.objects.filter(project=project)
        .defer("log", "completed_steps", "trend")
        .order_by("-created_at", "-id")
    )
    return render_page(
        request,
        "dashboard/scans.html",
        access,
        project=project,
        tab="scans",
        page=paginate(request, scans),
        form=StartScanForm(project=project),
    )


@login_required
@require_POST
def scan_start(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    """Queue a scan: of the git source at a ref, or of an uploaded archive; artifacts go with it."""
    access, project = project_access(request, org_slug, project_slug)
    access.require_write()
    form = StartScanForm(request.POST, request.FILES, project=project)
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, "; ".join(str(e) for e in error))
        return redirect("dashboard:scans", org_slug, project_slug)
    artifacts = form.artifacts()
    try:
        archive = form.cleaned_data.get("archive")
        if archive is not None:
            scan = scan_services.scan_create_from_archive(
                project=project,
                archive=archive,
                archive_name=archive.name,
                branch=form.cleaned_data.get("ref", ""),
                created_by=signed_in_user(request),
                enqueue=not artifacts,
            )
        else:
            scan = scan_services.scan_create(
                project=project,
                ref=form.cleaned_data.get("ref", ""),
                created_by=signed_in_user(request),
                enqueue=not artifacts,
            )
        if artifacts:
            for kind, upload in artifacts:
                scan_services.artifact_add(
                    scan=scan,
                    stream=upload,
                    original_name=upload.name,
                    kind=kind,
                    actor=signed_in_user(request),
                )
            scan_services.scan_enqueue(scan, actor=signed_in_user(request))
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect("dashboard:scans", org_slug, project_slug)
    messages.success(request, f"Scan #{scan.number} queued.")
    return redirect("dashboard:scan", org_slug, project_slug, scan.number)


def _scan_context(scan: Scan) -> dict[str, Any]:
    stages = [s for s in ScanStage if s not in (ScanStage.QUEUED, ScanStage.DONE)]
    timings = scan.stage_timings or {}
    return {
        "scan": scan,
        "stages": [(s.value, s.label, timings.get(s.value)) for s in stages],
        "stage_label": ScanStage(scan.stage).label
        if scan.stage in ScanStage.values
        else scan.stage,
        "total_seconds": scan.duration_seconds,
    }


@login_required
def scan_detail(
    request: HttpRequest, org_slug: str, project_slug: str, number: int
) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    scan = _scan_or_404(project, number)
    log = scan.log or []
    return render_page(
        request,
        "dashboard/scan.html",
        access,
        project=project,
        tab="scans",
        page_title=f"Scan #{scan.number}",
        gate=evaluate_gate(scan) if scan.is_final else None,
        artifacts=list(scan.artifacts.all()),
        log_entries=log[:500],
        log_truncated=max(0, len(log) - 500),
        fixed=list(selectors.findings_fixed_in(scan)[:10]) if scan.fixed_count else [],
        reopened=list(selectors.findings_reopened_in(scan)[:10]) if scan.reopened_count else [],
        **_scan_context(scan),
    )


@login_required
def scan_progress(
    request: HttpRequest, org_slug: str, project_slug: str, number: int
) -> HttpResponse:
    """The progress fragment. htmx polls it while the scan runs; when the scan is final the
    response asks htmx to reload the whole page (HX-Refresh) so counts, log and gate appear."""
    access, project = project_access(request, org_slug, project_slug)
    scan = _scan_or_404(project, number)
    response = render_page(
        request, "partials/scan_progress.html", access, project=project, **_scan_context(scan)
    )
    if scan.is_final and request.GET.get("was") == "running":
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def scan_cancel(
    request: HttpRequest, org_slug: str, project_slug: str, number: int
) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    access.require_write()
    scan = _scan_or_404(project, number)
    scan_services.scan_cancel(scan, actor=signed_in_user(request))
    messages.info(request, f"Cancellation of scan #{scan.number} requested.")
    return redirect("dashboard:scan", org_slug, project_slug, number)
