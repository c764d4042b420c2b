"""Dashboard pages: what they show, who may do what, and how many queries they cost."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from audit_platform.api.models import ProjectToken
from audit_platform.findings.models import EventKind, Finding, FindingEvent, FindingStatus, Severity
from audit_platform.projects.models import Project
from audit_platform.reports.models import ReportPreference
from audit_platform.scans.models import Scan, ScanStatus
from tests.platform.factories import FindingFactory, ScanFactory
from tests.web.conftest import World, signed_in

pytestmark = pytest.mark.django_db

# Fixed budgets: they must not grow with the number of findings, scans or members.
DASHBOARD_QUERIES = 14  # cold cache; PostgreSQL needs 12 (one GROUPING SETS pass, routes)
FINDINGS_QUERIES = 8
OVERVIEW_QUERIES = 14


def _more_findings(world: World, count: int) -> None:
    # Inserted behind the services' back: no FindingEvent marks the change (a scan would write
    # "created" events), so drop the dashboard's cached aggregates as that event would.
    cache.clear()
    for index in range(count):
        FindingFactory(
            project=world.project,
            severity=Severity.MEDIUM,
            blast_radius=1.0 + index / 100,
            assignee=world.member if index % 2 else None,
            first_seen_scan=world.scans[-1],
            last_seen_scan=world.scans[-1],
        )


def test_anonymous_visitors_are_sent_to_sign_in(client, world: World) -> None:
    response = client.get(world.url())
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_with_email_or_username(client, world: World) -> None:
    for login in (world.owner.email, world.owner.username):
        response = client.post(
            "/accounts/login/", {"username": login, "password": "secret-password"}
        )
        assert response.status_code == 302, response.content
        assert client.get("/").status_code == 302
        client.post("/accounts/logout/")
    failed = client.post("/accounts/login/", {"username": world.owner.email, "password": "wrong"})
    assert failed.status_code == 200
    assert b"Please enter a correct username and password" in failed.content


def test_home_redirects_to_the_current_organization(world: World) -> None:
    response = signed_in(world.owner).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/"


def test_other_organizations_do_not_exist_for_a_user(world: World) -> None:
    client = signed_in(world.owner)
    assert client.get("/o/globex/").status_code == 404
    assert client.get("/o/globex/secret/").status_code == 404
    assert (
        client.get(
            f"/o/acme/payments/findings/{Finding.objects.get(project=world.other_project).pk}/"
        ).status_code
        == 404
    )
    assert client.get("/o/acme/secret/").status_code == 404


def test_organization_overview_shows_risk_open_counts_and_gate(
    world: World, django_assert_max_num_queries
) -> None:
    client = signed_in(world.owner)
    with django_assert_max_num_queries(OVERVIEW_QUERIES):
        response = client.get("/o/acme/")
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row.project == world.project
    assert row.open_total == 5
    assert row.open_by_severity == {"critical": 1, "high": 2, "medium": 1, "low": 1, "info": 0}
    assert row.risk == pytest.approx(87.5 + 64.0 + 12.0 + 2.0 + 30.0)
    assert row.overdue == 1
    assert row.last_scan.number == 3
    assert row.spark == [7, 6, 5]  # open_by_severity totals of scans 1..3
    assert row.gate.result in {"passed", "failed"}
    assert "Payments API" in response.content.decode()


def test_project_dashboard_query_count_does_not_grow_with_findings(
    world: World, django_assert_max_num_queries
) -> None:
    client = signed_in(world.owner)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        small = client.get(world.url())
    _more_findings(world, 40)
    with django_assert_max_num_queries(DASHBOARD_QUERIES):
        big = client.get(world.url())
    assert small.status_code == big.status_code == 200
    board = big.context["board"]
    assert board.summary.open_total == 45
    assert [f.pk for f in board.top[:2]] == [world.top.pk, world.overdue.pk]
    assert len(board.top) == 10
    assert set(big.context["figures"]) == {
        "open_by_severity",
        "new_vs_fixed",
        "categories",
        "locations",
        "routes",
        "mttr",
        "load",
    }
    assert [s.p95_change_pct for s in big.context["stages"]] == [
        None,
        -50.0,
        pytest.approx(-75.56, abs=0.01),
    ]


def test_dashboard_mean_time_to_remediate_uses_fixed_findings(world: World) -> None:
    board = signed_in(world.owner).get(world.url()).context["board"]
    # created 4 days ago, fixed an hour ago
    assert board.mttr["high"] == pytest.approx(4 - 1 / 24, abs=0.01)
    assert board.mttr["critical"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "",
            [
                "requests.get blocks",
                "SQL built",
                "Session opened",
                "Pydantic v1",
                "async def helper",
            ],
        ),
        ("?severity=critical", ["SQL built"]),
        ("?category=PYD-V1-API", ["Pydantic v1"]),
        ("?status=fixed", ["time.sleep in an async route"]),
        (
            "?status=all&sort=path",
            [
                "time.sleep",
                "SQL built",
                "Session opened",
                "Pydantic",
                "requests.get",
                "async def helper",
            ],
        ),
        ("?assignee=none", ["requests.get blocks", "Session opened", "async def helper"]),
        ("?path=app/db/", ["SQL built", "Session opened"]),
        ("?runtime=1", ["requests.get blocks"]),
        ("?new=1", ["Pydantic v1"]),
        (
            "?sort=due",
            [
                "SQL built",
                "requests.get blocks",
                "Pydantic v1",
                "Session opened",
                "async def helper",
            ],
        ),
    ],
)
def test_findings_list_filters_and_sorts_from_the_url(
    world: World, query: str, expected: list[str]
) -> None:
    response = signed_in(world.owner).get(world.url("findings/") + query)
    titles = [f.title for f in response.context["rows"]]
    assert len(titles) == len(expected), titles
    for title, prefix in zip(titles, expected, strict=True):
        assert title.startswith(prefix)


def test_findings_list_assigned_to_me(world: World) -> None:
    response = signed_in(world.member).get(world.url("findings/?assignee=me"))
    assert {f.pk for f in response.context["rows"]} == {
        world.overdue.pk,
        Finding.objects.get(category="PYD-V1-API").pk,
    }


def test_findings_list_paginates_a_screenful_with_constant_queries(
    world: World, django_assert_max_num_queries
) -> None:
    _more_findings(world, 60)
    client = signed_in(world.owner)
    with django_assert_max_num_queries(FINDINGS_QUERIES):
        first = client.get(world.url("findings/"))
    with django_assert_max_num_queries(FINDINGS_QUERIES):
        third = client.get(world.url("findings/?page=3"))
    assert len(first.context["rows"]) == 25
    assert first.context["page"].paginator.count == 65
    assert len(third.context["rows"]) == 15
    assert 'href="?page=2"' in first.content.decode()


def test_bulk_triage_assigns_and_sets_status_through_the_services(world: World) -> None:
    client = signed_in(world.owner)
    ids = [world.top.pk, world.reopened.pk]
    response = client.post(
        world.url("findings/bulk/"),
        {
            "finding": ids,
            "status": FindingStatus.IN_PROGRESS,
            "assignee": world.member.pk,
            "next": world.url("findings/?severity=high"),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == world.url("findings/?severity=high")
    for finding in Finding.objects.filter(pk__in=ids):
        assert finding.status == FindingStatus.IN_PROGRESS
        assert finding.assignee_id == world.member.pk
        kinds = set(finding.events.values_list("kind", flat=True))
        assert {EventKind.ASSIGNED, EventKind.STATUS_CHANGED} <= kinds


def test_bulk_triage_ignores_findings_of_other_projects(world: World) -> None:
    foreign = Finding.objects.get(project=world.other_project)
    signed_in(world.owner).post(
        world.url("findings/bulk/"), {"finding": [foreign.pk], "status": FindingStatus.FIXED}
    )
    foreign.refresh_from_db()
    assert foreign.status == FindingStatus.OPEN


def test_viewers_cannot_triage(world: World) -> None:
    client = signed_in(world.viewer)
    assert client.get(world.url(f"findings/{world.top.pk}/")).status_code == 200
    response = client.post(
        world.url(f"findings/{world.top.pk}/status/"), {"status": FindingStatus.FIXED}
    )
    assert response.status_code == 403
    assert (
        client.post(
            world.url("findings/bulk/"), {"finding": [world.top.pk], "status": "fixed"}
        ).status_code
        == 403
    )
    world.top.refresh_from_db()
    assert world.top.status == FindingStatus.OPEN


def test_finding_page_shows_code_witness_evidence_fix_and_timeline(
    world: World, django_assert_max_num_queries
) -> None:
    client = signed_in(world.owner)
    with django_assert_max_num_queries(12):
        response = client.get(world.url(f"findings/{world.top.pk}/"))
    html = response.content.decode()
    assert '<span class="hll">' in html  # the finding's line is highlighted
    assert "app.services.rates.get_rates" in html
    assert "12% of event-loop samples (218 of 1,804)" in html
    assert "reached from 14 routes, 38% of traffic, 12% of samples" in html
    assert '<span class="line add">+    response = await client.get(URL)</span>' in html
    assert "Seen in prod too." in html
    assert "Download the fix (.patch)" in html


def test_fix_download_is_the_patch(world: World) -> None:
    client = signed_in(world.owner)
    response = client.get(world.url(f"findings/{world.top.pk}/fix.patch"))
    assert response.status_code == 200
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="finding-{world.top.pk}-fix.patch"'
    )
    assert response.content.decode() == world.top.suggested_fix
    assert client.get(world.url(f"findings/{world.overdue.pk}/fix.patch")).status_code == 404


def test_finding_actions_assign_status_comment_write_events(world: World) -> None:
    client = signed_in(world.member)
    base = world.url(f"findings/{world.top.pk}/")
    assert client.post(base + "assign/", {"assignee": world.member.pk}).status_code == 302
    assert client.post(base + "status/", {"status": FindingStatus.IN_PROGRESS}).status_code == 302
    assert client.post(base + "comment/", {"comment": "On it."}).status_code == 302
    world.top.refresh_from_db()
    assert world.top.assignee_id == world.member.pk
    assert world.top.status == FindingStatus.IN_PROGRESS
    events = list(
        FindingEvent.objects.filter(finding=world.top, actor=world.member).values_list(
            "kind", "to_value", "comment"
        )
    )
    assert events == [
        (EventKind.ASSIGNED, "mark", ""),
        (EventKind.STATUS_CHANGED, FindingStatus.IN_PROGRESS, ""),
        (EventKind.COMMENTED, "", "On it."),
    ]


def test_assigning_to_a_non_member_is_refused(world: World) -> None:
    client = signed_in(world.owner)
    response = client.post(
        world.url(f"findings/{world.top.pk}/assign/"), {"assignee": world.outsider.pk}, follow=True
    )
    assert "not a member of this organization" in response.content.decode()
    world.top.refresh_from_db()
    assert world.top.assignee_id is None


def test_my_findings_orders_by_due_date_and_flags_overdue(
    world: World, django_assert_max_num_queries
) -> None:
    client = signed_in(world.member)
    with django_assert_max_num_queries(6):
        response = client.get("/mine/")
    rows = list(response.context["page"].object_list)
    assert [f.pk for f in rows] == [world.overdue.pk, Finding.objects.get(category="PYD-V1-API").pk]
    html = response.content.decode()
    assert 'class="is-overdue"' in html
    assert "3 days overdue" in html


def test_scan_page_shows_timings_log_counts_and_gate(world: World) -> None:
    response = signed_in(world.owner).get(world.url("scans/3/"))
    html = response.content.decode()
    assert response.context["gate"].result in {"passed", "failed"}
    assert "syntax error at line 3" in html
    assert "Running the engine" in html and "2.50 s" in html
    assert response.context["fixed"] == [world.fixed]
    assert response.context["reopened"] == [world.reopened]


def test_progress_fragment_polls_while_running_and_refreshes_when_done(world: World) -> None:
    running = ScanFactory(
        project=world.project, number=4, status=ScanStatus.RUNNING, stage="analyse", progress=42.0
    )
    client = signed_in(world.owner)
    fragment = client.get(world.url("scans/4/progress/"), HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'aria-valuenow="42"' in html
    assert "HX-Refresh" not in fragment
    Scan.objects.filter(pk=running.pk).update(
        status=ScanStatus.SUCCEEDED, stage="done", progress=100.0
    )
    done = client.get(world.url("scans/4/progress/?was=running"), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert "hx-trigger" not in done.content.decode()


def test_start_scan_queues_a_scan_of_the_default_branch(
    world: World, django_capture_on_commit_callbacks
) -> None:
    client = signed_in(world.member)
    response = client.post(world.url("scans/start/"))
    scan = Scan.objects.get(project=world.project, number=4)
    assert response.status_code == 302
    assert response["Location"] == world.url("scans/4/")
    assert scan.status == ScanStatus.QUEUED
    assert scan.ref == "main"
    assert scan.created_by == world.member


def test_start_scan_with_artifacts_attaches_them_before_queueing(
    world: World, settings, tmp_path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: PLC0415

    settings.MEDIA_ROOT = str(tmp_path)
    stats = SimpleUploadedFile("run_stats.csv", b"Type,Name,Request Count\nGET,/rates,10\n")
    response = signed_in(world.member).post(
        world.url("scans/start/"),
        {"ref": "main", "artifact_kind_1": "locust", "artifact_file_1": stats},
    )
    assert response.status_code == 302
    scan = Scan.objects.get(project=world.project, number=4)
    (artifact,) = scan.artifacts.all()
    assert (artifact.kind, artifact.original_name, artifact.size) == ("locust", "run_stats.csv", 38)


def test_start_scan_rejects_a_bad_ref_with_a_message(world: World) -> None:
    response = signed_in(world.member).post(
        world.url("scans/start/"), {"ref": "--upload-pack=evil"}, follow=True
    )
    assert not Scan.objects.filter(project=world.project, number=4).exists()
    assert response.context["messages"]
    assert any(
        "--upload-pack" in str(m) or "ref" in str(m).lower() for m in response.context["messages"]
    )


def test_settings_save_through_the_project_service(world: World) -> None:
    client = signed_in(world.owner)
    form = client.get(world.url("settings/")).context["form"]
    data = {key: value for key, value in form.initial.items() if value is not None}
    data.update(
        {
            "latency_budget_ms": 250,
            "sla_high": 14,
            "gate_new_severity": "critical",
            "gate_max_p95_regression": 20,
            "report_recipients": "lead@example.com\nops@example.com",
            "report_cadence": "weekly",
            "send_after_scan": "on",
            "scan_schedule": "weekly",
        }
    )
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    response = client.post(world.url("settings/"), data)
    assert response.status_code == 302, response.context["form"].errors
    project = Project.objects.get(pk=world.project.pk)
    assert project.latency_budget_ms == 250
    assert project.sla_days["high"] == 14
    assert project.quality_gate == {
        "fail_on_new_severity": "critical",
        "max_p95_regression_percent": 20.0,
    }
    assert project.report_recipients == ["lead@example.com", "ops@example.com"]
    assert project.report_cadence == "weekly"
    assert project.scan_schedule == "weekly"
    assert ReportPreference.objects.get(project=project).send_after_scan is True


def test_settings_show_service_validation_errors(world: World) -> None:
    client = signed_in(world.owner)
    data = dict(client.get(world.url("settings/")).context["form"].initial)
    data.update({"report_recipients": "not-an-address", "sla_info": ""})
    data = {k: v for k, v in data.items() if v not in (None, False)}
    response = client.post(world.url("settings/"), data)
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "'not-an-address' is not an email address"
    ]
    assert "&#x27;not-an-address&#x27; is not an email address" in response.content.decode()


def test_members_cannot_change_settings(world: World) -> None:
    assert signed_in(world.member).post(world.url("settings/"), {"name": "x"}).status_code == 403


def test_ci_tokens_are_shown_once_and_can_be_revoked(world: World) -> None:
    client = signed_in(world.owner)
    response = client.post(
        world.url("settings/tokens/"),
        {"name": "GitHub Actions", "scope_upload": "on", "scope_read": "on"},
    )
    plaintext = re.search(r"data-new-token>([^<]+)<", response.content.decode()).group(1)
    token = ProjectToken.objects.get(project=world.project)
    assert plaintext.startswith(token.display_prefix)
    assert sorted(token.scopes) == ["read", "upload"]
    assert plaintext not in client.get(world.url("settings/")).content.decode()
    client.post(world.url(f"settings/tokens/{token.pk}/revoke/"))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_team_invite_creates_an_account_and_sends_a_set_password_link(world: World) -> None:
    client = signed_in(world.owner)
    response = client.post("/team/", {"email": "New.Person@Example.com", "role": "member"})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["new.person@example.com"]
    assert message.subject == "You're invited to Acme on the audit platform"
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Set your password" in form_page.content
    members = {m.user.email: m.role for m in world.org.memberships.select_related("user")}
    assert members["new.person@example.com"] == "member"


def test_team_invite_of_an_existing_account_adds_it_without_mail(world: World) -> None:
    response = signed_in(world.owner).post(
        "/team/", {"email": world.outsider.email, "role": "viewer"}
    )
    assert response.status_code == 302
    assert mail.outbox == []
    assert world.org.memberships.get(user=world.outsider).role == "viewer"


def test_team_role_change_and_member_restrictions(world: World) -> None:
    membership = world.org.memberships.get(user=world.viewer)
    assert (
        signed_in(world.member).post(f"/team/{membership.pk}/role/", {"role": "admin"}).status_code
        == 403
    )
    signed_in(world.owner).post(f"/team/{membership.pk}/role/", {"role": "member"})
    membership.refresh_from_db()
    assert membership.role == "member"


def test_switching_organization_is_remembered(world: World) -> None:
    from tests.platform.factories import MembershipFactory  # noqa: PLC0415

    MembershipFactory(organization=world.other_org, user=world.owner, role="viewer")
    client = signed_in(world.owner)
    response = client.post("/organizations/switch/", {"organization": "globex"})
    assert response["Location"] == "/o/globex/"
    assert client.get("/")["Location"] == "/o/globex/"
    assert client.get("/team/").context["organization"] == world.other_org


def test_report_page_and_missing_report(world: World) -> None:
    client = signed_in(world.owner)
    assert client.get(world.url("report/"))["Location"] == world.url("scans/3/report/")
    response = client.get(world.url("scans/3/report/"))
    html = response.content.decode()
    assert "Remediation report: Payments API, scan #3" in html
    assert "1 fixed, 1 reopened, 1 overdue" in html
    assert 'data-figure="rfig-open_by_severity"' in html
    failed = ScanFactory(project=world.project, number=4, status=ScanStatus.FAILED)
    assert client.get(world.url(f"scans/{failed.number}/report/")).status_code == 404


def test_due_dates_in_the_past_only_count_active_findings(world: World) -> None:
    Finding.objects.filter(pk=world.fixed.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=9)
    )
    board = signed_in(world.owner).get(world.url()).context["board"]
    assert board.summary.overdue == 1


def test_one_pass_dashboard_aggregates_match_the_plain_queries(world: World) -> None:
    from audit_platform.reports import selectors  # noqa: PLC0415

    _more_findings(world, 30)
    aggregates = selectors.active_aggregates(world.project)
    assert aggregates.summary == selectors.project_risk_summary(world.project)
    assert aggregates.categories == selectors.category_counts(world.project)
    assert aggregates.locations == selectors.risk_by_module(world.project)
    assert aggregates.categories[0] == ("ASYNC-BLOCKING-SLEEP", 30)
    assert aggregates.locations[0] == ("app/services/rates.py", 87.5, 1)


def test_dashboard_aggregates_are_cached_until_a_finding_changes(
    world: World, django_assert_max_num_queries
) -> None:
    from audit_platform.findings.services import finding_set_status  # noqa: PLC0415

    client = signed_in(world.owner)
    first = client.get(world.url()).context["board"]
    with django_assert_max_num_queries(DASHBOARD_QUERIES - 2):  # aggregates and MTTR cached
        cached = client.get(world.url()).context["board"]
    assert cached.summary == first.summary
    finding_set_status(world.top, status=FindingStatus.FIXED, actor=world.owner)
    after = client.get(world.url()).context["board"]
    assert after.summary.open_total == first.summary.open_total - 1
    assert after.summary.risk == pytest.approx(first.summary.risk - 87.5)
    assert after.mttr["high"] is not None


def test_report_admin_pages_render(world: World) -> None:
    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client = Client()  # a superuser in no organization: signed_in() would have no home page
    client.force_login(admin_user)
    for path in ("/admin/reports/reportdelivery/", "/admin/reports/reportpreference/"):
        assert client.get(path).status_code == 200


def test_removing_a_member_hands_back_their_findings_and_keeps_the_last_owner(
    world: World,
) -> None:
    from tests.platform.factories import MembershipFactory  # noqa: PLC0415

    Finding.objects.filter(pk=world.top.pk).update(assignee=world.member)
    Finding.objects.filter(pk=world.fixed.pk).update(assignee=world.member)
    membership = world.org.memberships.get(user=world.member)
    viewer_membership = world.org.memberships.get(user=world.viewer)
    refused = signed_in(world.viewer).post(f"/team/{membership.pk}/remove/")
    assert refused.status_code == 403

    response = signed_in(world.owner).post(f"/team/{membership.pk}/remove/", follow=True)
    # top, plus the two active findings the world already gave mark (overdue, in progress)
    assert "mark is no longer in Acme; 3 finding(s) are unassigned again." in (
        response.content.decode()
    )
    assert not Finding.objects.filter(assignee=world.member, status__in=["open", "in_progress"])
    assert not world.org.memberships.filter(user=world.member).exists()
    world.top.refresh_from_db()
    world.fixed.refresh_from_db()
    assert world.top.assignee is None
    assert world.fixed.assignee == world.member  # history of fixed work is kept
    event = world.top.events.get(kind=EventKind.ASSIGNED)
    assert (event.actor, event.from_value, event.to_value) == (world.owner, "mark", "")

    owner_membership = world.org.memberships.get(user=world.owner)
    MembershipFactory(organization=world.org, user=world.outsider, role="admin")
    blocked = signed_in(world.outsider).post(f"/team/{owner_membership.pk}/remove/", follow=True)
    assert "olivia is the last owner of Acme" in blocked.content.decode()
    assert world.org.memberships.filter(user=world.owner).exists()

    other_org_membership = world.other_org.memberships.get(user=world.outsider)
    assert (
        signed_in(world.owner).post(f"/team/{other_org_membership.pk}/remove/").status_code == 404
    )
    assert world.org.memberships.filter(pk=viewer_membership.pk).exists()


def test_risk_by_route_sums_what_each_route_reaches(world: World) -> None:
    from audit_platform.reports import selectors  # noqa: PLC0415

    Finding.objects.filter(project=world.project).update(reach=[])
    FindingFactory(project=world.project, blast_radius=10.0, reach=["GET /a", "POST /b"])
    FindingFactory(project=world.project, blast_radius=2.5, reach=["GET /a"])
    FindingFactory(
        project=world.project, blast_radius=99.0, reach=["GET /a"], status=FindingStatus.FIXED
    )
    FindingFactory(project=world.other_project, blast_radius=50.0, reach=["GET /a"])
    expected = [("GET /a", 12.5, 2), ("POST /b", 10.0, 1)]
    assert selectors.risk_by_route(world.project) == expected
    assert selectors.risk_by_route_in_python(world.project) == expected
    assert selectors.risk_by_route(world.project, limit=1) == expected[:1]
    html = signed_in(world.owner).get(world.url()).content.decode()
    assert 'data-figure="fig-routes"' in html
