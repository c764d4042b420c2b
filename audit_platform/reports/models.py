"""What the reports app remembers: who wants a report after every scan, and every report sent.

A ReportDelivery row is written BEFORE the mail goes out and keyed by (project, period), so a
redelivered Celery task finds the row and never sends the same weekly report twice; it also keeps
the risk at the time, so the next report can say "risk now vs last report".
"""

from __future__ import annotations

from django.db import models


class ReportPreference(models.Model):
    """Report settings that are not on Project (the scheduled cadence and recipients are)."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="report_preference"
    )
    send_after_scan = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"report preferences of {self.project}"


class DeliveryKind(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    AFTER_SCAN = "after_scan", "After a scan"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class ReportDelivery(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="report_deliveries"
    )
    scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=DeliveryKind.choices)
    # "2026-W47", "2026-11" or "scan-12": one delivery per project and period.
    period = models.CharField(max_length=32)
    recipients = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    risk = models.FloatField(null=True, blank=True)  # risk when the report was built
    open_findings = models.PositiveIntegerField(null=True, blank=True)
    pdf_bytes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "kind", "period"], name="report_delivery_once_per_period"
            )
        ]
        indexes = [
            models.Index(fields=["project", "status", "-sent_at"], name="report_delivery_recent")
        ]

    def __str__(self) -> str:
        return f"{self.kind} report {self.period} of {self.project} ({self.status})"
