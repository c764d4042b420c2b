"""Tokens in the admin: who made them, their scopes, last use; revoke in bulk. Secrets cannot be
seen or set here (only digests are stored); create tokens through the API or the settings page."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audit_platform.api.models import IdempotentUpload, PersonalToken, ProjectToken
from audit_platform.api.services import token_revoke

TOKEN_READONLY = ("display_prefix", "digest", "scopes", "created_at", "last_used_at")


@admin.action(description="Revoke the selected tokens")
def revoke_tokens(
    modeladmin: admin.ModelAdmin,  # type: ignore[type-arg]
    request: HttpRequest,
    queryset: QuerySet[Any],
) -> None:
    for token in queryset:
        token_revoke(token)


class _TokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    actions = [revoke_tokens]
    list_filter = ("revoked_at",)
    search_fields = ("name", "display_prefix")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProjectToken)
class ProjectTokenAdmin(_TokenAdmin):
    list_display = (
        "name",
        "project",
        "display_prefix",
        "scopes",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("project__organization", "created_by")
    readonly_fields = (*TOKEN_READONLY, "project", "created_by")


@admin.register(PersonalToken)
class PersonalTokenAdmin(_TokenAdmin):
    list_display = (
        "name",
        "user",
        "display_prefix",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    readonly_fields = (*TOKEN_READONLY, "user")


@admin.register(IdempotentUpload)
class IdempotentUploadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("key", "project", "scan", "created_at")
    list_select_related = ("project__organization", "scan__project__organization")
    search_fields = ("key",)
    readonly_fields = ("key", "project", "scan", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
