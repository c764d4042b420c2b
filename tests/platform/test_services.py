"""Services: triage writes events and checks roles; settings are validated; uploads durable."""

from __future__ import annotations

import datetime
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pytest_django import Settings

from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.findings.services import (
    finding_assign,
    finding_comment,
    finding_set_due_date,
    finding_set_status,
    findings_bulk_set_status,
)
from audit_platform.projects.models import DEFAULT_SLA_DAYS, Project
from audit_platform.projects.services import project_create, project_update
from audit_platform.scans.models import Artifact, ParseStatus, Scan, ScanStatus
from audit_platform.scans.pipeline import _match_outcomes, endpoint_stat_rows
from audit_platform.scans.services import artifact_add, scan_create
from scanners.findings import ArtifactOutcome
from tests.platform.conftest import Tenants
from tests.platform.factories import FindingFactory, ProjectFactory, ScanFactory, UserFactory
from tests.support.gitrepo import GitRepo

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(tenants: Tenants) -> Finding:
    finding: Finding = FindingFactory(project=ProjectFactory(organization=tenants.acme))
    return finding


def history(finding: Finding) -> list[tuple[str, str, str, str, str]]:
    return [
        (e.kind, e.actor.username if e.actor else "", e.from_value, e.to_value, e.comment)
        for e in finding.events.all()
    ]


def test_status_changes_write_events_and_track_fixed(tenants: Tenants, finding: Finding) -> None:
    finding_set_status(finding, status="in_progress", actor=tenants.alice)
    fixed = finding_set_status(finding, status="fixed", actor=tenants.alice, comment=" deployed ")
    assert fixed.fixed_at is not None and fixed.fixed_in_scan is None
    finding_set_status(finding, status="fixed", actor=tenants.alice)  # no change, no event
    reopened = finding_set_status(finding, status="open", actor=tenants.alice)
    assert reopened.fixed_at is None
    assert history(finding) == [
        ("status_changed", "alice", "open", "in_progress", ""),
        ("status_changed", "alice", "in_progress", "fixed", "deployed"),
        ("status_changed", "alice", "fixed", "open", ""),
    ]


def test_viewers_and_outsiders_cannot_triage(tenants: Tenants, finding: Finding) -> None:
    for user in (tenants.vera, tenants.bob):
        with pytest.raises(PermissionDenied):
            finding_set_status(finding, status="false_positive", actor=user)
        with pytest.raises(PermissionDenied):
            finding_comment(finding, text="hi", actor=user)
    with pytest.raises(ValidationError, match="unknown status 'done'"):
        finding_set_status(finding, status="done", actor=tenants.alice)
    assert finding.events.count() == 0


def test_assign_comment_and_due_date(tenants: Tenants, finding: Finding) -> None:
    finding_assign(finding, assignee=tenants.vera, actor=tenants.alice)
    with pytest.raises(ValidationError, match="bob is not a member of Acme"):
        finding_assign(finding, assignee=tenants.bob, actor=tenants.alice)
    finding_assign(finding, assignee=None, actor=tenants.alice)
    finding_comment(finding, text="  looking into it ", actor=tenants.alice)
    with pytest.raises(ValidationError, match="empty"):
        finding_comment(finding, text="   ", actor=tenants.alice)
    finding_set_due_date(finding, due_date=datetime.date(2030, 1, 31), actor=tenants.alice)
    finding.refresh_from_db()
    assert (finding.assignee, finding.due_date) == (None, datetime.date(2030, 1, 31))
    assert history(finding) == [
        ("assigned", "alice", "", "vera", ""),
        ("assigned", "alice", "vera", "", ""),
        ("commented", "alice", "", "", "looking into it"),
        ("due_date_changed", "alice", "", "2030-01-31", ""),
    ]


def test_bulk_status_counts_changes(tenants: Tenants) -> None:
    project = ProjectFactory(organization=tenants.acme)
    rows = [FindingFactory(project=project) for _ in range(3)]
    finding_set_status(rows[0], status="accepted_risk", actor=tenants.alice)
    changed = findings_bulk_set_status(
        Finding.objects.filter(project=project), status="accepted_risk", actor=tenants.alice
    )
    assert changed == 2
    assert set(Finding.objects.filter(project=project).values_list("status", flat=True)) == {
        FindingStatus.ACCEPTED_RISK
    }


def test_project_settings_are_validated(tenants: Tenants) -> None:
    project = project_create(
        organization=tenants.acme,
        name="Billing API",
        git_url="git@github.com:acme/billing.git",
        created_by=tenants.alice,
        sla_days={"high": 14},
        quality_gate={"fail_on_new_severity": "high", "max_new_findings": 0},
        scan_schedule="weekly",
        exclude_globs=["legacy/**", " "],
    )
    assert project.slug == "billing-api"
    assert project.sla_days == {**DEFAULT_SLA_DAYS, "high": 14}
    assert (project.sla_days_for("high"), project.sla_days_for("info")) == (14, None)
    assert (project.schedule_cron, project.exclude_globs) == ("0 2 * * 1", ["legacy/**"])

    bad_settings = [
        ({"git_url": "ext::sh -c id"}, "transport helpers|whitespace"),
        ({"default_branch": "--upload-pack=x"}, "refused ref"),
        ({"sla_days": {"urgent": 1}}, "unknown severities: urgent"),
        ({"sla_days": {"high": 0}}, "positive whole number"),
        ({"scan_schedule": "every day"}, "not 'daily', 'weekly' or a five-field cron"),
        ({"quality_gate": {"max_new": 1}}, "unknown rules: max_new"),
        ({"quality_gate": {"fail_on_new_severity": "urgent"}}, "fail_on_new_severity"),
        ({"report_recipients": ["not-an-address"]}, "not an email address"),
        ({"latency_budget_ms": 0}, "latency_budget_ms"),
    ]
    for changes, message in bad_settings:
        with pytest.raises(ValidationError, match=message):
            project_update(project, actor=tenants.alice, **changes)
    with pytest.raises(PermissionDenied):
        project_update(project, actor=tenants.vera, latency_budget_ms=300)
    with pytest.raises(ValidationError, match="already has a project with slug 'billing-api'"):
        project_create(organization=tenants.acme, name="Billing API", source_kind="uploads")


def test_artifact_is_stored_durably_only_for_a_queued_scan(
    git_project: Callable[..., tuple[Project, GitRepo]], settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = media = tmp_path / "media"
    project, _ = git_project()
    scan = scan_create(project=project, enqueue=False)
    payload = b"Type,Name,Request Count\nGET,/items,10\n"
    artifact = artifact_add(
        scan=scan, stream=io.BytesIO(payload), original_name="../../stats.csv", kind="locust"
    )
    stored = media / artifact.stored_path
    assert stored.read_bytes() == payload
    assert stored.name == "stats.csv" and stored.is_relative_to(media / "artifacts")
    assert (artifact.size, artifact.sha256) == (len(payload), hashlib.sha256(payload).hexdigest())
    assert artifact.parse_status == ParseStatus.PENDING
    with pytest.raises(ValidationError, match="unknown artifact kind"):
        artifact_add(scan=scan, stream=io.BytesIO(b"x"), original_name="a", kind="exe")
    with pytest.raises(ValidationError, match="is empty"):
        artifact_add(scan=scan, stream=io.BytesIO(b""), original_name="e.csv", kind="locust")
    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING, attempts=1)
    with pytest.raises(ValidationError, match="already started"):
        artifact_add(scan=scan, stream=io.BytesIO(b"x"), original_name="late.csv", kind="locust")
    assert sorted(p.name for p in media.rglob("*") if p.is_file()) == ["stats.csv"]


def test_scan_create_refuses_viewers_and_upload_projects(tenants: Tenants) -> None:
    project = ProjectFactory(organization=tenants.acme)
    with pytest.raises(PermissionDenied):
        scan_create(project=project, created_by=tenants.vera)
    uploads = ProjectFactory(organization=tenants.acme, source_kind="uploads", git_url="")
    with pytest.raises(ValidationError, match="has no git source"):
        scan_create(project=uploads, created_by=tenants.alice)
    assert scan_create(project=project, created_by=tenants.alice, ref="v1.2").branch == "v1.2"


def test_engine_outcomes_land_on_their_artifact_rows(db: None) -> None:
    scan = ScanFactory()
    rows = [
        Artifact.objects.create(
            scan=scan, kind=kind, original_name=name, size=1, sha256="0" * 64, stored_path=name
        )
        for kind, name in (("locust", "a.csv"), ("pyspy", "profile.txt"), ("mypy", "mypy.txt"))
    ]
    log: list[dict[str, str]] = []
    _match_outcomes(
        rows,
        [
            ArtifactOutcome("pyspy", "profile.txt", ok=False, error="line 3: not a py-spy dump"),
            ArtifactOutcome("locust", "a.csv", ok=True, summary={"endpoints": 4}),
        ],
        log,
    )
    states = {a.original_name: (a.parse_status, a.summary) for a in Artifact.objects.all()}
    assert states == {
        "a.csv": ("parsed", {"endpoints": 4}),
        "profile.txt": ("failed", {}),
        "mypy.txt": ("failed", {}),
    }
    assert [(entry["path"], entry["level"]) for entry in log] == [
        ("profile.txt", "error"),
        ("mypy.txt", "error"),
    ]
    assert log[0]["message"] == "line 3: not a py-spy dump"


def test_endpoint_rows_from_load_test_tables(db: None) -> None:
    scan = ScanFactory()
    listed = endpoint_stat_rows(
        scan,
        {
            "endpoints": [
                {"method": "GET", "name": "/items/{id}", "requests": 120, "failures": 2, "p95": 34},
                {"name": "Aggregated", "request_count": 150, "rps": 12.5, "p95_ms": 300.0},
                {"method": "GET"},  # no name: skipped
                "junk",
            ]
        },
    )
    assert [(r.method, r.endpoint, r.requests, r.failures, r.p95_ms, r.rps) for r in listed] == [
        ("GET", "/items/{id}", 120, 2, 34.0, None),
        ("", "Aggregated", 150, None, 300.0, 12.5),
    ]
    keyed = endpoint_stat_rows(scan, {"endpoints": {"/health": {"p50_ms": 1.5}}})
    assert [(r.endpoint, r.p50_ms) for r in keyed] == [("/health", 1.5)]
    assert endpoint_stat_rows(scan, {}) == []
    assert UserFactory().username.startswith("user")
