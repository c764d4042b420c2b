"""Reads for projects, always scoped to the organizations the user belongs to."""

from __future__ import annotations

from django.db.models import QuerySet

from audit_platform.accounts.selectors import UserLike
from audit_platform.projects.models import Project


def project_list_for_user(user: UserLike) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(organization__memberships__user=user).select_related(
        "organization"
    )


def project_get_for_user(user: UserLike, *, organization_slug: str, slug: str) -> Project:
    """The project, or ``Project.DoesNotExist`` when it does not exist or the user cannot see it."""
    return project_list_for_user(user).get(organization__slug=organization_slug, slug=slug)
