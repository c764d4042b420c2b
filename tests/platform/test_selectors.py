"""Tenant isolation of every selector: a user sees their organizations' rows and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser

from audit_platform.accounts import selectors as accounts
from audit_platform.findings import selectors as findings
from audit_platform.findings.models import Finding, FindingEvent, FindingOccurrence, FindingStatus
from audit_platform.projects import selectors as projects
from audit_platform.projects.models import Project
from audit_platform.scans import selectors as scans
from audit_platform.scans.models import Artifact, EndpointLoadStat, Scan
from tests.platform.conftest import Tenants
from tests.platform.factories import FindingFactory, ProjectFactory, ScanFactory

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """One project with a scan, finding, occurrence, event, artifact and load row per org."""

    acme: Project
    globex: Project
    acme_scan: Scan
    globex_scan: Scan
    acme_finding: Finding
    globex_finding: Finding


def _populate(project: Project, assignee: object) -> tuple[Scan, Finding]:
    scan = ScanFactory(project=project, number=1, branch="main")
    finding = FindingFactory(
        project=project, first_seen_scan=scan, last_seen_scan=scan, assignee=assignee
    )
    FindingOccurrence.objects.create(
        scan=scan, finding=finding, path=finding.path, start_line=1, end_line=1, severity=3
    )
    FindingEvent.objects.create(finding=finding, kind="created", scan=scan)
    Artifact.objects.create(
        scan=scan, kind="locust", original_name="s.csv", size=1, sha256="0" * 64, stored_path="x"
    )
    EndpointLoadStat.objects.create(scan=scan, endpoint="Aggregated", p95_ms=120.0)
    return scan, finding


@pytest.fixture
def world(tenants: Tenants) -> World:
    acme = ProjectFactory(organization=tenants.acme, slug="billing")
    globex = ProjectFactory(organization=tenants.globex, slug="billing")
    acme_scan, acme_finding = _populate(acme, tenants.alice)
    globex_scan, globex_finding = _populate(globex, tenants.bob)
    return World(acme, globex, acme_scan, globex_scan, acme_finding, globex_finding)


def test_organization_and_membership_selectors(tenants: Tenants) -> None:
    assert list(accounts.organization_list_for_user(tenants.alice)) == [tenants.acme]
    assert list(accounts.organization_list_for_user(tenants.bob)) == [tenants.globex]
    assert list(accounts.organization_list_for_user(AnonymousUser())) == []
    assert [m.organization for m in accounts.membership_list_for_user(tenants.vera)] == [
        tenants.acme
    ]
    members = accounts.organization_members(tenants.alice, tenants.acme)
    assert sorted(m.user.username for m in members) == ["alice", "vera"]
    assert list(accounts.organization_members(tenants.bob, tenants.acme)) == []
    assert accounts.user_role(tenants.alice, tenants.acme) == "owner"
    assert accounts.user_role(tenants.bob, tenants.acme) is None
    assert accounts.user_can_write(tenants.alice, tenants.acme)
    assert not accounts.user_can_write(tenants.vera, tenants.acme)
    assert not accounts.user_can_admin(tenants.bob, tenants.acme.pk)


def test_project_selectors(tenants: Tenants, world: World) -> None:
    assert list(projects.project_list_for_user(tenants.alice)) == [world.acme]
    assert list(projects.project_list_for_user(tenants.bob)) == [world.globex]
    assert list(projects.project_list_for_user(AnonymousUser())) == []
    assert (
        projects.project_get_for_user(tenants.vera, organization_slug="acme", slug="billing")
        == world.acme
    )
    with pytest.raises(Project.DoesNotExist):
        projects.project_get_for_user(tenants.bob, organization_slug="acme", slug="billing")


def test_scan_selectors(tenants: Tenants, world: World) -> None:
    assert list(scans.scan_list_for_user(tenants.alice)) == [world.acme_scan]
    assert list(scans.scan_list_for_user(tenants.bob, project=world.acme)) == []
    assert list(scans.scan_list_for_user(AnonymousUser())) == []
    assert scans.scan_get_for_user(tenants.alice, project=world.acme, number=1) == world.acme_scan
    with pytest.raises(Scan.DoesNotExist):
        scans.scan_get_for_user(tenants.bob, project=world.acme, number=1)
    assert scans.latest_successful_scan(tenants.alice, world.acme) == world.acme_scan
    assert scans.latest_successful_scan(tenants.bob, world.acme) is None
    artifacts = scans.artifact_list_for_user(tenants.alice, world.acme_scan)
    assert [a.original_name for a in artifacts] == ["s.csv"]
    assert list(scans.artifact_list_for_user(tenants.bob, world.acme_scan)) == []
    rows = scans.endpoint_stats_for_user(tenants.alice, world.acme, endpoint="Aggregated")
    assert [(r.scan_id, r.p95_ms) for r in rows] == [(world.acme_scan.pk, 120.0)]
    assert list(scans.endpoint_stats_for_user(tenants.bob, world.acme)) == []


def test_finding_selectors(tenants: Tenants, world: World) -> None:
    assert list(findings.finding_list_for_user(tenants.alice)) == [world.acme_finding]
    assert list(findings.finding_list_for_user(tenants.bob, project=world.acme)) == []
    assert list(findings.finding_list_for_user(AnonymousUser())) == []
    assert findings.finding_get_for_user(tenants.vera, world.acme_finding.pk) == world.acme_finding
    with pytest.raises(Finding.DoesNotExist):
        findings.finding_get_for_user(tenants.bob, world.acme_finding.pk)
    assert list(findings.my_open_findings(tenants.alice)) == [world.acme_finding]
    assert list(findings.my_open_findings(tenants.vera)) == []
    assert len(findings.finding_event_list_for_user(tenants.alice, world.acme_finding)) == 1
    assert list(findings.finding_event_list_for_user(tenants.bob, world.acme_finding)) == []
    assert len(findings.occurrence_list_for_user(tenants.alice, world.acme_scan)) == 1
    assert list(findings.occurrence_list_for_user(tenants.bob, world.acme_scan)) == []


def test_finding_list_filters_and_ranking(tenants: Tenants, world: World) -> None:
    project = world.acme
    low = FindingFactory(project=project, severity=1, blast_radius=5.0, path="lib/util.py")
    hot = FindingFactory(
        project=project,
        severity=3,
        blast_radius=90.0,
        category="DB-N-PLUS-ONE",
        confirmed_at_runtime=True,
        path="app/routes.py",
    )
    FindingFactory(project=project, status=FindingStatus.FALSE_POSITIVE, blast_radius=99.0)

    def ids(**filters: object) -> list[int]:
        listed = findings.finding_list_for_user(tenants.alice, project=project, **filters)
        return [f.pk for f in listed]

    assert ids(status="open") == [hot.pk, low.pk, world.acme_finding.pk]
    assert ids(category="DB-N-PLUS-ONE") == [hot.pk]
    assert ids(severity_at_least=3, status="open") == [hot.pk, world.acme_finding.pk]
    assert ids(path_prefix="lib/") == [low.pk]
    assert ids(confirmed_at_runtime=True) == [hot.pk]
    assert ids(min_blast_radius=50.0, status=["open", "in_progress"]) == [hot.pk]
    assert ids(assignee=tenants.alice) == [world.acme_finding.pk]
    assert ids(new_in_scan=world.acme_scan) == [world.acme_finding.pk]


def test_finding_list_query_count_does_not_grow(
    tenants: Tenants, world: World, django_assert_num_queries: object
) -> None:
    for _ in range(20):
        FindingFactory(project=world.acme, assignee=tenants.alice)
    with django_assert_num_queries(1):  # type: ignore[operator]
        rows = list(findings.finding_list_for_user(tenants.alice, project=world.acme))
        assert {(f.project.organization.slug, f.assignee.username) for f in rows} == {
            ("acme", "alice")
        }
