"""Forms of the browser pages. They parse input; the domain services validate and write."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm

from audit_platform.accounts.models import Role
from audit_platform.findings.models import FindingStatus
from audit_platform.projects.models import DEFAULT_SLA_DAYS, Project, ReportCadence, SourceKind

SEVERITY_CHOICES = [
    (label, label.capitalize()) for label in ("critical", "high", "medium", "low", "info")
]
SCHEDULE_HELP = "Empty for none, 'daily', 'weekly' or a five-field cron expression (UTC)."


class EmailOrUsernameAuthenticationForm(AuthenticationForm):
    """Sign in with the username or the e-mail address (people remember the latter)."""

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", "")).strip()
        if "@" in username:
            match = (
                get_user_model()
                .objects.filter(email__iexact=username)
                .values_list("username", flat=True)
            )
            found = list(match[:2])
            if len(found) == 1:  # an ambiguous address falls back to the username as typed
                self.cleaned_data["username"] = found[0]
        return super().clean()


def _split_lines(value: str) -> list[str]:
    return [item.strip() for item in re.split(r"[\n,;]+", value or "") if item.strip()]


class ProjectSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    source_kind = forms.ChoiceField(choices=SourceKind.choices, label="Source")
    git_url = forms.CharField(
        max_length=1000,
        required=False,
        label="Git URL",
        help_text="https://, ssh:// or git@host:path",
    )
    default_branch = forms.CharField(max_length=255, label="Default branch")
    scan_schedule = forms.CharField(
        max_length=100, required=False, label="Scan schedule", help_text=SCHEDULE_HELP
    )
    latency_budget_ms = forms.IntegerField(min_value=1, label="Latency budget (ms)")
    exclude_globs = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Excluded paths",
        help_text="Glob patterns, one per line (legacy/**, *_pb2.py).",
    )
    sla_critical = forms.IntegerField(min_value=1, required=False, label="Critical")
    sla_high = forms.IntegerField(min_value=1, required=False, label="High")
    sla_medium = forms.IntegerField(min_value=1, required=False, label="Medium")
    sla_low = forms.IntegerField(min_value=1, required=False, label="Low")
    sla_info = forms.IntegerField(min_value=1, required=False, label="Info")
    gate_new_severity = forms.ChoiceField(
        choices=[("", "Off"), *SEVERITY_CHOICES],
        required=False,
        label="Fail on a new finding at or above",
    )
    gate_max_blast = forms.FloatField(required=False, label="Fail when a blast radius exceeds")
    gate_runtime = forms.BooleanField(required=False, label="Fail on findings confirmed at runtime")
    gate_max_new = forms.IntegerField(
        min_value=0, required=False, label="Fail on more new findings than"
    )
    gate_max_p95_regression = forms.FloatField(
        min_value=0, required=False, label="Fail when load-test p95 grows by more than (%)"
    )
    report_recipients = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Report recipients",
        help_text="E-mail addresses, one per line.",
    )
    report_cadence = forms.ChoiceField(choices=ReportCadence.choices, label="Scheduled report")
    send_after_scan = forms.BooleanField(
        required=False, label="Also e-mail the report after every scan"
    )

    @classmethod
    def for_project(cls, project: Project, *, send_after_scan: bool) -> ProjectSettingsForm:
        sla = {**DEFAULT_SLA_DAYS, **(project.sla_days or {})}
        gate = project.quality_gate or {}
        return cls(
            initial={
                "name": project.name,
                "source_kind": project.source_kind,
                "git_url": project.git_url,
                "default_branch": project.default_branch,
                "scan_schedule": project.scan_schedule,
                "latency_budget_ms": project.latency_budget_ms,
                "exclude_globs": "\n".join(project.exclude_globs or []),
                **{f"sla_{severity}": days for severity, days in sla.items()},
                "gate_new_severity": gate.get("fail_on_new_severity") or "",
                "gate_max_blast": gate.get("max_blast_radius"),
                "gate_runtime": bool(gate.get("fail_on_runtime_confirmed")),
                "gate_max_new": gate.get("max_new_findings"),
                "gate_max_p95_regression": gate.get("max_p95_regression_percent"),
                "report_recipients": "\n".join(project.report_recipients or []),
                "report_cadence": project.report_cadence,
                "send_after_scan": send_after_scan,
            }
        )

    @property
    def sla_fields(self) -> list[forms.BoundField]:
        return [self[f"sla_{severity}"] for severity in DEFAULT_SLA_DAYS]

    def project_changes(self) -> dict[str, Any]:
        """The cleaned data in the shape `projects.services.project_update` takes."""
        data = self.cleaned_data
        gate: dict[str, Any] = {}
        if data.get("gate_new_severity"):
            gate["fail_on_new_severity"] = data["gate_new_severity"]
        if data.get("gate_max_blast") is not None:
            gate["max_blast_radius"] = float(data["gate_max_blast"])
        if data.get("gate_runtime"):
            gate["fail_on_runtime_confirmed"] = True
        if data.get("gate_max_new") is not None:
            gate["max_new_findings"] = int(data["gate_max_new"])
        if data.get("gate_max_p95_regression") is not None:
            gate["max_p95_regression_percent"] = float(data["gate_max_p95_regression"])
        return {
            "name": data["name"],
            "source_kind": data["source_kind"],
            "git_url": data.get("git_url", "").strip(),
            "default_branch": data["default_branch"].strip(),
            "scan_schedule": data.get("scan_schedule", "").strip(),
            "latency_budget_ms": int(data["latency_budget_ms"]),
            "exclude_globs": _split_lines(data.get("exclude_globs", "")),
            "sla_days": {severity: data.get(f"sla_{severity}") for severity in DEFAULT_SLA_DAYS},
            "quality_gate": gate,
            "report_recipients": _split_lines(data.get("report_recipients", "")),
            "report_cadence": data["report_cadence"],
        }


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, initial="CI")
    scope_upload = forms.BooleanField(required=False, initial=True, label="Upload (start scans)")
    scope_read = forms.BooleanField(required=False, initial=True, label="Read (results, gate)")

    def scopes(self) -> list[str]:
        chosen = []
        if self.cleaned_data.get("scope_read"):
            chosen.append("read")
        if self.cleaned_data.get("scope_upload"):
            chosen.append("upload")
        return chosen


ARTIFACT_KIND_CHOICES = [
    ("pyspy", "py-spy profile (speedscope JSON or raw)"),
    ("locust", "Locust CSV (stats)"),
    ("asyncio-log", "asyncio debug log"),
    ("sql-log", "SQL log"),
    ("mypy", "mypy --output json"),
    ("pyright", "pyright --outputjson"),
    ("sarif", "SARIF"),
]
ARTIFACT_ROWS = 3  # upload slots on the start-a-scan form


class StartScanForm(forms.Form):
    """A git ref (git projects) or an archive (either kind), plus optional runtime artifacts."""

    ref = forms.CharField(
        max_length=255,
        required=False,
        label="Branch, tag or commit",
        help_text="Empty: the default branch. For an archive: the branch it belongs to.",
    )
    archive = forms.FileField(required=False, label="Source archive (.tar.gz or .zip)")

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        for index in range(1, ARTIFACT_ROWS + 1):
            self.fields[f"artifact_kind_{index}"] = forms.ChoiceField(
                choices=ARTIFACT_KIND_CHOICES, required=False, label=f"Artifact {index} kind"
            )
            self.fields[f"artifact_file_{index}"] = forms.FileField(
                required=False, label=f"Artifact {index}"
            )

    @property
    def artifact_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [
            (self[f"artifact_kind_{i}"], self[f"artifact_file_{i}"])
            for i in range(1, ARTIFACT_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.project.source_kind == SourceKind.UPLOADS and not data.get("archive"):
            raise forms.ValidationError(
                "This project is scanned from uploads: choose a source archive."
            )
        return data

    def artifacts(self) -> list[tuple[str, Any]]:
        chosen = []
        for index in range(1, ARTIFACT_ROWS + 1):
            upload = self.cleaned_data.get(f"artifact_file_{index}")
            if upload is not None:
                chosen.append((self.cleaned_data.get(f"artifact_kind_{index}") or "pyspy", upload))
        return chosen


class InviteForm(forms.Form):
    email = forms.EmailField(label="E-mail")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class CommentForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=FindingStatus.choices)
    comment = forms.CharField(required=False, max_length=10_000)


class AssignForm(forms.Form):
    assignee = forms.CharField(required=False)  # a user id, or empty to unassign
