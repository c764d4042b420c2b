"""The quality gate (every rule, through the endpoint) and the trends endpoint."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from audit_platform.api.gate import GateResult, evaluate_gate, validate_gate_rules
from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.scans.models import EndpointLoadStat, Scan, ScanStatus
from scanners.catalog import Severity
from tests.api.conftest import World, engine_finding, store_scan


def gate_of(client, scan: Scan) -> dict:
    response = client.get(f"/api/v1/projects/{scan.project_id}/scans/{scan.pk}/gate/")
    assert response.status_code == 200, response.content
    return response.json()


def test_default_gate_fails_on_a_new_high_finding(world: World, client_for) -> None:
    scan = store_scan(world.shop, [engine_finding(severity=Severity.HIGH)])
    body = gate_of(client_for("shop_ci"), scan)
    finding = Finding.objects.get()
    assert body["result"] == "failed" and body["passed"] is False
    assert body["rules"] == {"fail_on_new_severity": "high"}
    assert body["reasons"] == [
        {
            "rule": "fail_on_new_severity",
            "passed": False,
            "message": "1 new finding at or above high severity",
            "findings": [finding.pk],
        }
    ]


def test_gate_passes_when_the_high_finding_is_not_new(world: World, client_for) -> None:
    store_scan(world.shop, [engine_finding()])
    again = store_scan(
        world.shop, [engine_finding(), engine_finding("b.py", severity=Severity.LOW)]
    )
    body = gate_of(client_for("shop_ci"), again)
    assert body["result"] == "passed"
    assert body["checks"][0]["message"] == "no new finding at or above high severity"


def test_false_positive_no_longer_fails_the_gate(world: World, client_for) -> None:
    scan = store_scan(world.shop, [engine_finding()])
    finding = Finding.objects.get()
    client_for("mike").patch(
        f"/api/v1/projects/shop/findings/{finding.pk}/",
        {"status": "false_positive", "comment": "test code"},
        format="json",
    )
    assert gate_of(client_for("shop_ci"), scan)["result"] == "passed"


def test_reopened_findings_count_as_new(world: World, client_for) -> None:
    store_scan(world.shop, [engine_finding()])
    store_scan(world.shop, [])  # fixed
    reopened = store_scan(world.shop, [engine_finding()])
    body = gate_of(client_for("shop_ci"), reopened)
    assert body["result"] == "failed"
    assert Finding.objects.get().status == FindingStatus.OPEN


def test_every_rule(world: World, client_for) -> None:
    world.shop.quality_gate = {
        "fail_on_new_severity": "critical",
        "max_blast_radius": 60,
        "max_new_findings": 1,
        "fail_on_runtime_confirmed": True,
    }
    world.shop.save()
    scan = store_scan(
        world.shop,
        [
            engine_finding("a.py", blast_radius=75.5, severity=Severity.HIGH),
            engine_finding("b.py", blast_radius=10, severity=Severity.MEDIUM, evidence=True),
        ],
    )
    body = gate_of(client_for("shop_ci"), scan)
    by_rule = {check["rule"]: check for check in body["checks"]}
    assert body["result"] == "failed"
    assert by_rule["fail_on_new_severity"]["passed"] is True
    assert by_rule["max_blast_radius"]["message"] == (
        "1 new finding with a blast radius above 60 (highest 75.5)"
    )
    assert by_rule["max_new_findings"]["message"] == "2 new findings, more than the 1 allowed"
    assert by_rule["fail_on_runtime_confirmed"]["message"] == "1 open finding confirmed at runtime"
    assert [reason["rule"] for reason in body["reasons"]] == [
        "max_blast_radius",
        "max_new_findings",
        "fail_on_runtime_confirmed",
    ]


def _load(scan: Scan, p95: float, endpoint: str = "Aggregated", method: str = "") -> None:
    EndpointLoadStat.objects.create(
        scan=scan, method=method, endpoint=endpoint, p95_ms=p95, rps=50.0, requests=1000
    )


def test_p95_regression_against_the_previous_scan_of_the_branch(world: World, client_for) -> None:
    world.shop.quality_gate = {"max_p95_regression_percent": 20}
    world.shop.save()
    client = client_for("shop_ci")
    first = store_scan(world.shop, [])
    _load(first, 100)
    _load(first, 50, "/items", "GET")
    assert gate_of(client, first)["checks"][0]["message"] == (
        "no earlier load test on branch main: nothing to compare"
    )
    other_branch = store_scan(world.shop, [], branch="dev")
    _load(other_branch, 10)  # another branch is never the baseline
    second = store_scan(world.shop, [])
    _load(second, 115)
    _load(second, 90, "/items", "GET")
    body = gate_of(client, second)
    assert body["result"] == "failed"
    assert body["reasons"][0]["message"] == (
        "p95 grew more than 20% against scan 1: GET /items 50 ms -> 90 ms (+80%)"
    )
    third = store_scan(world.shop, [])
    _load(third, 120)
    assert gate_of(client, third)["result"] == "passed"
    assert gate_of(client, third)["checks"][0]["message"] == "p95 within 20% of scan 3"


def test_gate_of_unfinished_and_failed_scans(world: World, client_for) -> None:
    client = client_for("shop_ci")
    queued = Scan.objects.create(project=world.shop, number=1, source_kind="git", branch="main")
    assert gate_of(client, queued)["result"] == "pending"
    queued.status, queued.error = ScanStatus.FAILED, "clone failed: repository not found"
    queued.save()
    body = gate_of(client, queued)
    assert body["result"] == "error"
    assert body["reasons"][0]["message"] == "the scan failed: clone failed: repository not found"


def test_invalid_stored_gate_fails_with_a_reason(world: World) -> None:
    world.shop.quality_gate = {"max_new_findings": "many"}
    world.shop.save()
    scan = store_scan(world.shop, [])
    evaluation = evaluate_gate(scan)
    assert evaluation.result == GateResult.FAILED
    assert evaluation.reasons[0].message == (
        "the project's gate is invalid: max_new_findings must be a number"
    )


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "the gate must be a JSON object"),
        ({"fail_on": 1}, "unknown gate rule(s): fail_on"),
        ({"max_new_findings": 1.5}, "max_new_findings must be a whole number"),
        ({"max_blast_radius": True}, "max_blast_radius must be a number"),
        ({"fail_on_runtime_confirmed": "yes"}, "fail_on_runtime_confirmed must be true or false"),
        ({"max_p95_regression_percent": -5}, "max_p95_regression_percent must not be negative"),
    ],
)
def test_gate_rule_validation(rules, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_gate_rules(rules)


def test_trends(world: World, client_for) -> None:
    first = store_scan(world.shop, [engine_finding("a.py"), engine_finding("b.py")])
    _load(first, 120)
    second = store_scan(world.shop, [engine_finding("a.py"), engine_finding("c.py")])
    Scan.objects.filter(pk=second.pk).update(trend={"open_by_severity": {"high": 2}})
    store_scan(world.shop, [], branch="dev")
    Scan.objects.create(project=world.shop, number=9, source_kind="git", branch="main")  # queued
    fixed = Finding.objects.get(path="b.py")
    Finding.objects.filter(pk=fixed.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    body = client_for("shop_read").get("/api/v1/projects/shop/trends/?branch=main").json()
    assert [(p["number"], p["new"], p["fixed"], p["open"]) for p in body["scans"]] == [
        (1, 2, 0, 0),
        (2, 1, 1, 1),
    ]
    assert body["scans"][0]["load_test"]["p95_ms"] == 120.0
    assert body["scans"][1]["load_test"] is None
    assert body["scans"][1]["snapshot"] == {"open_by_severity": {"high": 2}}
    assert body["remediation"]["fixed_findings"] == 1
    assert 2.99 <= body["remediation"]["mean_days"] <= 3.01
    assert list(body["remediation"]["mean_days_by_severity"]) == ["high"]
    every = client_for("shop_read").get("/api/v1/projects/shop/trends/?limit=2").json()
    assert [p["number"] for p in every["scans"]] == [2, 3]
    assert client_for("shop_read").get("/api/v1/projects/shop/trends/?limit=0").status_code == 400
