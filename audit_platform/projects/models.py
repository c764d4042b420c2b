"""Projects: what is scanned, from where, and the per-project settings the pipeline and reports use.

``sla_days`` maps a severity label to the days allowed to fix a new finding (``None``: no due
date); missing labels fall back to ``DEFAULT_SLA_DAYS``.

``quality_gate`` (read by the API's gate endpoint) is a JSON object; every key is optional and an
absent or null key disables that rule::

    {
      "fail_on_new_severity": "high",      # fail when the scan has a new finding at/above this
      "max_blast_radius": 60.0,            # fail when an open finding's blast radius exceeds this
      "fail_on_runtime_confirmed": true,   # fail on any open finding confirmed at runtime
      "max_new_findings": 0                # fail when the scan has more new findings than this
    }

``scan_schedule`` is ``""`` (no scheduled scans), ``"daily"``, ``"weekly"`` or a five-field cron
expression evaluated in UTC (``"30 2 * * 1-5"``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

DEFAULT_SLA_DAYS: dict[str, int | None] = {
    "critical": 7,
    "high": 30,
    "medium": 90,
    "low": 180,
    "info": None,
}
QUALITY_GATE_KEYS = frozenset(
    {
        "fail_on_new_severity",
        "max_blast_radius",
        "fail_on_runtime_confirmed",
        "max_new_findings",
        "max_p95_regression_percent",  # load-test p95 growth vs. the branch's previous scan
    }
)
# Named schedules as cron expressions (UTC): daily at 02:00, weekly on Monday at 02:00.
NAMED_SCHEDULES = {"daily": "0 2 * * *", "weekly": "0 2 * * 1"}


def default_sla_days() -> dict[str, int | None]:
    return dict(DEFAULT_SLA_DAYS)


class SourceKind(models.TextChoices):
    GIT = "git", "Git repository"
    UPLOADS = "uploads", "Uploaded archives only"


class ReportCadence(models.TextChoices):
    NONE = "none", "No scheduled report"
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class Project(models.Model):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100)
    source_kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.GIT
    )
    git_url = models.CharField(max_length=1000, blank=True, default="")
    default_branch = models.CharField(max_length=255, default="main")
    latency_budget_ms = models.PositiveIntegerField(default=500)
    sla_days = models.JSONField(default=default_sla_days)
    report_recipients = models.JSONField(default=list, blank=True)
    report_cadence = models.CharField(
        max_length=10, choices=ReportCadence.choices, default=ReportCadence.NONE
    )
    scan_schedule = models.CharField(max_length=100, blank=True, default="")
    exclude_globs = models.JSONField(default=list, blank=True)
    quality_gate = models.JSONField(default=dict, blank=True)
    # When dispatch_scheduled_scans last queued a scan; the next one is due after this.
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("organization__name", "name")
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="project_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.organization.slug}/{self.slug}"

    def sla_days_for(self, severity_label: str) -> int | None:
        """Days to fix a finding of this severity; ``None`` means no due date."""
        configured: dict[str, Any] = self.sla_days or {}
        value = configured.get(severity_label, DEFAULT_SLA_DAYS.get(severity_label))
        return int(value) if value is not None else None

    @property
    def schedule_cron(self) -> str:
        """The schedule as a cron expression; ``""`` when not scanned on a schedule."""
        return NAMED_SCHEDULES.get(self.scan_schedule, self.scan_schedule)
