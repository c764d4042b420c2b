"""The remediation report as a document: its charts, its HTML (browser or print) and its PDF.

The browser page draws the charts with plotly.js; the PDF and e-mail get the same figures as SVG
images, all rendered by ONE headless Chromium per report (`rendering.render_chart_images`).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from audit_platform.findings.models import Finding
from audit_platform.reports import charts, selectors
from audit_platform.reports.remediation import RemediationReport
from audit_platform.reports.rendering import ChartImage, render_chart_images, render_pdf
from audit_platform.scans.models import Scan

# Titles of the report's charts, in the order they appear.
REPORT_CHARTS = {
    "open_by_severity": "Open findings by severity over scans",
    "new_vs_fixed": "New, fixed and reopened per scan",
    "locations": "Where the risk lives (summed blast radius per file)",
    "routes": "Riskiest routes (summed blast radius of the findings each route reaches)",
    "categories": "Open findings per category",
    "load": "Load tests: p95 and requests/s per scan",
}


def public_url() -> str:
    """Where people reach the dashboard, for links in PDFs and e-mails (`AUDIT_PUBLIC_URL`)."""
    configured = getattr(settings, "AUDIT_PUBLIC_URL", "") or os.environ.get("AUDIT_PUBLIC_URL", "")
    return str(configured or "http://localhost:8000").rstrip("/")


def dashboard_figures(board: selectors.ProjectDashboard) -> dict[str, charts.Figure]:
    """The dashboard's charts; the report draws the same builders."""
    points = selectors.scan_points(board.scans)
    figures: dict[str, charts.Figure] = {}
    if points:
        figures["open_by_severity"] = charts.open_by_severity_over_scans(points)
        figures["new_vs_fixed"] = charts.new_vs_fixed_per_scan(points)
    if board.categories:
        figures["categories"] = charts.category_breakdown(board.categories)
    if board.locations:
        figures["locations"] = charts.risk_by_location(board.locations)
    if board.routes:
        figures["routes"] = charts.risk_by_location(board.routes)
    if any(v is not None for v in board.mttr.values()):
        figures["mttr"] = charts.mean_time_to_remediate(board.mttr)
    if board.load:
        figures["load"] = charts.load_test_over_scans(
            [
                charts.LoadTestPoint(selectors.scan_label(r.scan), r.p95_ms, r.rps)
                for r in board.load
            ]
        )
    return figures


def report_figures(scan: Scan) -> dict[str, charts.Figure]:
    board = selectors.project_dashboard(scan.project)
    figures = dashboard_figures(board)
    return {name: figures[name] for name in REPORT_CHARTS if name in figures}


def finding_url_builder(scan: Scan, *, absolute: bool) -> Any:
    project = scan.project
    prefix = public_url() if absolute else ""

    def url(finding: Finding) -> str:
        path = reverse(
            "dashboard:finding", args=[project.organization.slug, project.slug, finding.pk]
        )
        return prefix + path

    return url


@dataclass
class ReportDocument:
    report: RemediationReport
    html: str
    images: dict[str, ChartImage]


def render_report_html(
    report: RemediationReport,
    *,
    scan: Scan,
    images: dict[str, ChartImage] | None = None,
    figures_json: dict[str, str] | None = None,
    for_print: bool,
) -> str:
    charts_in_order = [
        {
            "name": name,
            "title": title,
            "image": (images or {}).get(name),
            "figure": (figures_json or {}).get(name),
        }
        for name, title in REPORT_CHARTS.items()
        if name in (images or {}) or name in (figures_json or {})
    ]
    return render_to_string(
        "reports/remediation_report.html",
        {
            "report": report,
            "scan": scan,
            "project": scan.project,
            "charts": charts_in_order,
            "for_print": for_print,
            "public_url": public_url(),
        },
    )


def build_report_document(scan: Scan, *, now: datetime.datetime | None = None) -> ReportDocument:
    """The print version: static SVG charts (one browser for all of them) and absolute links."""
    report = selectors.remediation_report(
        scan, finding_url=finding_url_builder(scan, absolute=True), now=now
    )
    images = render_chart_images(report_figures(scan))
    html = render_report_html(report, scan=scan, images=images, for_print=True)
    return ReportDocument(report=report, html=html, images=images)


def build_report_pdf(
    scan: Scan, *, now: datetime.datetime | None = None
) -> tuple[RemediationReport, bytes]:
    document = build_report_document(scan, now=now)
    return document.report, render_pdf(document.html, base_url=public_url())


def report_filename(report: RemediationReport, scan: Scan) -> str:
    return f"remediation-{report.project_slug}-scan-{scan.number}.pdf"
