"""Report deliveries are a log (read-only); report preferences are plain settings."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit_platform.reports.models import ReportDelivery, ReportPreference


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("project", "kind", "period", "status", "attempts", "sent_at", "risk")
    list_filter = ("status", "kind")
    search_fields = ("project__name", "period", "error")
    readonly_fields = [field.name for field in ReportDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReportPreference)
class ReportPreferenceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("project", "send_after_scan")
    list_filter = ("send_after_scan",)
