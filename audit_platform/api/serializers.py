"""Serializers: the JSON the API speaks. Writes are validated here for shape (so bad input is a
400 naming the field) and then handed to the domain's services, which own the rules."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from audit_platform.api.gate import validate_gate_rules
from audit_platform.api.models import PersonalScope, PersonalToken, ProjectToken, TokenScope
from audit_platform.projects.models import Project, ReportCadence, SourceKind

SEVERITY_LABELS = ("info", "low", "medium", "high", "critical")


def absolute(context: dict[str, Any], name: str, **kwargs: Any) -> str:
    path = reverse(f"api:{name}", kwargs=kwargs)
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class ProjectSerializer(serializers.ModelSerializer[Project]):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = (
            "id",
            "url",
            "organization",
            "name",
            "slug",
            "source_kind",
            "git_url",
            "default_branch",
            "latency_budget_ms",
            "sla_days",
            "report_recipients",
            "report_cadence",
            "scan_schedule",
            "exclude_globs",
            "quality_gate",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_url(self, project: Project) -> str:
        return absolute(self.context, "project-detail", project=project.pk)


class ProjectSettingsSerializer(serializers.Serializer[dict[str, Any]]):
    """The editable settings: shapes checked here, rules in ``projects.services``."""

    name = serializers.CharField(max_length=200)
    source_kind = serializers.ChoiceField(choices=SourceKind.choices)
    git_url = serializers.CharField(max_length=1000, allow_blank=True)
    default_branch = serializers.CharField(max_length=255)
    latency_budget_ms = serializers.IntegerField(min_value=1, max_value=600_000)
    sla_days = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=3650, allow_null=True)
    )
    report_recipients = serializers.ListField(child=serializers.EmailField(), max_length=100)
    report_cadence = serializers.ChoiceField(choices=ReportCadence.choices)
    scan_schedule = serializers.CharField(max_length=100, allow_blank=True)
    exclude_globs = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=500
    )
    quality_gate = serializers.JSONField(
        help_text="Gate rules: fail_on_new_severity, max_blast_radius, max_new_findings, "
        "fail_on_runtime_confirmed, max_p95_regression_percent (null disables a rule)."
    )

    def validate_sla_days(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(SEVERITY_LABELS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown severities: {', '.join(unknown)}; use {', '.join(SEVERITY_LABELS)}."
            )
        return value

    def validate_quality_gate(self, value: Any) -> dict[str, Any]:
        try:
            return validate_gate_rules(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class ProjectCreateSerializer(ProjectSettingsSerializer):
    organization = serializers.SlugField(
        required=False,
        help_text="Organization slug; optional when you administer exactly one organization.",
    )
    slug = serializers.SlugField(max_length=100, required=False, allow_blank=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        for name, field in fields.items():
            if name != "name":
                field.required = False
        return fields


class ProjectTokenSerializer(serializers.ModelSerializer[ProjectToken]):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ProjectToken
        fields = (
            "id",
            "name",
            "display_prefix",
            "scopes",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        )
        read_only_fields = fields


class ProjectTokenCreateSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        max_length=2,
        default=[TokenScope.UPLOAD.value, TokenScope.READ.value],
    )


class NewProjectTokenSerializer(ProjectTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(ProjectTokenSerializer.Meta):
        fields = (*ProjectTokenSerializer.Meta.fields, "token")
        read_only_fields = fields


class PersonalTokenSerializer(serializers.ModelSerializer[PersonalToken]):
    class Meta:
        model = PersonalToken
        fields = (
            "id",
            "name",
            "display_prefix",
            "scopes",
            "created_at",
            "last_used_at",
            "revoked_at",
        )
        read_only_fields = fields


class PersonalTokenCreateSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=PersonalScope.choices),
        min_length=1,
        max_length=2,
        default=[PersonalScope.READ.value, PersonalScope.WRITE.value],
    )


class NewPersonalTokenSerializer(PersonalTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown once; store it now.")

    class Meta(PersonalTokenSerializer.Meta):
        fields = (*PersonalTokenSerializer.Meta.fields, "token")
        read_only_fields = fields
