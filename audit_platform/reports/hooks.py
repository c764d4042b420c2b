"""Plugs the reports app into the scan pipeline: the after-scan e-mail, when a project wants it."""

from __future__ import annotations

from django.db import transaction

from audit_platform.reports.delivery import wants_report_after_scan
from audit_platform.reports.models import DeliveryKind
from audit_platform.scans.hooks import register_scan_finished_hook
from audit_platform.scans.models import Scan


@register_scan_finished_hook("reports.after-scan-email")
def queue_after_scan_report(scan: Scan) -> None:
    """Queue the report mail after the hook's transaction commits (the PDF takes seconds to build
    and must not hold the scan's row lock)."""
    if not wants_report_after_scan(scan):
        return
    from audit_platform.reports.tasks import send_project_report  # noqa: PLC0415 (tasks import delivery)

    project_id, scan_id = scan.project_id, scan.pk
    transaction.on_commit(
        lambda: send_project_report.delay(project_id, DeliveryKind.AFTER_SCAN, scan_id)
    )
