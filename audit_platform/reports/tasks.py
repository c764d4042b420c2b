"""Celery tasks of the reports app: thin, idempotent by the ReportDelivery row of each period.

Beat runs `reports.send_scheduled_reports` every morning (settings: CELERY_BEAT_SCHEDULE); it fans
out one `reports.send_project_report` per due project. The after-scan report is queued by the
scan-finished hook (`audit_platform.reports.hooks`).
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from audit_platform.projects.models import Project
from audit_platform.reports import delivery
from audit_platform.scans.models import Scan

# Mail servers and networks fail transiently (smtplib's errors are OSErrors); DeliveryFailed is
# any failure while sending, already recorded on the delivery row. Retries are bounded.
TRANSIENT = (OSError, OperationalError, delivery.DeliveryFailed)


@shared_task(
    name="reports.send_project_report",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=6,
    soft_time_limit=300,
    time_limit=360,
)
def send_project_report(project_id: int, kind: str, scan_id: int | None = None) -> str:
    project = Project.objects.select_related("organization").filter(pk=project_id).first()
    if project is None:
        return "project gone"
    scan = Scan.objects.filter(pk=scan_id, project=project).first() if scan_id else None
    sent = delivery.report_delivery_send(project, kind=kind, scan=scan)
    return sent.status if sent else "nothing to send"


@shared_task(
    name="reports.send_scheduled_reports",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
)
def send_scheduled_reports() -> int:
    due = delivery.projects_due_for_report(timezone.localdate())
    for project_id, kind in due:
        send_project_report.delay(project_id, kind)
    return len(due)
