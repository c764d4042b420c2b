from django.contrib import admin

from audit_platform.projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "organization",
        "slug",
        "source_kind",
        "default_branch",
        "scan_schedule",
        "latency_budget_ms",
        "created_at",
    )
    list_filter = ("source_kind", "report_cadence", "organization")
    search_fields = ("name", "slug", "git_url", "organization__name")
    list_select_related = ("organization",)
    readonly_fields = ("last_scheduled_at", "created_by", "created_at", "updated_at")
