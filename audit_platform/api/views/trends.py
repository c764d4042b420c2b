"""Trends of a project over its succeeded scans."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audit_platform.api.access import Action
from audit_platform.api.base import ApiView
from audit_platform.api.schema import api_schema
from audit_platform.api.selectors import DEFAULT_TREND_SCANS, MAX_TREND_SCANS, project_trend


class TrendQuerySerializer(serializers.Serializer[dict[str, Any]]):
    branch = serializers.CharField(required=False, max_length=255, allow_blank=True)
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_TREND_SCANS, default=DEFAULT_TREND_SCANS
    )


_LOAD = inline_serializer(
    "TrendLoadTest",
    {
        "p50_ms": serializers.FloatField(allow_null=True),
        "p95_ms": serializers.FloatField(allow_null=True),
        "p99_ms": serializers.FloatField(allow_null=True),
        "rps": serializers.FloatField(allow_null=True),
        "requests": serializers.IntegerField(allow_null=True),
        "failures": serializers.IntegerField(allow_null=True),
    },
    allow_null=True,
)
TrendSerializer = inline_serializer(
    "ProjectTrend",
    {
        "project": serializers.IntegerField(),
        "branch": serializers.CharField(),
        "scans": inline_serializer(
            "TrendPoint",
            {
                "scan": serializers.IntegerField(),
                "number": serializers.IntegerField(),
                "branch": serializers.CharField(),
                "commit_sha": serializers.CharField(),
                "finished_at": serializers.DateTimeField(allow_null=True),
                "new": serializers.IntegerField(),
                "open": serializers.IntegerField(),
                "fixed": serializers.IntegerField(),
                "reopened": serializers.IntegerField(),
                "total": serializers.IntegerField(),
                "snapshot": serializers.DictField(
                    help_text="Counts by severity, category and status after the scan."
                ),
                "load_test": _LOAD,
            },
            many=True,
        ),
        "remediation": inline_serializer(
            "RemediationTimes",
            {
                "fixed_findings": serializers.IntegerField(),
                "mean_days": serializers.FloatField(allow_null=True),
                "mean_days_by_severity": serializers.DictField(
                    child=serializers.FloatField(allow_null=True)
                ),
            },
        ),
    },
)


class ProjectTrendView(ApiView):
    """Per succeeded scan (oldest first): new / open / fixed / reopened counts, counts by
    severity, category and status, the load test's p95 and RPS; and mean time to remediate."""

    serializer_class = TrendQuerySerializer

    @api_schema(
        parameters=[
            OpenApiParameter("branch", str, description="Only scans of this branch."),
            OpenApiParameter("limit", int, description=f"Latest scans (max {MAX_TREND_SCANS})."),
        ],
        responses=TrendSerializer,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project(Action.READ)
        query = TrendQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            project_trend(
                project,
                branch=query.validated_data.get("branch", ""),
                limit=query.validated_data["limit"],
            )
        )
