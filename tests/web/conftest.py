"""A small, realistic project for the dashboard tests: three people, three scans, findings in every
state, events, a load test per scan."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from audit_platform.accounts.models import Organization, Role
from audit_platform.findings.models import (
    EventKind,
    Finding,
    FindingEvent,
    FindingOccurrence,
    FindingStatus,
    Severity,
)
from audit_platform.projects.models import Project
from audit_platform.scans.models import EndpointLoadStat, Scan, ScanStatus
from tests.platform.factories import (
    FindingFactory,
    MembershipFactory,
    OrganizationFactory,
    ProjectFactory,
    ScanFactory,
    UserFactory,
)

SNIPPET = """async def get_rates(currency: str) -> dict:
    response = requests.get(URL)
    return response.json()
"""
FIX = """--- a/app/services/rates.py
+++ b/app/services/rates.py
@@ -1,3 +1,3 @@
 async def get_rates(currency: str) -> dict:
-    response = requests.get(URL)
+    response = await client.get(URL)
     return response.json()
"""


@dataclass
class World:
    org: Organization
    other_org: Organization
    project: Project
    other_project: Project
    owner: User
    member: User
    viewer: User
    outsider: User
    scans: list[Scan]
    top: Finding  # highest blast radius, open
    overdue: Finding
    fixed: Finding
    reopened: Finding

    def url(self, suffix: str = "") -> str:
        return f"/o/{self.org.slug}/{self.project.slug}/{suffix}"


def make_world() -> World:
    org = OrganizationFactory(name="Acme", slug="acme")
    other_org = OrganizationFactory(name="Globex", slug="globex")
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Owner")
    member = UserFactory(username="mark", first_name="Mark", last_name="Member")
    viewer = UserFactory(username="vera")
    outsider = UserFactory(username="oscar")
    MembershipFactory(organization=org, user=owner, role=Role.OWNER)
    MembershipFactory(organization=org, user=member, role=Role.MEMBER)
    MembershipFactory(organization=org, user=viewer, role=Role.VIEWER)
    MembershipFactory(organization=other_org, user=outsider, role=Role.OWNER)
    project = ProjectFactory(
        organization=org, name="Payments API", slug="payments", latency_budget_ms=300
    )
    other_project = ProjectFactory(organization=other_org, name="Secret", slug="secret")
    now = timezone.now()
    scans = []
    for number, (new, fixed, reopened, p95, rps) in enumerate(
        [(5, 0, 0, 900.0, 40.0), (2, 2, 0, 450.0, 85.0), (1, 1, 1, 220.0, 140.0)], start=1
    ):
        scan = ScanFactory(
            project=project,
            number=number,
            status=ScanStatus.SUCCEEDED,
            commit_sha=f"{number:040x}",
            new_count=new,
            fixed_count=fixed,
            reopened_count=reopened,
            open_count=3,
            findings_count=6,
            stage_timings={
                "prepare": 0.4,
                "analyse": 2.5,
                "artifacts": 0.1,
                "store": 0.3,
                "finish": 0.05,
            },
            trend={
                "open_by_severity": {"critical": 1, "high": 3 - number + 1, "medium": 2, "low": 1}
            },
            log=[
                {
                    "level": "warning",
                    "stage": "analyse",
                    "path": "legacy/x.py",
                    "message": "syntax error at line 3",
                }
            ],
        )
        Scan.objects.filter(pk=scan.pk).update(
            created_at=now - datetime.timedelta(days=10 - number),
            started_at=now - datetime.timedelta(days=10 - number),
            finished_at=now - datetime.timedelta(days=10 - number, seconds=-30),
        )
        scan.refresh_from_db()
        EndpointLoadStat.objects.create(
            scan=scan,
            endpoint="Aggregated",
            requests=4000 * number,
            failures=3 - number,
            rps=rps,
            p95_ms=p95,
        )
        scans.append(scan)
    last = scans[-1]
    today = timezone.localdate()
    top = FindingFactory(
        project=project,
        category="ASYNC-BLOCKING-HTTP",
        severity=Severity.HIGH,
        title="requests.get blocks the event loop in get_rates",
        message="A synchronous HTTP call runs inside async def get_rates.",
        path="app/services/rates.py",
        start_line=2,
        end_line=2,
        enclosing="get_rates",
        snippet=SNIPPET,
        properties={"context": {"start_line": 1, "code": SNIPPET}},
        remediation="Use one httpx.AsyncClient created in the app's lifespan.",
        suggested_fix=FIX,
        blast_radius=87.5,
        blast_explanation="high severity; reached from 14 routes, 38% of traffic, 12% of samples",
        reach=["GET /rates", "GET /quote/{id}"],
        witness=[
            {
                "path": "app/api/rates.py",
                "line": 8,
                "function": "app.api.rates.read_rates",
                "note": "GET /rates",
            },
            {
                "path": "app/services/rates.py",
                "line": 2,
                "function": "app.services.rates.get_rates",
                "note": "requests.get(...) blocks",
            },
        ],
        runtime_evidence=[
            {
                "kind": "pyspy",
                "summary": "12% of event-loop samples (218 of 1,804)",
                "artifact": "profile.json",
            }
        ],
        confirmed_at_runtime=True,
        first_seen_scan=scans[0],
        last_seen_scan=last,
        due_date=today + datetime.timedelta(days=20),
    )
    overdue = FindingFactory(
        project=project,
        category="DB-SQL-INJECTION",
        severity=Severity.CRITICAL,
        title="SQL built with an f-string in search_orders",
        path="app/db/orders.py",
        blast_radius=64.0,
        assignee=member,
        due_date=today - datetime.timedelta(days=3),
        first_seen_scan=scans[0],
        last_seen_scan=last,
        remediation="Use bound parameters.",
    )
    FindingFactory(
        project=project,
        category="PYD-V1-API",
        severity=Severity.MEDIUM,
        title="Pydantic v1 .dict() in a v2 code base",
        path="app/schemas.py",
        blast_radius=12.0,
        assignee=member,
        status=FindingStatus.IN_PROGRESS,
        due_date=today + datetime.timedelta(days=60),
        first_seen_scan=last,
        last_seen_scan=last,
    )
    FindingFactory(
        project=project,
        category="ASYNC-NO-AWAIT",
        severity=Severity.LOW,
        title="async def helper never awaits",
        path="app/util.py",
        blast_radius=2.0,
        first_seen_scan=scans[1],
        last_seen_scan=last,
    )
    fixed = FindingFactory(
        project=project,
        category="ASYNC-BLOCKING-SLEEP",
        severity=Severity.HIGH,
        title="time.sleep in an async route",
        path="app/api/health.py",
        blast_radius=40.0,
        status=FindingStatus.FIXED,
        fixed_in_scan=last,
        fixed_at=now - datetime.timedelta(hours=1),
        first_seen_scan=scans[0],
        last_seen_scan=scans[1],
    )
    Finding.objects.filter(pk=fixed.pk).update(created_at=now - datetime.timedelta(days=4))
    reopened = FindingFactory(
        project=project,
        category="DB-SESSION-LEAK",
        severity=Severity.HIGH,
        title="Session opened without a guaranteed close",
        path="app/db/session.py",
        blast_radius=30.0,
        first_seen_scan=scans[0],
        last_seen_scan=last,
    )
    FindingEvent.objects.create(finding=reopened, kind=EventKind.REOPENED_BY_SCAN, scan=last)
    FindingEvent.objects.create(finding=top, kind=EventKind.CREATED, scan=scans[0])
    FindingEvent.objects.create(
        finding=top, kind=EventKind.COMMENTED, actor=owner, comment="Seen in prod too."
    )
    for finding in Finding.objects.filter(project=project):
        FindingOccurrence.objects.create(
            scan=last,
            finding=finding,
            path=finding.path,
            start_line=finding.start_line,
            end_line=finding.end_line,
            severity=finding.severity,
            blast_radius=finding.blast_radius,
            is_new=finding.first_seen_scan_id == last.pk,
        )
    FindingFactory(project=other_project, title="Other org's secret finding", blast_radius=99.0)
    return World(
        org=org,
        other_org=other_org,
        project=project,
        other_project=other_project,
        owner=owner,
        member=member,
        viewer=viewer,
        outsider=outsider,
        scans=scans,
        top=top,
        overdue=overdue,
        fixed=fixed,
        reopened=reopened,
    )


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Cached dashboard aggregates are keyed by ids; rolled-back test data can reuse ids."""
    cache.clear()


@pytest.fixture
def world(db: None) -> World:
    return make_world()


def signed_in(user: User) -> Client:
    """A signed-in client whose session already remembers the current organization (the first
    page of a session writes it once; query budgets measure the pages people browse after)."""
    client = Client()
    client.force_login(user)
    client.get("/")
    return client
