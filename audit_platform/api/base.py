"""What every API view shares: authentication, the caller, throttling, one error shape, upload
limits, the OpenAPI schema class, and project lookup that answers 404 for other tenants."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, generics, permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from audit_platform.api.access import Action, Caller
from audit_platform.api.authentication import ApiTokenAuthentication
from audit_platform.api.errors import api_exception_handler
from audit_platform.api.throttling import CredentialRateThrottle
from audit_platform.api.uploads import LimitedTemporaryFileUploadHandler, check_declared_length
from audit_platform.projects.models import Project


class IsCaller(permissions.BasePermission):
    """Any authenticated caller; what it may do is decided per project by ``Caller.can``."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return Caller.from_request(request).is_authenticated


class ApiView(generics.GenericAPIView[Any]):
    """The base of every API view."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsCaller]
    throttle_classes = [CredentialRateThrottle]
    parser_classes = [JSONParser, MultiPartParser]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]
    schema = AutoSchema()

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: files stream to disk, with a byte limit.
        request.upload_handlers = [LimitedTemporaryFileUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_declared_length(request._request)

    @cached_property
    def caller(self) -> Caller:
        return Caller.from_request(self.request)

    def get_project(self, action: Action = Action.READ) -> Project:
        """The ``{project}`` of the URL (id or slug) if the caller may read it, else 404; 403
        when it may read it but not do ``action``."""
        project = project_lookup(self.caller, str(self.kwargs["project"]))
        self.require(project, action)
        return project

    def require(self, project: Project, action: Action) -> None:
        if not self.caller.can(project, action):
            raise exceptions.PermissionDenied(
                f"This credential may not {action.value} in project {project.slug}."
            )


MAX_DB_ID = 2**63 - 1


def object_id(kwargs: dict[str, Any], name: str, what: str) -> int:
    """A URL's numeric id, 404 when no row could have it (too large for the database)."""
    value = int(kwargs[name])
    if not 0 < value <= MAX_DB_ID:
        raise exceptions.NotFound(f"No such {what}.")
    return value


def project_lookup(caller: Caller, key: str) -> Project:
    token = caller.project_token
    if token is not None and key == str(token.project_id):
        # The token row was read with its project and organization (authentication): the one
        # project a CI token reaches needs no second query.
        return token.project
    projects = caller.projects()
    if key.isdigit() and 0 < int(key) <= MAX_DB_ID:
        found = projects.filter(pk=int(key)).first()
        if found is not None:
            return found
    matches = list(projects.filter(slug=key)[:2])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise exceptions.ValidationError(
            {"project": [f"Several of your organizations have a project {key!r}; use its id."]}
        )
    raise exceptions.NotFound("No such project.")
