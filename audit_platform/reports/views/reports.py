"""The remediation report of a scan: in the browser (interactive charts) and as a PDF."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string

from audit_platform.projects.models import Project
from audit_platform.reports import documents, selectors
from audit_platform.reports.access import project_access
from audit_platform.reports.views.common import figure_json, render_page
from audit_platform.scans.models import Scan, ScanStatus


def _succeeded_scan(project: Project, number: int) -> Scan:
    scan = Scan.objects.filter(project=project, number=number, status=ScanStatus.SUCCEEDED).first()
    if scan is None:
        raise Http404("Reports exist for succeeded scans only.")
    scan.project = project
    return scan


@login_required
def report_latest(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    latest = selectors.latest_succeeded_scan_id(project)
    if latest is None:
        return render_page(
            request, "dashboard/report_empty.html", access, project=project, tab="report"
        )
    number = Scan.objects.values_list("number", flat=True).get(pk=latest)
    return redirect("dashboard:report", org_slug, project_slug, number)


@login_required
def report_html(
    request: HttpRequest, org_slug: str, project_slug: str, number: int
) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    scan = _succeeded_scan(project, number)
    report = selectors.remediation_report(
        scan, finding_url=documents.finding_url_builder(scan, absolute=False)
    )
    figures = {name: figure_json(fig) for name, fig in documents.report_figures(scan).items()}
    body = render_to_string(
        "reports/_report_body.html",
        {"report": report, "project": project, "scan": scan, "charts": _browser_charts(figures)},
    )
    return render_page(
        request,
        "dashboard/report.html",
        access,
        project=project,
        tab="report",
        page_title=f"Remediation report · scan #{scan.number}",
        scan=scan,
        report_body=body,
    )


def _browser_charts(figures: Mapping[str, str]) -> list[dict[str, object]]:
    return [
        {"name": name, "title": title, "figure": figures[name], "image": None}
        for name, title in documents.REPORT_CHARTS.items()
        if name in figures
    ]


@login_required
def report_pdf(request: HttpRequest, org_slug: str, project_slug: str, number: int) -> HttpResponse:
    _, project = project_access(request, org_slug, project_slug)
    scan = _succeeded_scan(project, number)
    report, pdf = documents.build_report_pdf(scan)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{documents.report_filename(report, scan)}"'
    )
    return response
