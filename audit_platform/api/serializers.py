"""Serializers: the JSON the API speaks. Writes are validated here for shape (so bad input is a
400 naming the field) and then handed to the domain's services, which own the rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit_platform.api.gate import validate_gate_rules
from audit_platform.api.models import PersonalScope, PersonalToken, ProjectToken, TokenScope
from audit_platform.findings.models import Finding, FindingEvent, FindingStatus, Severity
from audit_platform.projects.models import Project, ReportCadence, SourceKind
from audit_platform.projects.services import EDITABLE_FIELDS
from audit_platform.scans.models import Artifact, Scan
from audit_platform.scans.services import ARTIFACT_KINDS

SEVERITY_LABELS = ("info", "low", "medium", "high", "critical")
# Magic numbers of the formats the scans service extracts: gzip, bzip2, xz, zip.
ARCHIVE_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"PK\x03\x04", b"PK\x05\x06")
TAR_MAGIC_OFFSET = 257  # "ustar" in a plain tar header
MAX_ARTIFACTS_PER_REQUEST = 50
MAX_BULK_FINDINGS = 1000
MAX_DB_ID = 2**63 - 1  # bigint; larger numbers would overflow the database driver
# Non-null fields only: keyset pagination compares values.
FINDING_ORDERINGS = (
    "-blast_radius",
    "blast_radius",
    "-severity",
    "severity",
    "-updated_at",
    "updated_at",
    "-created_at",
    "created_at",
    "path",
    "-path",
    "id",
    "-id",
)


def absolute(context: Mapping[str, Any], name: str, **kwargs: Any) -> str:
    path = reverse(f"api:{name}", kwargs=kwargs)
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class DefaultTrueBooleanField(serializers.BooleanField):
    """A boolean that stays true when a multipart form leaves it out (DRF's HTML-form rule would
    read a missing checkbox as false)."""

    default_empty_html = True


def looks_like_archive(upload: Any) -> bool:
    """Sniff the first bytes: names lie, and a wrong file should fail now, not in the worker."""
    upload.seek(0)
    head = upload.read(TAR_MAGIC_OFFSET + 8)
    upload.seek(0)
    if isinstance(head, bytes) and head.startswith(ARCHIVE_MAGIC):
        return True
    return bool(head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + 5] == b"ustar")


class ProjectSerializer(serializers.ModelSerializer[Project]):
    organization: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields: tuple[str, ...] = (
            "id",
            "url",
            "organization",
            "slug",
            *sorted(EDITABLE_FIELDS),
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
    created_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ProjectToken
        fields: tuple[str, ...] = (
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
        fields: tuple[str, ...] = (
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


class ArtifactSerializer(serializers.ModelSerializer[Artifact]):
    class Meta:
        model = Artifact
        fields: tuple[str, ...] = (
            "id",
            "kind",
            "original_name",
            "size",
            "sha256",
            "parse_status",
            "parse_error",
            "summary",
            "created_at",
        )
        read_only_fields = fields


class ScanCountsSerializer(serializers.Serializer[dict[str, int]]):
    new = serializers.IntegerField()
    open = serializers.IntegerField()
    fixed = serializers.IntegerField()
    reopened = serializers.IntegerField()
    total = serializers.IntegerField()


def scan_counts(scan: Scan) -> dict[str, int]:
    return {
        "new": scan.new_count,
        "open": scan.open_count,
        "fixed": scan.fixed_count,
        "reopened": scan.reopened_count,
        "total": scan.findings_count,
    }


class ScanSerializer(serializers.ModelSerializer[Scan]):
    """A scan in lists: status and counts, without the log."""

    url = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Scan
        fields: tuple[str, ...] = (
            "id",
            "number",
            "url",
            "status",
            "stage",
            "progress",
            "source_kind",
            "trigger",
            "branch",
            "ref",
            "commit_sha",
            "archive_name",
            "archive_size",
            "error",
            "cancel_requested",
            "counts",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
        )
        read_only_fields = fields

    def get_url(self, scan: Scan) -> str:
        return absolute(self.context, "scan-detail", project=scan.project_id, scan_id=scan.pk)

    @extend_schema_field(ScanCountsSerializer)
    def get_counts(self, scan: Scan) -> dict[str, int]:
        return scan_counts(scan)


class ScanLogEntrySerializer(serializers.Serializer[dict[str, Any]]):
    level = serializers.CharField()
    stage = serializers.CharField(required=False, allow_blank=True)
    message = serializers.CharField()
    path = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class ScanDetailSerializer(ScanSerializer):
    """One scan with everything: timings, versions, stats, the log, artifacts, links."""

    log = ScanLogEntrySerializer(many=True, read_only=True)
    artifacts = ArtifactSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()

    class Meta(ScanSerializer.Meta):
        fields = (
            *ScanSerializer.Meta.fields,
            "commit_message",
            "archive_sha256",
            "stage_timings",
            "engine_timings",
            "scanner_versions",
            "stats",
            "load_test",
            "log",
            "artifacts",
            "links",
        )
        read_only_fields = fields

    @extend_schema_field(
        serializers.DictField(child=serializers.URLField(), help_text="gate, sarif, findings")
    )
    def get_links(self, scan: Scan) -> dict[str, str]:
        ids = {"project": scan.project_id, "scan_id": scan.pk}
        findings = absolute(self.context, "finding-list", project=scan.project_id)
        return {
            "gate": absolute(self.context, "scan-gate", **ids),
            "sarif": absolute(self.context, "scan-sarif", **ids),
            "artifacts": absolute(self.context, "scan-artifacts", **ids),
            "cancel": absolute(self.context, "scan-cancel", **ids),
            "findings": f"{findings}?seen_in_scan={scan.pk}",
            "new_findings": f"{findings}?new_in_scan={scan.pk}",
        }


class ScanCreateSerializer(serializers.Serializer[dict[str, Any]]):
    """Either JSON ``{"ref": ...}`` (the project's git source) or multipart with ``archive``."""

    ref = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Branch, tag or commit."
    )
    branch = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        help_text="The branch findings reconcile on (default: ref, or the default branch).",
    )
    commit_sha = serializers.RegexField(
        r"^[0-9a-fA-F]{7,64}$", required=False, allow_blank=True, max_length=64
    )
    commit_message = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    start = DefaultTrueBooleanField(
        default=True,
        help_text="false: leave the scan queued until POST .../start/ (to add artifacts first).",
    )
    archive = serializers.FileField(
        required=False, help_text="The source tree: .tar.gz, .tgz, .tar(.bz2/.xz) or .zip."
    )
    artifacts = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=MAX_ARTIFACTS_PER_REQUEST
    )
    artifact_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=ARTIFACT_KINDS),
        required=False,
        max_length=MAX_ARTIFACTS_PER_REQUEST,
        help_text="One kind per file of `artifacts`, in the same order.",
    )

    def validate_archive(self, archive: Any) -> Any:
        if not looks_like_archive(archive):
            raise serializers.ValidationError(
                f"{archive.name!r} is not a tar (.tar, .tar.gz, .tar.bz2, .tar.xz) or zip archive."
            )
        return archive

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        files = attrs.get("artifacts", [])
        kinds = attrs.get("artifact_kinds", [])
        if len(files) != len(kinds):
            raise serializers.ValidationError(
                {
                    "artifact_kinds": [
                        f"Give one kind per artifact file: {len(files)} file(s), "
                        f"{len(kinds)} kind(s)."
                    ]
                }
            )
        if "archive" not in attrs and attrs.get("commit_message"):
            raise serializers.ValidationError(
                {"commit_message": ["Only archive uploads take a commit message."]}
            )
        return attrs


class ArtifactUploadSerializer(serializers.Serializer[dict[str, Any]]):
    artifacts = serializers.ListField(
        child=serializers.FileField(), min_length=1, max_length=MAX_ARTIFACTS_PER_REQUEST
    )
    artifact_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=ARTIFACT_KINDS),
        min_length=1,
        max_length=MAX_ARTIFACTS_PER_REQUEST,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if len(attrs["artifacts"]) != len(attrs["artifact_kinds"]):
            raise serializers.ValidationError(
                {"artifact_kinds": ["Give one kind per artifact file, in the same order."]}
            )
        return attrs


class SeverityField(serializers.ChoiceField):
    """Stored as 0..4 (so ordering ranks), spoken as labels."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=SEVERITY_LABELS, **kwargs)

    def to_representation(self, value: Any) -> str:
        return Severity(int(value)).label

    def to_internal_value(self, data: Any) -> int:  # type: ignore[override]
        label = super().to_internal_value(data)
        return SEVERITY_LABELS.index(str(label))


class FindingSerializer(serializers.ModelSerializer[Finding]):
    """A finding in lists: enough to rank, locate and triage it."""

    url = serializers.SerializerMethodField()
    severity = SeverityField(read_only=True)
    assignee: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Finding
        fields: tuple[str, ...] = (
            "id",
            "url",
            "category",
            "rule_id",
            "severity",
            "title",
            "path",
            "start_line",
            "end_line",
            "enclosing",
            "blast_radius",
            "confirmed_at_runtime",
            "status",
            "assignee",
            "due_date",
            "first_seen_scan",
            "last_seen_scan",
            "updated_at",
        )
        read_only_fields = fields

    def get_url(self, finding: Finding) -> str:
        return absolute(
            self.context, "finding-detail", project=finding.project_id, finding_id=finding.pk
        )

    def to_representation(self, instance: Finding) -> dict[str, Any]:
        """The same fields as the generic path, built directly: lists render hundreds of rows
        and DRF's per-field machinery was most of a findings page's CPU time."""
        # One child serializer renders every row of a list: reverse the URL once per project.
        bases = self.__dict__.setdefault("_url_bases", {})
        base = bases.get(instance.project_id)
        if base is None:
            base = absolute(self.context, "finding-list", project=instance.project_id)
            bases[instance.project_id] = base
        assignee = instance.assignee
        return {
            "id": instance.pk,
            "url": f"{base}{instance.pk}/",
            "category": instance.category,
            "rule_id": instance.rule_id,
            "severity": SEVERITY_LABELS[instance.severity],
            "title": instance.title,
            "path": instance.path,
            "start_line": instance.start_line,
            "end_line": instance.end_line,
            "enclosing": instance.enclosing,
            "blast_radius": instance.blast_radius,
            "confirmed_at_runtime": instance.confirmed_at_runtime,
            "status": instance.status,
            "assignee": assignee.username if assignee is not None else None,
            "due_date": instance.due_date.isoformat() if instance.due_date else None,
            "first_seen_scan": instance.first_seen_scan_id,
            "last_seen_scan": instance.last_seen_scan_id,
            "updated_at": _DATETIME.to_representation(instance.updated_at),
        }


# Only what FindingSerializer shows: lists skip the large text and JSON columns.
FINDING_LIST_COLUMNS = (
    *(name for name in FindingSerializer.Meta.fields if name not in ("url", "assignee")),
    "project_id",
    "first_seen_scan_id",
    "last_seen_scan_id",
    "assignee__username",
)
_DATETIME = serializers.DateTimeField()


class FindingDetailSerializer(FindingSerializer):
    def to_representation(self, instance: Finding) -> dict[str, Any]:
        return serializers.ModelSerializer.to_representation(self, instance)

    class Meta(FindingSerializer.Meta):
        fields = (
            *FindingSerializer.Meta.fields,
            "fingerprint",
            "rule_source",
            "confidence",
            "message",
            "start_col",
            "end_col",
            "snippet",
            "remediation",
            "suggested_fix",
            "blast_explanation",
            "reach",
            "witness",
            "runtime_evidence",
            "properties",
            "fixed_in_scan",
            "fixed_at",
            "created_at",
        )
        read_only_fields = fields


class FindingFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """Query parameters of the findings list; lists are comma-separated."""

    status = serializers.CharField(required=False, help_text="e.g. `open,in_progress`")
    category = serializers.CharField(required=False, help_text="e.g. `ASYNC-BLOCKING-HTTP`")
    severity = serializers.CharField(required=False, help_text="Exact labels, e.g. `high,critical`")
    min_severity = SeverityField(required=False, help_text="At or above this severity.")
    path = serializers.CharField(required=False, max_length=1000, help_text="Path prefix.")
    assignee = serializers.CharField(
        required=False, max_length=150, help_text="A username, `me`, or `none` (unassigned)."
    )
    new_in_scan = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_DB_ID,
        help_text="Findings first seen in this scan (id).",
    )
    seen_in_scan = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_DB_ID, help_text="Findings this scan saw (id)."
    )
    confirmed_at_runtime = serializers.BooleanField(required=False, allow_null=True, default=None)
    min_blast_radius = serializers.FloatField(required=False, min_value=0, max_value=1e9)
    ordering = serializers.ChoiceField(
        choices=FINDING_ORDERINGS, required=False, default="-blast_radius"
    )

    def _choices(self, value: str, allowed: tuple[str, ...], name: str) -> list[str]:
        items = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown {name}: {', '.join(unknown)}; use {', '.join(allowed)}."
            )
        return items

    def validate_status(self, value: str) -> list[str]:
        return self._choices(value, tuple(FindingStatus.values), "status")

    def validate_severity(self, value: str) -> list[int]:
        labels = self._choices(value, SEVERITY_LABELS, "severity")
        return [SEVERITY_LABELS.index(label) for label in labels]

    def validate_category(self, value: str) -> list[str]:
        return [item.strip() for item in value.split(",") if item.strip()][:50]


class FindingUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=FindingStatus.choices, required=False)
    assignee = serializers.CharField(
        required=False, allow_null=True, max_length=150, help_text="Username; null unassigns."
    )
    due_date = serializers.DateField(required=False, allow_null=True)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=10_000, help_text="Kept with the change."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError("Change at least one of status, assignee, due_date.")
        return attrs


class FindingBulkSerializer(FindingUpdateSerializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_ID),
        min_length=1,
        max_length=MAX_BULK_FINDINGS,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not {"status", "assignee", "due_date"} & set(attrs):
            raise serializers.ValidationError("Change at least one of status, assignee, due_date.")
        return attrs


class CommentSerializer(serializers.Serializer[dict[str, Any]]):
    text = serializers.CharField(max_length=10_000)


class FindingEventSerializer(serializers.ModelSerializer[FindingEvent]):
    actor: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    scan_number = serializers.IntegerField(source="scan.number", read_only=True, allow_null=True)

    class Meta:
        model = FindingEvent
        fields: tuple[str, ...] = (
            "id",
            "kind",
            "actor",
            "scan",
            "scan_number",
            "from_value",
            "to_value",
            "comment",
            "created_at",
        )
        read_only_fields = fields
