"""Scans of a project, the artifacts uploaded with them and per-endpoint load-test figures.

A Scan moves queued -> running -> succeeded | failed | cancelled, only through
``audit_platform.scans.services``. ``completed_steps`` records which pipeline steps have
committed, so a redelivered task skips them instead of doing them twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScanStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATUSES = frozenset({ScanStatus.SUCCEEDED, ScanStatus.FAILED, ScanStatus.CANCELLED})


class ScanSourceKind(models.TextChoices):
    GIT = "git", "Git branch or ref"
    ARCHIVE = "archive", "Uploaded archive"


class ScanTrigger(models.TextChoices):
    MANUAL = "manual", "Started by a user"
    SCHEDULE = "schedule", "Project schedule"
    API = "api", "API / CI"


class ScanStage(models.TextChoices):
    """Pipeline stages in order; ``stage`` on a Scan is the one running (or the last one)."""

    QUEUED = "queued", "Waiting for a worker"
    PREPARE = "prepare", "Preparing the source"
    ANALYSE = "analyse", "Running the engine"
    ARTIFACTS = "artifacts", "Parsing artifacts"
    STORE = "store", "Storing and reconciling findings"
    FINISH = "finish", "Finishing"
    DONE = "done", "Done"


class Scan(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="scans")
    # 1, 2, 3... per project: what events and pages call "scan N".
    number = models.PositiveIntegerField()
    source_kind = models.CharField(max_length=10, choices=ScanSourceKind.choices)
    # The branch findings are reconciled on (for archives: a label, the default branch if none).
    branch = models.CharField(max_length=255)
    # What was asked for: a branch, tag or commit; empty means the branch.
    ref = models.CharField(max_length=255, blank=True, default="")
    archive_path = models.CharField(max_length=500, blank=True, default="")  # under MEDIA_ROOT
    archive_name = models.CharField(max_length=255, blank=True, default="")
    archive_size = models.BigIntegerField(null=True, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True, default="")
    commit_sha = models.CharField(max_length=64, blank=True, default="")
    commit_message = models.TextField(blank=True, default="")
    trigger = models.CharField(
        max_length=10, choices=ScanTrigger.choices, default=ScanTrigger.MANUAL
    )

    status = models.CharField(
        max_length=10, choices=ScanStatus.choices, default=ScanStatus.QUEUED, db_index=True
    )
    stage = models.CharField(max_length=10, choices=ScanStage.choices, default=ScanStage.QUEUED)
    progress = models.FloatField(default=0.0)  # percent of the whole scan
    cancel_requested = models.BooleanField(default=False)
    completed_steps = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # task deliveries that started work
    error = models.TextField(blank=True, default="")
    stage_timings = models.JSONField(default=dict, blank=True)  # stage -> seconds
    engine_timings = models.JSONField(default=dict, blank=True)  # the engine's own stages
    scanner_versions = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True)  # files, lines, functions, routes...
    # [{"level": "info|warning|error", "stage": ..., "message": ..., "path": ...}, ...]
    log = models.JSONField(default=list, blank=True)
    load_test = models.JSONField(default=dict, blank=True)
    # Counts by severity / category / status after this scan, for trend charts.
    trend = models.JSONField(default=dict, blank=True)

    new_count = models.PositiveIntegerField(default=0)
    open_count = models.PositiveIntegerField(default=0)  # seen again and still open
    fixed_count = models.PositiveIntegerField(default=0)
    reopened_count = models.PositiveIntegerField(default=0)
    findings_count = models.PositiveIntegerField(default=0)  # everything this scan saw

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="scan_unique_number")
        ]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="scan_project_recent"),
            models.Index(
                fields=["project", "branch", "status", "-finished_at"], name="scan_branch"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} scan {self.number}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class ParseStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PARSED = "parsed", "Parsed"
    FAILED = "failed", "Failed"


class Artifact(models.Model):
    """A runtime/tool output uploaded with a scan (py-spy, Locust CSV, mypy, SARIF...)."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="artifacts")
    kind = models.CharField(max_length=30)
    original_name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_path = models.CharField(max_length=500)  # relative to MEDIA_ROOT
    parse_status = models.CharField(
        max_length=10, choices=ParseStatus.choices, default=ParseStatus.PENDING
    )
    parse_error = models.TextField(blank=True, default="")
    summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("scan", "id")

    def __str__(self) -> str:
        return f"{self.kind}: {self.original_name}"


class EndpointLoadStat(models.Model):
    """One endpoint's load-test figures in one scan, so before/after comparisons are queries."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="endpoint_stats")
    method = models.CharField(max_length=16, blank=True, default="")
    endpoint = models.CharField(max_length=500)  # route template or Locust name; "Aggregated"
    requests = models.BigIntegerField(null=True, blank=True)
    failures = models.BigIntegerField(null=True, blank=True)
    rps = models.FloatField(null=True, blank=True)
    mean_ms = models.FloatField(null=True, blank=True)
    p50_ms = models.FloatField(null=True, blank=True)
    p95_ms = models.FloatField(null=True, blank=True)
    p99_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ("scan", "endpoint", "method")
        indexes = [models.Index(fields=["endpoint", "method"], name="endpoint_stat_lookup")]

    def __str__(self) -> str:
        return f"{self.method} {self.endpoint}".strip()
