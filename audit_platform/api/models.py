"""API credentials: per-project CI tokens and personal tokens of users.

Only a SHA-256 digest of each token is stored (see ``tokens.py``); the plaintext is shown once at
creation. Revoking keeps the row (who created it, when it was last used) for the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class TokenScope(models.TextChoices):
    READ = "read", "Read scans, findings, gate results and reports"
    UPLOAD = "upload", "Create scans and upload archives and artifacts"


class PersonalScope(models.TextChoices):
    READ = "read", "Read everything the user can read"
    WRITE = "write", "Everything the user's roles allow: triage, project settings, scans"


class _TokenBase(models.Model):
    name = models.CharField(max_length=100)
    display_prefix = models.CharField(max_length=16, help_text="First characters, for lists.")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class ProjectToken(_TokenBase):
    """A CI token: one project, scopes ``upload`` and/or ``read``."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="api_tokens"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["project", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.display_prefix}… ({self.name})"


class PersonalToken(_TokenBase):
    """A user's own token: acts as the user, limited to ``read`` or ``read`` + ``write``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.display_prefix}… ({self.name})"


class IdempotentUpload(models.Model):
    """``Idempotency-Key`` of a scan upload -> the scan it created, so a client that retries after
    a lost response (a 504 from a proxy) gets the same scan back instead of a second one."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scan = models.ForeignKey("scans.Scan", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="idempotent_upload_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} -> scan {self.scan_id}"
