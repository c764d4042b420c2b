"""Findings: filters, ordering, cursor pagination, triage with events, bulk, query counts."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit_platform.api.pagination import ordering_keys
from audit_platform.api.serializers import FINDING_ORDERINGS
from audit_platform.findings.models import EventKind, Finding, FindingEvent, FindingStatus
from scanners.catalog import Severity
from tests.api.conftest import World, engine_finding, store_scan


@pytest.fixture
def scans(world: World):
    first = store_scan(
        world.shop,
        [
            engine_finding("app/api/items.py", 10, blast_radius=90),
            engine_finding("app/api/users.py", 20, category="DB-SQL-INJECTION",
                           severity=Severity.CRITICAL, blast_radius=40),
            engine_finding("app/core/db.py", 30, category="DB-POOL-CONFIG",
                           severity=Severity.LOW, blast_radius=5),
        ],
    )  # fmt: skip
    second = store_scan(
        world.shop,
        [
            engine_finding("app/api/items.py", 10, blast_radius=90),
            engine_finding("app/api/users.py", 20, category="DB-SQL-INJECTION",
                           severity=Severity.CRITICAL, blast_radius=40),
            engine_finding("app/api/orders.py", 44, category="ASYNC-BLOCKING-HTTP",
                           blast_radius=70, evidence=True),
        ],
    )  # fmt: skip
    return first, second


def _paths(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["path"] for row in response.json()["results"]]


def test_default_order_is_blast_radius(world: World, client_for, scans) -> None:
    response = client_for("shop_read").get("/api/v1/projects/shop/findings/")
    assert _paths(response) == [
        "app/api/items.py",
        "app/api/orders.py",
        "app/api/users.py",
        "app/core/db.py",
    ]
    first = response.json()["results"][0]
    assert first["severity"] == "high" and first["blast_radius"] == 90.0
    assert first["status"] == "open"
    assert response.json()["next"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=fixed", ["app/core/db.py"]),
        ("status=open,in_progress", ["app/api/items.py", "app/api/orders.py", "app/api/users.py"]),
        ("category=DB-SQL-INJECTION,DB-POOL-CONFIG", ["app/api/users.py", "app/core/db.py"]),
        ("severity=critical", ["app/api/users.py"]),
        ("min_severity=high", ["app/api/items.py", "app/api/orders.py", "app/api/users.py"]),
        ("path=app/core/", ["app/core/db.py"]),
        ("confirmed_at_runtime=true", ["app/api/orders.py"]),
        ("min_blast_radius=40", ["app/api/items.py", "app/api/orders.py", "app/api/users.py"]),
        (
            "ordering=path",
            ["app/api/items.py", "app/api/orders.py", "app/api/users.py", "app/core/db.py"],
        ),
        (
            "ordering=-severity",
            ["app/api/users.py", "app/api/orders.py", "app/api/items.py", "app/core/db.py"],
        ),
        ("assignee=none&min_severity=critical", ["app/api/users.py"]),
    ],
)
def test_filters(world: World, client_for, scans, query: str, expected: list[str]) -> None:
    paths = _paths(client_for("shop_read").get(f"/api/v1/projects/shop/findings/?{query}"))
    if "ordering" in query:
        assert paths == expected
    else:
        assert sorted(paths) == sorted(expected)


def test_scan_filters(world: World, client_for, scans) -> None:
    first, second = scans
    client = client_for("shop_read")
    new = _paths(client.get(f"/api/v1/projects/shop/findings/?new_in_scan={second.pk}"))
    assert new == ["app/api/orders.py"]
    seen = _paths(client.get(f"/api/v1/projects/shop/findings/?seen_in_scan={first.pk}"))
    assert seen == ["app/api/items.py", "app/api/users.py", "app/core/db.py"]
    foreign = store_scan(world.rival, [engine_finding()])
    response = client.get(f"/api/v1/projects/shop/findings/?seen_in_scan={foreign.pk}")
    assert response.status_code == 400
    assert response.json()["fields"] == {"seen_in_scan": [f"No scan {foreign.pk} in this project."]}


def test_assignee_filters(world: World, client_for, scans) -> None:
    finding = Finding.objects.get(path="app/api/users.py")
    client_for("mike").patch(
        f"/api/v1/projects/shop/findings/{finding.pk}/", {"assignee": "mike"}, format="json"
    )
    assert _paths(client_for("mike").get("/api/v1/projects/shop/findings/?assignee=me")) == [
        "app/api/users.py"
    ]
    assert _paths(client_for("alice").get("/api/v1/projects/shop/findings/?assignee=mike")) == [
        "app/api/users.py"
    ]
    assert _paths(client_for("shop_ci").get("/api/v1/projects/shop/findings/?assignee=me")) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=done", "status"),
        ("severity=urgent", "severity"),
        ("min_blast_radius=lots", "min_blast_radius"),
        ("ordering=title", "ordering"),
        ("new_in_scan=0", "new_in_scan"),
        ("page_size=0", "page_size"),
        ("page_size=x", "page_size"),
        ("cursor=%%%", "cursor"),
        ("cursor=eyJvIjoiLWJsYXN0X3JhZGl1cyIsInYiOiJ4IiwiaWQiOjF9", "cursor"),
    ],
)
def test_bad_query_parameters_are_400_on_the_field(
    world: World, client_for, scans, query: str, field: str
) -> None:
    response = client_for("shop_read").get(f"/api/v1/projects/shop/findings/?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


@pytest.mark.parametrize("ordering", FINDING_ORDERINGS)
def test_cursor_pagination_walks_every_row_once(world: World, client_for, ordering: str) -> None:
    findings = [
        engine_finding(
            f"app/m{i % 7}.py", i, blast_radius=float(i % 5), severity=Severity(i % 3 + 1)
        )
        for i in range(1, 48)
    ]
    store_scan(world.shop, findings)
    # Few distinct times, so ties on the timestamp orderings are decided by id.
    for index, finding in enumerate(Finding.objects.filter(project=world.shop).order_by("id")):
        moment = datetime.datetime(2026, 1, 1 + index % 3, tzinfo=datetime.UTC)
        Finding.objects.filter(pk=finding.pk).update(created_at=moment, updated_at=moment)
    client = client_for("shop_read")
    # Mixed severities too, so the ranked orderings' tie-breakers matter.
    url = f"/api/v1/projects/shop/findings/?page_size=10&ordering={ordering}"
    seen: list[int] = []
    pages = 0
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 5
    assert len(seen) == len(set(seen)) == 47
    expected = list(
        Finding.objects.filter(project=world.shop)
        .order_by(*ordering_keys(ordering))
        .values_list("id", flat=True)
    )
    assert seen == expected, ordering


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
@pytest.mark.parametrize("ordering", FINDING_ORDERINGS)
def test_a_deep_page_of_every_ordering_is_one_index_range_scan(
    world: World, client_for, ordering: str
) -> None:
    """Not a filter over every row before the cursor, nor a sort: the cursor's row comparison
    is the index condition. Plans are asked with sequential scans and sorts priced out, so the
    answer does not depend on how few rows a test table has."""
    store_scan(world.shop, [engine_finding(f"app/m{i % 5}.py", i) for i in range(1, 30)])
    client = client_for("shop_read")
    first = client.get(f"/api/v1/projects/shop/findings/?page_size=5&ordering={ordering}").json()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(first["next"]).status_code == 200
    # One query reads the page: the cursor's values come from its rows.
    (page_query,) = [q["sql"] for q in captured if 'FROM "findings_finding"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {page_query}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Sort" not in plan, plan
    assert re.search(r"Index Cond: .*ROW\(", plan), plan


def test_cursor_of_another_ordering_is_refused(world: World, client_for) -> None:
    store_scan(world.shop, [engine_finding(line=i) for i in range(1, 4)])
    client = client_for("shop_read")
    next_url = client.get("/api/v1/projects/shop/findings/?page_size=1").json()["next"]
    cursor = next_url.split("cursor=")[1]
    response = client.get(f"/api/v1/projects/shop/findings/?ordering=path&cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["fields"] == {"cursor": ["The cursor belongs to another ordering."]}


def test_detail(world: World, client_for, scans) -> None:
    finding = Finding.objects.get(path="app/api/orders.py")
    body = client_for("shop_read").get(f"/api/v1/projects/shop/findings/{finding.pk}/").json()
    assert body["category"] == "ASYNC-BLOCKING-HTTP"
    assert body["reach"] == ["GET /items"]
    assert body["runtime_evidence"][0]["summary"] == "12% of loop samples"
    assert body["remediation"] == "Use await asyncio.sleep(...)."
    assert body["first_seen_scan"] == scans[1].pk
    assert client_for("shop_read").get("/api/v1/projects/shop/findings/999999/").status_code == 404


def test_triage_writes_one_event_per_change(world: World, client_for, scans) -> None:
    finding = Finding.objects.get(path="app/api/items.py")
    response = client_for("mike").patch(
        f"/api/v1/projects/shop/findings/{finding.pk}/",
        {
            "status": "false_positive",
            "assignee": "vera",
            "due_date": "2030-01-31",
            "comment": "Runs in a worker thread.",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["assignee"], body["due_date"]) == (
        "false_positive",
        "vera",
        "2030-01-31",
    )
    events = list(
        FindingEvent.objects.filter(finding=finding, actor=world.mike).values_list(
            "kind", "from_value", "to_value", "comment"
        )
    )
    assert sorted(events) == sorted(
        [
            (EventKind.ASSIGNED, "", "vera", ""),
            (EventKind.DUE_DATE_CHANGED, finding.due_date.isoformat(), "2030-01-31", ""),
            (EventKind.STATUS_CHANGED, "open", "false_positive", "Runs in a worker thread."),
        ]
    )
    log = client_for("vera").get(f"/api/v1/projects/shop/findings/{finding.pk}/events/").json()
    assert log[0]["kind"] == "created"
    assert {event["actor"] for event in log[1:]} == {"mike"}


def test_triage_errors(world: World, client_for, scans) -> None:
    finding = Finding.objects.get(path="app/api/items.py")
    url = f"/api/v1/projects/shop/findings/{finding.pk}/"
    client = client_for("mike")
    outsider = client.patch(url, {"assignee": "bob"}, format="json")
    assert outsider.status_code == 400
    assert outsider.json()["fields"] == {"assignee": ["No member of acme is called 'bob'."]}
    assert client.patch(url, {"status": "gone"}, format="json").json()["fields"]["status"] == [
        '"gone" is not a valid choice.'
    ]
    assert client.patch(url, {}, format="json").status_code == 400
    assert client.patch(url, {"due_date": "31/01/2030"}, format="json").status_code == 400
    finding.refresh_from_db()
    assert finding.status == "open" and finding.assignee is None


def test_comment(world: World, client_for, scans) -> None:
    finding = Finding.objects.get(path="app/api/items.py")
    url = f"/api/v1/projects/shop/findings/{finding.pk}/events/"
    response = client_for("mike").post(url, {"text": "  Looking at it.  "}, format="json")
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["comment"]) == ("commented", "Looking at it.")
    assert client_for("mike").post(url, {"text": ""}, format="json").status_code == 400
    assert client_for("vera").post(url, {"text": "x"}, format="json").status_code == 403


def test_bulk_triage_is_all_or_nothing(world: World, client_for, scans) -> None:
    ids = list(
        Finding.objects.filter(status=FindingStatus.OPEN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    client = client_for("mike")
    url = "/api/v1/projects/shop/findings/bulk/"
    rival = store_scan(world.rival, [engine_finding()]).occurrences.get().finding_id
    refused = client.post(url, {"ids": [*ids, rival], "status": "accepted_risk"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["fields"] == {"ids": [f"No such findings in this project: {rival}"]}
    assert not Finding.objects.filter(status=FindingStatus.ACCEPTED_RISK).exists()
    done = client.post(
        url, {"ids": ids, "status": "accepted_risk", "comment": "Q3 risk review"}, format="json"
    )
    assert done.status_code == 200
    assert {row["status"] for row in done.json()} == {"accepted_risk"}
    assert FindingEvent.objects.filter(
        kind=EventKind.STATUS_CHANGED, comment="Q3 risk review", actor=world.mike
    ).count() == len(ids)


def test_list_query_count_does_not_grow_with_findings(
    world: World, client_for, django_assert_max_num_queries
) -> None:
    store_scan(world.shop, [engine_finding(f"app/m{i}.py", i) for i in range(1, 301)])
    finding = Finding.objects.filter(project=world.shop).first()
    assert finding is not None
    Finding.objects.filter(project=world.shop).update(
        assignee=world.mike, due_date=datetime.date(2030, 1, 1)
    )
    client = client_for("alice")
    # auth (token + last-used) + memberships + project + findings page
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/projects/shop/findings/?page_size=200")
    assert len(response.json()["results"]) == 200
    assert response.json()["results"][0]["assignee"] == "mike"
    with django_assert_max_num_queries(6):
        client.get("/api/v1/projects/shop/scans/")
    with django_assert_max_num_queries(6):
        client.get("/api/v1/projects/")


def test_fast_list_rows_equal_the_generic_serializer(world: World, client_for, scans) -> None:
    from rest_framework import serializers  # noqa: PLC0415
    from rest_framework.test import APIRequestFactory  # noqa: PLC0415

    from audit_platform.api.serializers import FindingSerializer  # noqa: PLC0415

    finding = Finding.objects.select_related("assignee").get(path="app/api/users.py")
    finding.assignee, finding.due_date = world.mike, datetime.date(2031, 2, 3)
    request = APIRequestFactory().get("/")
    serializer = FindingSerializer(context={"request": request})
    generic = serializers.ModelSerializer.to_representation(serializer, finding)
    assert serializer.to_representation(finding) == generic
