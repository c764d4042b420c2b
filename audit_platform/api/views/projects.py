"""Projects and their CI tokens; the caller's personal tokens."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from audit_platform.accounts.models import ADMIN_ROLES, Organization
from audit_platform.api import serializers as s
from audit_platform.api.access import Action
from audit_platform.api.base import ApiView, object_id
from audit_platform.api.errors import from_django_validation
from audit_platform.api.models import PersonalToken, ProjectToken
from audit_platform.api.pagination import KeysetPagination
from audit_platform.api.schema import api_schema
from audit_platform.api.services import personal_token_create, project_token_create, token_revoke
from audit_platform.projects.models import Project
from audit_platform.projects.services import EDITABLE_FIELDS, project_create, project_update

# How the projects service starts the messages that are about one setting.
SETTING_MESSAGES = {
    "refused git URL": "git_url",
    "the git URL": "git_url",
    "refused ref": "default_branch",
    "the branch or ref": "default_branch",
    "fail_on_new_severity": "quality_gate",
    "max_blast_radius": "quality_gate",
    "max_new_findings": "quality_gate",
    "fail_on_runtime_confirmed": "quality_gate",
    "cannot make a slug": "slug",
}


def _settings_error(exc: DjangoValidationError) -> exceptions.ValidationError:
    return from_django_validation(exc, tuple(EDITABLE_FIELDS), SETTING_MESSAGES)


def _revoke(tokens: QuerySet[Any], kwargs: dict[str, Any]) -> Response:
    """Revoke the ``token_id`` of the URL among ``tokens`` (the caller's own), else 404."""
    token = tokens.filter(pk=object_id(kwargs, "token_id", "token")).first()
    if token is None:
        raise exceptions.NotFound("No such token.")
    token_revoke(token)
    return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectListView(ApiView):
    """Projects the caller can see (a CI token sees its own project only)."""

    serializer_class = s.ProjectSerializer
    pagination_class = KeysetPagination

    def get_queryset(self) -> QuerySet[Project]:
        return self.caller.projects()

    def get_ordering(self) -> str:
        return "id"

    @api_schema(responses=s.ProjectSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = s.ProjectSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @api_schema(request=s.ProjectCreateSerializer, responses={201: s.ProjectSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = s.ProjectCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        organization = self._organization(data.pop("organization", None))
        try:
            project = project_create(
                organization=organization,
                name=data.pop("name"),
                slug=data.pop("slug", ""),
                created_by=self.caller.acting_user,
                **data,
            )
        except DjangoValidationError as exc:
            raise _settings_error(exc) from None
        body = s.ProjectSerializer(project, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})

    def _organization(self, slug: str | None) -> Organization:
        if self.caller.project_token is not None:
            raise exceptions.PermissionDenied("A CI token cannot create projects.")
        administered = [org for org, role in self.caller.roles.items() if role in ADMIN_ROLES]
        if slug is None:
            if len(administered) != 1:
                raise exceptions.ValidationError(
                    {"organization": ["Name the organization (its slug) to create the project in."]}
                )
            organization = Organization.objects.get(pk=administered[0])
        else:
            found = Organization.objects.filter(slug=slug, pk__in=list(self.caller.roles)).first()
            if found is None:
                raise exceptions.ValidationError(
                    {"organization": [f"You are not a member of an organization {slug!r}."]}
                )
            organization = found
        if not self.caller.can_create_project_in(organization.pk):
            raise exceptions.PermissionDenied(
                f"Only owners and admins of {organization.slug} can create projects."
            )
        return organization


class ProjectDetailView(ApiView):
    serializer_class = s.ProjectSerializer

    @api_schema(responses=s.ProjectSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.READ)
        return Response(s.ProjectSerializer(project, context=self.get_serializer_context()).data)

    @api_schema(request=s.ProjectSettingsSerializer, responses=s.ProjectSerializer)
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.ADMIN)
        serializer = s.ProjectSettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            project = project_update(
                project, actor=self.caller.acting_user, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise _settings_error(exc) from None
        return Response(s.ProjectSerializer(project, context=self.get_serializer_context()).data)


class _ProjectTokenBase(ApiView):
    serializer_class = s.ProjectTokenSerializer

    def _admin_project(self) -> Project:
        # Looked up first: another tenant's project is a 404 whatever the credential.
        return self.get_project(Action.ADMIN)


class ProjectTokenListView(_ProjectTokenBase):
    """CI tokens of a project (owners and admins). The secret is in the create response only."""

    @api_schema(responses=s.ProjectTokenSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self._admin_project()
        tokens = ProjectToken.objects.filter(project=project).select_related("created_by")
        return Response(s.ProjectTokenSerializer(tokens, many=True).data)

    @api_schema(
        request=s.ProjectTokenCreateSerializer, responses={201: s.NewProjectTokenSerializer}
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self._admin_project()
        serializer = s.ProjectTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plaintext = project_token_create(
            project=project,
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            created_by=self.caller.acting_user,
        )
        body = dict(s.ProjectTokenSerializer(token).data)
        body["token"] = plaintext
        return Response(body, status=status.HTTP_201_CREATED)


class ProjectTokenDetailView(_ProjectTokenBase):
    @api_schema(responses={204: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self._admin_project()
        return _revoke(ProjectToken.objects.filter(project=project), kwargs)


class _PersonalTokenBase(ApiView):
    serializer_class = s.PersonalTokenSerializer

    def _user(self) -> Any:
        if self.caller.project_token is not None or not self.caller.user.is_authenticated:
            raise exceptions.PermissionDenied("Personal tokens belong to users, not CI tokens.")
        return self.caller.user


class PersonalTokenListView(_PersonalTokenBase):
    """The signed-in user's personal tokens (session or personal-token callers)."""

    @api_schema(responses=s.PersonalTokenSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        tokens = PersonalToken.objects.filter(user=self._user())
        return Response(s.PersonalTokenSerializer(tokens, many=True).data)

    @api_schema(
        request=s.PersonalTokenCreateSerializer, responses={201: s.NewPersonalTokenSerializer}
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self._user()
        if self.caller.personal_token is not None:
            # A token minting tokens would outlive its own revocation.
            raise exceptions.PermissionDenied("Create personal tokens from a signed-in session.")
        serializer = s.PersonalTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, plaintext = personal_token_create(
            user=user,
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
        )
        body = dict(s.PersonalTokenSerializer(token).data)
        body["token"] = plaintext
        return Response(body, status=status.HTTP_201_CREATED)


class PersonalTokenDetailView(_PersonalTokenBase):
    @api_schema(responses={204: None})
    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return _revoke(PersonalToken.objects.filter(user=self._user()), kwargs)
