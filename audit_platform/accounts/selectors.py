"""Reads about organizations and roles. Everything else scopes its queries through these."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from audit_platform.accounts.models import ADMIN_ROLES, WRITE_ROLES, Membership, Organization

UserLike = User | AnonymousUser


def organization_list_for_user(user: UserLike) -> QuerySet[Organization]:
    if not user.is_authenticated:
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user).distinct()


def membership_list_for_user(user: UserLike) -> QuerySet[Membership]:
    """The user's memberships with their organizations (one query)."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("organization")


def organization_members(user: UserLike, organization: Organization) -> QuerySet[Membership]:
    """Members of ``organization``, empty unless ``user`` belongs to it."""
    if user_role(user, organization) is None:
        return Membership.objects.none()
    return Membership.objects.filter(organization=organization).select_related("user")


def user_role(user: UserLike, organization: Organization | int) -> str | None:
    """The user's role in the organization, ``None`` when not a member."""
    if not user.is_authenticated:
        return None
    organization_id = organization if isinstance(organization, int) else organization.pk
    role: str | None = (
        Membership.objects.filter(user=user, organization_id=organization_id)
        .values_list("role", flat=True)
        .first()
    )
    return role


def user_can_write(user: UserLike, organization: Organization | int) -> bool:
    """Start scans, triage and comment: owners, admins and members."""
    return user_role(user, organization) in WRITE_ROLES


def user_can_admin(user: UserLike, organization: Organization | int) -> bool:
    """Change project settings and memberships: owners and admins."""
    return user_role(user, organization) in ADMIN_ROLES
