"""Findings are triaged through services (which write events): the admin shows them read-only."""

from django.contrib import admin

from audit_platform.findings.models import Finding, FindingEvent, FindingOccurrence
from audit_platform.scans.admin import ReadOnlyAdmin


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = (
        "title",
        "project",
        "category",
        "severity",
        "status",
        "blast_radius",
        "path",
        "start_line",
        "assignee",
        "due_date",
    )
    list_filter = ("status", "severity", "confirmed_at_runtime", "rule_source", "category")
    search_fields = ("title", "path", "rule_id", "category", "fingerprint", "enclosing")
    list_select_related = ("project__organization", "assignee")
    ordering = ("-blast_radius",)


@admin.register(FindingOccurrence)
class FindingOccurrenceAdmin(ReadOnlyAdmin):
    list_display = ("finding", "scan", "path", "start_line", "blast_radius", "is_new")
    list_filter = ("is_new",)
    search_fields = ("path",)
    list_select_related = ("finding", "scan__project__organization")


@admin.register(FindingEvent)
class FindingEventAdmin(ReadOnlyAdmin):
    list_display = ("finding", "kind", "actor", "scan", "from_value", "to_value", "created_at")
    list_filter = ("kind",)
    search_fields = ("comment", "finding__title")
    list_select_related = ("finding", "actor", "scan__project__organization")
