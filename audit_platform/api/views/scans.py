"""Scans: start one (from a git ref, or by uploading an archive with artifacts), follow it,
add artifacts while it is queued, cancel it, read its quality gate and its SARIF."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from audit_platform.api import serializers as s
from audit_platform.api.access import Action
from audit_platform.api.base import ApiView, object_id
from audit_platform.api.errors import Conflict, from_django_validation
from audit_platform.api.gate import evaluate_gate
from audit_platform.api.models import IdempotentUpload
from audit_platform.api.pagination import KeysetPagination
from audit_platform.api.sarif import scan_sarif
from audit_platform.api.schema import api_schema
from audit_platform.api.throttling import CredentialRateThrottle, UploadRateThrottle
from audit_platform.api.uploads import too_large
from audit_platform.projects.models import Project
from audit_platform.scans.models import Scan, ScanStatus
from audit_platform.scans.services import (
    DEFAULT_MAX_ARCHIVE_BYTES,
    DEFAULT_MAX_ARTIFACT_BYTES,
    artifact_add,
    scan_cancel,
    scan_create,
    scan_create_from_archive,
    scan_enqueue,
)

IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"
# How the scans service starts messages about one field of the request.
SCAN_MESSAGES = {
    "refused ref": "ref",
    "the branch or ref": "ref",
    "unknown artifact kind": "artifact_kinds",
}
MAX_IDEMPOTENCY_KEY = 100


def _check_sizes(archive: Any, artifacts: list[Any]) -> None:
    """413 for a file over its own limit, before anything is stored."""
    archive_limit = int(getattr(settings, "AUDIT_MAX_ARCHIVE_BYTES", DEFAULT_MAX_ARCHIVE_BYTES))
    if archive is not None and archive.size > archive_limit:
        raise too_large(archive_limit, f"The archive {archive.name!r}", "AUDIT_MAX_ARCHIVE_BYTES")
    artifact_limit = int(getattr(settings, "AUDIT_MAX_ARTIFACT_BYTES", DEFAULT_MAX_ARTIFACT_BYTES))
    for upload in artifacts:
        if upload.size > artifact_limit:
            raise too_large(
                artifact_limit, f"The artifact {upload.name!r}", "AUDIT_MAX_ARTIFACT_BYTES"
            )


class _ScanViewBase(ApiView):
    serializer_class = s.ScanDetailSerializer

    def get_scan(self, action: Action = Action.READ, *, for_update: bool = False) -> Scan:
        project = self.get_project(action)
        scan = (
            Scan.objects.filter(project=project, pk=object_id(self.kwargs, "scan_id", "scan"))
            .select_related("project__organization")
            .first()
        )
        if scan is None:
            raise exceptions.NotFound("No such scan in this project.")
        return scan

    def actor(self) -> User | None:
        # CI tokens act as the system: the token itself is the permission; people act as
        # themselves so events and "started by" name them.
        if self.caller.project_token is not None:
            return None
        return self.caller.acting_user

    def detail(self, scan: Scan, code: int = status.HTTP_200_OK) -> Response:
        scan = Scan.objects.prefetch_related("artifacts").get(pk=scan.pk)
        body = s.ScanDetailSerializer(scan, context=self.get_serializer_context()).data
        headers = {"Location": body["url"]} if code == status.HTTP_202_ACCEPTED else None
        return Response(body, status=code, headers=headers)

    def add_artifacts(self, scan: Scan, files: list[Any], kinds: list[str]) -> None:
        for upload, kind in zip(files, kinds, strict=True):
            artifact_add(
                scan=scan,
                stream=upload,
                original_name=str(upload.name),
                kind=kind,
                actor=self.actor(),
            )


class ScanListView(_ScanViewBase):
    """A project's scans, newest first; POST starts one and answers 202 at once."""

    pagination_class = KeysetPagination

    def get_throttles(self) -> list[Any]:
        if self.request.method == "POST":
            return [CredentialRateThrottle(), UploadRateThrottle()]
        return super().get_throttles()

    def get_ordering(self) -> str:
        return "-id"

    def get_queryset(self) -> QuerySet[Scan]:
        return Scan.objects.filter(project=self.get_project(Action.READ))

    @api_schema(
        responses=s.ScanSerializer(many=True),
        parameters=[OpenApiParameter("branch", str, description="Only scans of this branch.")],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.get_queryset()
        branch = request.query_params.get("branch")
        if branch:
            queryset = queryset.filter(branch=branch)
        page = self.paginate_queryset(queryset)
        data = s.ScanSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginator_response(data)

    def get_paginator_response(self, data: Any) -> Response:
        assert self.paginator is not None
        return self.paginator.get_paginated_response(data)

    @api_schema(
        request={
            "multipart/form-data": s.ScanCreateSerializer,
            "application/json": s.ScanCreateSerializer,
        },
        responses={202: s.ScanDetailSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Retrying with the same key returns the scan already created.",
            )
        ],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.UPLOAD)
        key = request.META.get(IDEMPOTENCY_HEADER, "").strip()[:MAX_IDEMPOTENCY_KEY]
        if key:
            known = IdempotentUpload.objects.filter(project=project, key=key).first()
            if known is not None:
                return self.detail(known.scan, status.HTTP_202_ACCEPTED)
        serializer = s.ScanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        artifacts: list[Any] = data.get("artifacts", [])
        _check_sizes(data.get("archive"), artifacts)
        scan: Scan | None = None
        try:
            scan = self._create(project, data)
            # Everything is stored before the scan may start: artifacts go with a queued scan.
            self.add_artifacts(scan, artifacts, data.get("artifact_kinds", []))
        except DjangoValidationError as exc:
            if scan is not None:
                scan_cancel(scan, actor=None)
            raise from_django_validation(exc, ("archive", "artifacts"), SCAN_MESSAGES) from None
        if key:
            existing = self._remember(project, key, scan)
            if existing is not None:  # a concurrent retry won the race: keep that one
                scan_cancel(scan, actor=None)
                return self.detail(existing, status.HTTP_202_ACCEPTED)
        if data.get("start", True):
            scan = scan_enqueue(scan, actor=None)
        return self.detail(scan, status.HTTP_202_ACCEPTED)

    def _create(self, project: Project, data: dict[str, Any]) -> Scan:
        archive = data.get("archive")
        if archive is None:
            if data.get("commit_sha"):
                raise exceptions.ValidationError(
                    {"commit_sha": ["A git scan resolves its own commit; pass it as `ref`."]}
                )
            return scan_create(
                project=project,
                ref=data.get("ref", ""),
                branch=data.get("branch", ""),
                created_by=self.actor(),
                trigger="api",
                enqueue=False,
            )
        if data.get("ref"):
            raise exceptions.ValidationError(
                {"ref": ["An archive upload has no ref; use `branch` and `commit_sha`."]}
            )
        return scan_create_from_archive(
            project=project,
            archive=archive,
            archive_name=str(archive.name),
            branch=data.get("branch", ""),
            commit_sha=data.get("commit_sha", ""),
            commit_message=data.get("commit_message", ""),
            created_by=self.actor(),
            enqueue=False,
        )

    @staticmethod
    def _remember(project: Project, key: str, scan: Scan) -> Scan | None:
        try:
            with transaction.atomic():
                IdempotentUpload.objects.create(project=project, key=key, scan=scan)
        except IntegrityError:
            return IdempotentUpload.objects.get(project=project, key=key).scan
        return None


class ScanDetailView(_ScanViewBase):
    @api_schema(responses=s.ScanDetailSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.detail(self.get_scan(Action.READ))


class ScanCancelView(_ScanViewBase):
    @api_schema(
        request=None,
        responses={
            202: OpenApiResponse(s.ScanDetailSerializer, "Cancelled, or stops at the next stage."),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scan = scan_cancel(self.get_scan(Action.UPLOAD), actor=self.actor())
        return self.detail(scan, status.HTTP_202_ACCEPTED)


class ScanStartView(_ScanViewBase):
    """Send a scan created with ``start: false`` to the worker (after adding artifacts)."""

    @api_schema(request=None, responses={202: s.ScanDetailSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scan = self.get_scan(Action.UPLOAD)
        if scan.status != ScanStatus.QUEUED:
            raise Conflict(f"Scan {scan.number} is {scan.status}; only a queued scan can start.")
        try:
            scan = scan_enqueue(scan, actor=None)
        except DjangoValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        return self.detail(scan, status.HTTP_202_ACCEPTED)


class ScanArtifactsView(_ScanViewBase):
    serializer_class = s.ArtifactSerializer  # type: ignore[assignment]

    def get_throttles(self) -> list[Any]:
        if self.request.method == "POST":
            return [CredentialRateThrottle(), UploadRateThrottle()]
        return super().get_throttles()

    @api_schema(responses=s.ArtifactSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scan = self.get_scan(Action.READ)
        return Response(s.ArtifactSerializer(scan.artifacts.all(), many=True).data)

    @api_schema(
        request={"multipart/form-data": s.ArtifactUploadSerializer},
        responses={201: s.ArtifactSerializer(many=True)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scan = self.get_scan(Action.UPLOAD)
        if scan.status != ScanStatus.QUEUED:
            raise Conflict(f"Scan {scan.number} is {scan.status}; artifacts go with a queued scan.")
        serializer = s.ArtifactUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        files = serializer.validated_data["artifacts"]
        _check_sizes(None, files)
        before = set(scan.artifacts.values_list("id", flat=True))
        try:
            self.add_artifacts(scan, files, serializer.validated_data["artifact_kinds"])
        except DjangoValidationError as exc:
            if not Scan.objects.filter(pk=scan.pk, status=ScanStatus.QUEUED).exists():
                raise Conflict(" ".join(exc.messages)) from None
            raise from_django_validation(exc, ("artifacts",)) from None
        added = scan.artifacts.exclude(id__in=before)
        return Response(s.ArtifactSerializer(added, many=True).data, status=status.HTTP_201_CREATED)


_GATE_CHECK_FIELDS: dict[str, serializers.Field[Any, Any, Any, Any]] = {
    "rule": serializers.CharField(),
    "passed": serializers.BooleanField(),
    "message": serializers.CharField(),
    "findings": serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of up to 10 findings behind the check."
    ),
}
GateSerializer = inline_serializer(
    "GateResult",
    {
        "scan": serializers.IntegerField(),
        "result": serializers.ChoiceField(choices=["passed", "failed", "pending", "error"]),
        "passed": serializers.BooleanField(),
        "rules": serializers.DictField(),
        "reasons": inline_serializer("GateFailure", _GATE_CHECK_FIELDS, many=True),
        "checks": inline_serializer("GateCheck", _GATE_CHECK_FIELDS, many=True),
    },
)


class ScanGateView(_ScanViewBase):
    """The project's quality gate applied to this scan (``pending`` until it finishes)."""

    @api_schema(responses=GateSerializer)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(evaluate_gate(self.get_scan(Action.READ)).as_dict())


class ScanSarifView(_ScanViewBase):
    """The scan's findings as SARIF 2.1.0 (for GitHub code scanning and other viewers).
    Findings marked false positive or accepted risk are left out unless asked for."""

    @api_schema(
        parameters=[
            OpenApiParameter(
                "include_triaged",
                bool,
                description="Also export findings marked false positive or accepted risk.",
            )
        ],
        responses={200: OpenApiResponse(description="A SARIF 2.1.0 log (JSON).")},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        scan = self.get_scan(Action.READ)
        raw = request.query_params.get("include_triaged", "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise exceptions.ValidationError({"include_triaged": ["Use true or false."]})
        if scan.status != ScanStatus.SUCCEEDED:
            raise Conflict(f"Scan {scan.number} is {scan.status}; SARIF needs a succeeded scan.")
        document = scan_sarif(scan, include_triaged=raw in ("true", "1"))
        return Response(
            document,
            content_type="application/sarif+json",
            headers={"Content-Disposition": f'attachment; filename="scan-{scan.number}.sarif"'},
        )
