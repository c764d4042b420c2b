"""Who may see and do what in the browser.

Every page resolves its organization (and project) through the signed-in user's memberships, so
another organization's objects answer 404 (never 403: nothing about them leaks). The current
organization for pages without one in the URL (overview, team, my findings) lives in the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from audit_platform.accounts.models import Membership, Organization, Role
from audit_platform.projects.models import Project

SESSION_ORG_KEY = "current_organization_id"


@dataclass(frozen=True)
class OrgAccess:
    organization: Organization
    role: str
    memberships: tuple[Membership, ...]  # all of the user's, for the switcher

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN, Role.MEMBER)

    @property
    def can_admin(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def organizations(self) -> list[Organization]:
        return [m.organization for m in self.memberships]

    def require_write(self) -> None:
        if not self.can_write:
            raise PermissionDenied("Viewers cannot change findings or start scans.")

    def require_admin(self) -> None:
        if not self.can_admin:
            raise PermissionDenied("Only owners and admins can change this.")


def _memberships(user: AbstractBaseUser | AnonymousUser) -> tuple[Membership, ...]:
    if not user.is_authenticated:
        return ()
    return tuple(
        Membership.objects.filter(user_id=user.pk)
        .select_related("organization")
        .order_by("organization__name")
    )


def org_access(request: HttpRequest, org_slug: str | None = None) -> OrgAccess:
    """The organization named in the URL, else the session's, else the user's first one."""
    memberships = _memberships(request.user)
    if not memberships:
        raise Http404("You are not a member of any organization yet.")
    chosen: Membership | None = None
    if org_slug is not None:
        chosen = next((m for m in memberships if m.organization.slug == org_slug), None)
        if chosen is None:
            raise Http404("No such organization.")
    else:
        current_id = request.session.get(SESSION_ORG_KEY)
        chosen = next((m for m in memberships if m.organization_id == current_id), memberships[0])
    if request.session.get(SESSION_ORG_KEY) != chosen.organization_id:  # no session write per page
        request.session[SESSION_ORG_KEY] = chosen.organization_id
    return OrgAccess(organization=chosen.organization, role=chosen.role, memberships=memberships)


def project_access(
    request: HttpRequest, org_slug: str, project_slug: str
) -> tuple[OrgAccess, Project]:
    access = org_access(request, org_slug)
    try:
        project = Project.objects.get(organization=access.organization, slug=project_slug)
    except Project.DoesNotExist:
        raise Http404("No such project.") from None
    project.organization = access.organization  # already loaded: saves a query per page
    return access, project


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, known to be signed in (every page is behind login_required)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user
