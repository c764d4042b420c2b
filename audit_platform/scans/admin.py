"""Scans change state only through the pipeline and services: the admin shows them read-only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit_platform.scans.models import Artifact, EndpointLoadStat, Scan


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ArtifactInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Artifact
    extra = 0
    can_delete = False
    fields = ("kind", "original_name", "size", "sha256", "parse_status", "parse_error")
    readonly_fields = fields


@admin.register(Scan)
class ScanAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "status",
        "stage",
        "progress",
        "branch",
        "commit_sha",
        "findings_count",
        "new_count",
        "fixed_count",
        "created_at",
    )
    list_filter = ("status", "source_kind", "trigger", "project__organization")
    search_fields = ("project__name", "project__slug", "commit_sha", "branch", "error")
    list_select_related = ("project__organization",)
    date_hierarchy = "created_at"
    inlines = (ArtifactInline,)


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "kind", "scan", "size", "parse_status", "created_at")
    list_filter = ("kind", "parse_status")
    search_fields = ("original_name", "sha256")
    list_select_related = ("scan__project__organization",)


@admin.register(EndpointLoadStat)
class EndpointLoadStatAdmin(ReadOnlyAdmin):
    list_display = ("endpoint", "method", "scan", "requests", "failures", "rps", "p95_ms")
    search_fields = ("endpoint",)
    list_select_related = ("scan__project__organization",)
