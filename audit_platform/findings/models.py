"""Findings: one row per real problem per project, its per-scan occurrences and its activity log.

Status workflow (after DefectDojo's active / mitigated / false positive / risk accepted):

    open --(user)--> in_progress --(user)--> fixed
      ^                                        |
      +------(a later scan sees it: reopened)--+
    open / in_progress --(a later scan of the same branch no longer sees it)--> fixed
    any --(user)--> false_positive | accepted_risk   (triage: kept across scans, never reopened)

Only ``audit_platform.findings.services`` and the scan pipeline change a finding, and every
change writes a FindingEvent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Severity(models.IntegerChoices):
    """Same order and values as ``scanners.catalog.Severity``, so ordering by it ranks correctly."""

    INFO = 0, "info"
    LOW = 1, "low"
    MEDIUM = 2, "medium"
    HIGH = 3, "high"
    CRITICAL = 4, "critical"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    FIXED = "fixed", "Fixed"
    FALSE_POSITIVE = "false_positive", "False positive"
    ACCEPTED_RISK = "accepted_risk", "Accepted risk"


# Still needs work; a scan that no longer sees one of these marks it fixed.
ACTIVE_STATUSES = frozenset({FindingStatus.OPEN, FindingStatus.IN_PROGRESS})
# Human decisions that scans never override.
TRIAGED_STATUSES = frozenset({FindingStatus.FALSE_POSITIVE, FindingStatus.ACCEPTED_RISK})


class Finding(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="findings"
    )
    fingerprint = models.CharField(max_length=64)
    category = models.CharField(max_length=200)
    rule_id = models.CharField(max_length=200)
    rule_source = models.CharField(max_length=100, default="engine")  # engine, semgrep, sarif:x
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    confidence = models.CharField(max_length=10, default="high")
    title = models.CharField(max_length=500)
    message = models.TextField(blank=True, default="")
    path = models.CharField(max_length=1000)
    start_line = models.PositiveIntegerField()
    start_col = models.PositiveIntegerField(default=1)
    end_line = models.PositiveIntegerField()
    end_col = models.PositiveIntegerField(default=0)
    enclosing = models.CharField(max_length=500, blank=True, default="")
    snippet = models.TextField(blank=True, default="")
    remediation = models.TextField(blank=True, default="")
    suggested_fix = models.TextField(blank=True, default="")  # unified diff, may be empty
    blast_radius = models.FloatField(default=0.0)
    blast_explanation = models.TextField(blank=True, default="")
    reach = models.JSONField(default=list, blank=True)  # routes: ["GET /items/{id}", ...]
    witness = models.JSONField(default=list, blank=True)  # [{path, line, function, note}, ...]
    runtime_evidence = models.JSONField(default=list, blank=True)  # [{kind, summary, ...}]
    confirmed_at_runtime = models.BooleanField(default=False)
    properties = models.JSONField(default=dict, blank=True)

    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_findings",
    )
    due_date = models.DateField(null=True, blank=True)
    first_seen_scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    last_seen_scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The scan that no longer saw it (null when a user marked it fixed).
    fixed_in_scan = models.ForeignKey(
        "scans.Scan", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    fixed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-blast_radius", "-severity", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "fingerprint"], name="finding_unique_fingerprint"
            )
        ]
        indexes = [
            # The default list: a project's findings by status, ranked by blast radius.
            models.Index(
                fields=["project", "status", "-blast_radius", "-severity"],
                name="finding_project_rank",
            ),
            # Ranked lists over several statuses ("open + in progress"): read in index order and
            # stop after one page, instead of sorting every active finding (dashboard, reports).
            models.Index(
                fields=["project", "-blast_radius", "-severity", "id"],
                name="finding_project_blast",
            ),
            # Per-category lists, also ranked (a plain (project, category) index left a
            # 26,000-row sort at 100k findings).
            models.Index(
                fields=["project", "category", "-blast_radius"], name="finding_project_category"
            ),
            # Every other ordering the API offers is (field, id): with id in the index a page,
            # first or deep, is one range scan (ties were sorted in memory, every row of them).
            models.Index(fields=["project", "severity", "id"], name="finding_project_severity"),
            models.Index(fields=["project", "path", "id"], name="finding_project_path"),
            models.Index(fields=["project", "updated_at", "id"], name="finding_project_updated"),
            models.Index(fields=["project", "created_at", "id"], name="finding_project_created"),
            models.Index(fields=["assignee", "due_date"], name="finding_assignee_due"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.path}:{self.start_line}"

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class FindingOccurrence(models.Model):
    """A finding as one scan saw it: where it was and how it ranked then."""

    scan = models.ForeignKey("scans.Scan", on_delete=models.CASCADE, related_name="occurrences")
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="occurrences")
    path = models.CharField(max_length=1000)
    start_line = models.PositiveIntegerField()
    end_line = models.PositiveIntegerField()
    enclosing = models.CharField(max_length=500, blank=True, default="")
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    blast_radius = models.FloatField(default=0.0)
    confirmed_at_runtime = models.BooleanField(default=False)
    is_new = models.BooleanField(default=False)  # this scan created the finding

    class Meta:
        ordering = ("scan", "-blast_radius", "id")
        constraints = [
            models.UniqueConstraint(fields=["scan", "finding"], name="occurrence_unique_finding")
        ]
        indexes = [models.Index(fields=["finding", "scan"], name="occurrence_finding_scan")]

    def __str__(self) -> str:
        return f"{self.finding_id} in scan {self.scan_id}"


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    ASSIGNED = "assigned", "Assigned"
    COMMENTED = "commented", "Commented"
    DUE_DATE_CHANGED = "due_date_changed", "Due date changed"
    FIXED_BY_SCAN = "fixed_by_scan", "Fixed (not seen by a scan)"
    REOPENED_BY_SCAN = "reopened_by_scan", "Reopened (seen again by a scan)"


class FindingEvent(models.Model):
    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(  # null: the system (a scan)
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    scan = models.ForeignKey(
        "scans.Scan", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    from_value = models.CharField(max_length=200, blank=True, default="")
    to_value = models.CharField(max_length=200, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["finding", "created_at"], name="event_finding_time")]

    def __str__(self) -> str:
        return f"{self.kind} on finding {self.finding_id}"
