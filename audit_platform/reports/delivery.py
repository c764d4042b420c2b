"""E-mailed PDF reports: weekly / monthly per project cadence, and after each scan when asked.

One ReportDelivery row per (project, kind, period) is locked while its mail is built and sent, so
a redelivered or concurrently started task sends a period's report at most once. A failure is
recorded on the row (attempts, error) and raised again so the Celery task retries with backoff.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit_platform.projects.models import Project, ReportCadence
from audit_platform.reports import documents
from audit_platform.reports.models import (
    DeliveryKind,
    DeliveryStatus,
    ReportDelivery,
    ReportPreference,
)
from audit_platform.reports.remediation import RemediationReport
from audit_platform.scans.models import Scan, ScanStatus

logger = logging.getLogger(__name__)
EMAIL_TOP_ITEMS = 5


class DeliveryFailed(RuntimeError):
    """Sending failed; the delivery row says why. Raised so the task retries."""


def period_key(kind: str, now: datetime.datetime, scan: Scan | None = None) -> str:
    if kind == DeliveryKind.AFTER_SCAN:
        if scan is None:
            raise ValueError("an after-scan report needs its scan")
        return f"scan-{scan.number}"
    day = timezone.localdate(now)
    if kind == DeliveryKind.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == DeliveryKind.MONTHLY:
        return f"{day:%Y-%m}"
    raise ValueError(f"unknown report kind {kind!r}")


def due_kinds(project: Project, today: datetime.date) -> list[str]:
    """Which scheduled reports the project wants today: weekly on Mondays, monthly on the 1st."""
    if project.report_cadence == ReportCadence.WEEKLY and today.isoweekday() == 1:
        return [DeliveryKind.WEEKLY]
    if project.report_cadence == ReportCadence.MONTHLY and today.day == 1:
        return [DeliveryKind.MONTHLY]
    return []


def wants_report_after_scan(scan: Scan) -> bool:
    if scan.status != ScanStatus.SUCCEEDED or not scan.project.report_recipients:
        return False
    return ReportPreference.objects.filter(
        project_id=scan.project_id, send_after_scan=True
    ).exists()


def _subject(kind: str, report: RemediationReport) -> str:
    label = {"weekly": "Weekly", "monthly": "Monthly", "after_scan": "Scan"}[kind]
    change = report.summary.risk_change_pct
    trend = f" ({change:+.0f}%)" if change is not None else ""
    overdue = f", {report.summary.overdue_total} overdue" if report.summary.overdue_total else ""
    risk = f"risk {report.summary.risk_now:.0f}{trend}"
    return f"[Audit] {report.project_name}: {label} remediation report, {risk}{overdue}"


def build_message(
    project: Project, scan: Scan, kind: str, recipients: list[str], now: datetime.datetime
) -> tuple[EmailMultiAlternatives, RemediationReport, int]:
    report, pdf = documents.build_report_pdf(scan, now=now)
    dashboard = documents.public_url() + reverse(
        "dashboard:project", args=[project.organization.slug, project.slug]
    )
    context = {
        "report": report,
        "kind": kind,
        "dashboard_url": dashboard,
        "top_items": [item for group in report.plan for item in group.items][:EMAIL_TOP_ITEMS],
    }
    message = EmailMultiAlternatives(
        subject=_subject(kind, report),
        body=render_to_string("emails/report.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    message.attach_alternative(render_to_string("emails/report.html", context), "text/html")
    message.attach(documents.report_filename(report, scan), pdf, "application/pdf")
    return message, report, len(pdf)


def report_delivery_send(
    project: Project, *, kind: str, scan: Scan | None = None, now: datetime.datetime | None = None
) -> ReportDelivery | None:
    """Send the project's report for this period once. None when there is nothing to send
    (no recipients, no succeeded scan yet)."""
    now = now or timezone.now()
    recipients = list(project.report_recipients or [])
    if not recipients:
        return None
    if scan is None:
        scan = (
            Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED)
            .order_by("-finished_at", "-id")
            .first()
        )
        if scan is None:
            logger.info("no report for %s: no succeeded scan yet", project)
            return None
    scan.project = project
    period = period_key(kind, now, scan)
    failure: Exception | None = None
    with transaction.atomic():
        row, _ = ReportDelivery.objects.get_or_create(
            project=project,
            kind=kind,
            period=period,
            defaults={"scan": scan, "recipients": recipients},
        )
        delivery = ReportDelivery.objects.select_for_update().get(pk=row.pk)
        if delivery.status == DeliveryStatus.SENT:
            return delivery
        delivery.attempts += 1
        delivery.scan, delivery.recipients = scan, recipients
        try:
            message, report, pdf_size = build_message(project, scan, kind, recipients, now)
            message.send()
        except Exception as exc:  # recorded on the row, then raised for the task to retry
            failure = exc
            delivery.status = DeliveryStatus.FAILED
            delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
            logger.warning(
                "report %s %s of %s failed (attempt %s): %s",
                kind,
                period,
                project,
                delivery.attempts,
                exc,
            )
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.error = ""
            delivery.sent_at = timezone.now()
            delivery.risk = report.summary.risk_now
            delivery.open_findings = report.summary.open_total
            delivery.pdf_bytes = pdf_size
            logger.info(
                "report %s %s of %s sent to %s", kind, period, project, ", ".join(recipients)
            )
        delivery.save()
    if failure is not None:
        raise DeliveryFailed(delivery.error) from failure
    return delivery


def projects_due_for_report(today: datetime.date) -> list[tuple[int, str]]:
    """(project id, kind) of every scheduled report due today."""
    candidates = Project.objects.exclude(report_cadence=ReportCadence.NONE).exclude(
        report_recipients=[]
    )
    return [(project.pk, kind) for project in candidates for kind in due_kinds(project, today)]
