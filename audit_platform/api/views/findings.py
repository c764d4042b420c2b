"""Findings of a project: ranked list with filters, detail, triage (status, assignee, due date,
comments), bulk triage and the activity log. Every change goes through ``findings.services``,
which writes the activity events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from audit_platform.api import serializers as s
from audit_platform.api.access import Action
from audit_platform.api.base import ApiView, object_id
from audit_platform.api.errors import from_django_validation
from audit_platform.api.pagination import KeysetPagination
from audit_platform.api.schema import api_schema
from audit_platform.api.selectors import finding_list_for_project
from audit_platform.findings.models import Finding, FindingEvent
from audit_platform.findings.services import (
    finding_assign,
    finding_comment,
    finding_set_due_date,
    finding_set_status,
)
from audit_platform.projects.models import Project
from audit_platform.scans.models import Scan

_DATETIME_FIELDS = frozenset({"updated_at", "created_at"})
TRIAGE_FIELDS = ("status", "assignee", "due_date", "comment")


def _cursor_value(field: str, value: Any) -> Any:
    if field in _DATETIME_FIELDS:
        return datetime.fromisoformat(str(value))
    if field == "path":
        return str(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    return value


class _FindingViewBase(ApiView):
    serializer_class = s.FindingDetailSerializer

    def actor(self) -> User:
        user = self.caller.acting_user
        if self.caller.project_token is not None or user is None:
            raise exceptions.PermissionDenied("CI tokens cannot triage findings.")
        return user

    def get_finding(self, project: Project) -> Finding:
        finding = (
            Finding.objects.filter(
                project=project, pk=object_id(self.kwargs, "finding_id", "finding")
            )
            .select_related("assignee", "project__organization")
            .first()
        )
        if finding is None:
            raise exceptions.NotFound("No such finding in this project.")
        return finding

    def member(self, project: Project, username: str | None) -> User | None:
        if username is None or username == "":
            return None
        user = User.objects.filter(
            username=username, memberships__organization_id=project.organization_id
        ).first()
        if user is None:
            raise exceptions.ValidationError(
                {"assignee": [f"No member of {project.organization.slug} is called {username!r}."]}
            )
        return user

    def apply(self, finding: Finding, changes: dict[str, Any], actor: User) -> Finding:
        """One change after the other, each through its service (each writes its event)."""
        project = finding.project
        if "assignee" in changes:
            assignee = self.member(project, changes["assignee"])
            finding = finding_assign(finding, assignee=assignee, actor=actor)
        if "due_date" in changes:
            finding = finding_set_due_date(finding, due_date=changes["due_date"], actor=actor)
        comment = changes.get("comment", "")
        if "status" in changes:
            before = finding.status
            finding = finding_set_status(
                finding, status=changes["status"], actor=actor, comment=comment
            )
            if finding.status == before and comment:
                finding_comment(finding, text=comment, actor=actor)
        elif comment:
            finding_comment(finding, text=comment, actor=actor)
        return finding


class FindingListView(_FindingViewBase):
    """Findings ranked by blast radius (default), filtered; cursor-paginated."""

    serializer_class = s.FindingSerializer  # type: ignore[assignment]
    pagination_class = KeysetPagination
    cursor_value_parser = staticmethod(_cursor_value)
    filters: dict[str, Any]

    def get_ordering(self) -> str:
        return str(self.filters["ordering"])

    def get_queryset(self) -> QuerySet[Finding]:
        project = self.get_project(Action.READ)
        query = s.FindingFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        self.filters = dict(query.validated_data)
        for key in ("new_in_scan", "seen_in_scan"):
            scan_id = self.filters.get(key)
            if (
                scan_id is not None
                and not Scan.objects.filter(pk=scan_id, project=project).exists()
            ):
                raise exceptions.ValidationError({key: [f"No scan {scan_id} in this project."]})
        findings = finding_list_for_project(project, self.filters, me=self.caller.user)
        # The ordering's own column too: the next cursor is read from the page's last row.
        return findings.only(*s.FINDING_LIST_COLUMNS, self.get_ordering().lstrip("-"))

    @api_schema(parameters=[s.FindingFilterSerializer], responses=s.FindingSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        data = s.FindingSerializer(page, many=True, context=self.get_serializer_context()).data
        assert self.paginator is not None
        return self.paginator.get_paginated_response(data)


class FindingDetailView(_FindingViewBase):
    @api_schema(responses=s.FindingDetailSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        finding = self.get_finding(self.get_project(Action.READ))
        context = self.get_serializer_context()
        return Response(s.FindingDetailSerializer(finding, context=context).data)

    @api_schema(request=s.FindingUpdateSerializer, responses=s.FindingDetailSerializer)
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.TRIAGE)
        actor = self.actor()
        finding = self.get_finding(project)
        serializer = s.FindingUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                finding = self.apply(finding, dict(serializer.validated_data), actor)
        except DjangoValidationError as exc:
            raise from_django_validation(exc, TRIAGE_FIELDS) from None
        finding = self.get_finding(project)
        context = self.get_serializer_context()
        return Response(s.FindingDetailSerializer(finding, context=context).data)


class FindingBulkView(_FindingViewBase):
    """Triage many findings at once, all or nothing."""

    @api_schema(
        request=s.FindingBulkSerializer,
        responses={200: s.FindingSerializer(many=True)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.TRIAGE)
        actor = self.actor()
        serializer = s.FindingBulkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        ids = list(dict.fromkeys(changes.pop("ids")))
        findings = list(
            Finding.objects.filter(project=project, pk__in=ids).select_related(
                "assignee", "project__organization"
            )
        )
        missing = sorted(set(ids) - {finding.pk for finding in findings})
        if missing:
            shown = ", ".join(str(pk) for pk in missing[:20])
            raise exceptions.ValidationError(
                {"ids": [f"No such findings in this project: {shown}"]}
            )
        try:
            with transaction.atomic():
                for finding in findings:
                    self.apply(finding, changes, actor)
        except DjangoValidationError as exc:
            raise from_django_validation(exc, TRIAGE_FIELDS) from None
        updated = Finding.objects.filter(pk__in=ids).select_related("assignee").order_by("id")
        context = self.get_serializer_context()
        return Response(s.FindingSerializer(updated, many=True, context=context).data)


class FindingEventsView(_FindingViewBase):
    """The finding's activity log, oldest first; POST adds a comment."""

    serializer_class = s.FindingEventSerializer  # type: ignore[assignment]

    @api_schema(responses=s.FindingEventSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        finding = self.get_finding(self.get_project(Action.READ))
        events = FindingEvent.objects.filter(finding=finding).select_related("actor", "scan")
        return Response(s.FindingEventSerializer(events, many=True).data)

    @api_schema(request=s.CommentSerializer, responses={201: s.FindingEventSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.TRIAGE)
        actor = self.actor()
        finding = self.get_finding(project)
        serializer = s.CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            event = finding_comment(finding, text=serializer.validated_data["text"], actor=actor)
        except DjangoValidationError as exc:
            raise from_django_validation(exc, ("text",)) from None
        return Response(s.FindingEventSerializer(event).data, status=status.HTTP_201_CREATED)
