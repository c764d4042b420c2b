"""Who is calling and what they may do, for every API view.

A caller is a session user, a personal token (acts as its user, limited by the token's scopes) or
a project CI token (one project, scopes ``read``/``upload``). Projects the caller cannot read do
not exist for it: views answer 404, never 403, so nothing about another organization leaks.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import QuerySet
from rest_framework.request import Request

from audit_platform.accounts.models import ADMIN_ROLES, WRITE_ROLES, Membership
from audit_platform.api.models import PersonalScope, PersonalToken, ProjectToken, TokenScope
from audit_platform.projects.models import Project


class Action(enum.Enum):
    READ = "read"  # see scans, findings, gate results, trends
    UPLOAD = "upload"  # start scans, upload archives and artifacts, cancel
    TRIAGE = "triage"  # change findings: status, assignee, due date, comments
    ADMIN = "admin"  # project settings and CI tokens


@dataclass
class Caller:
    user: AbstractBaseUser | AnonymousUser
    project_token: ProjectToken | None = None
    personal_token: PersonalToken | None = None
    _role_cache: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, request: Request) -> Caller:
        cached = getattr(request, "_audit_caller", None)
        if isinstance(cached, Caller):
            return cached
        auth = request.auth
        caller = cls(
            user=request.user,
            project_token=auth if isinstance(auth, ProjectToken) else None,
            personal_token=auth if isinstance(auth, PersonalToken) else None,
        )
        request._audit_caller = caller  # type: ignore[attr-defined]
        return caller

    @property
    def is_authenticated(self) -> bool:
        return self.project_token is not None or bool(self.user.is_authenticated)

    @property
    def acting_user(self) -> User | None:
        """The user recorded as actor on events: the person, or the CI token's creator."""
        if self.project_token is not None:
            return self.project_token.created_by
        return self.user if isinstance(self.user, User) else None

    @cached_property
    def roles(self) -> dict[int, str]:
        """Organization id -> the user's role (empty for CI tokens and anonymous callers)."""
        if self.project_token is not None or not self.user.is_authenticated:
            return {}
        return dict(
            Membership.objects.filter(user_id=self.user.pk).values_list("organization_id", "role")
        )

    def projects(self) -> QuerySet[Project]:
        """Every project the caller may read; the base of every lookup in the API."""
        queryset = Project.objects.select_related("organization")
        if self.project_token is not None:
            return queryset.filter(pk=self.project_token.project_id)
        return queryset.filter(organization_id__in=list(self.roles))

    def role_in(self, organization_id: int) -> str | None:
        return self.roles.get(organization_id)

    def can(self, project: Project, action: Action) -> bool:
        if self.project_token is not None:
            token = self.project_token
            if token.project_id != project.pk:
                return False
            if action is Action.READ:
                return token.has_scope(TokenScope.READ)
            if action is Action.UPLOAD:
                return token.has_scope(TokenScope.UPLOAD)
            return False
        role = self.role_in(project.organization_id)
        if role is None:
            return False
        read_only_token = self.personal_token is not None and not self.personal_token.has_scope(
            PersonalScope.WRITE
        )
        if action is not Action.READ and read_only_token:
            return False
        if action is Action.READ:
            return True
        if action is Action.ADMIN:
            return role in ADMIN_ROLES
        return role in WRITE_ROLES

    def can_create_project_in(self, organization_id: int) -> bool:
        if self.project_token is not None:
            return False
        if self.personal_token is not None and not self.personal_token.has_scope(
            PersonalScope.WRITE
        ):
            return False
        return self.role_in(organization_id) in ADMIN_ROLES
