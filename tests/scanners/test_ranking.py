"""Blast radius: severity x reach, runtime traffic and heat when given, never zero."""

from __future__ import annotations

from scanners.catalog import Severity
from scanners.findings import Finding
from scanners.ranking import RuntimeSignals, rank, score


def finding(severity: Severity, reach: tuple[str, ...], path: str = "app/x.py") -> Finding:
    return Finding(
        rule_id="r",
        category="ASYNC-BLOCKING-HTTP",
        severity=severity,
        title="t",
        message="m",
        path=path,
        start_line=3,
        enclosing="fetch",
        reach=reach,
    )


def test_static_score_is_severity_times_reach_and_never_zero() -> None:
    assert score(finding(Severity.LOW, ())) == (2.0, "low severity; reached from no route")
    assert score(finding(Severity.HIGH, ("GET /a",))) == (
        16.0,
        "high severity; reached from 1 route",
    )
    value, text = score(finding(Severity.HIGH, tuple(f"GET /{i}" for i in range(15))))
    assert value == 40.0  # 8 * (1 + log2(16))
    assert text == "high severity; reached from 15 routes"


def test_shared_helper_outranks_one_route_and_severity_still_counts() -> None:
    shared = finding(Severity.MEDIUM, tuple(f"GET /{i}" for i in range(40)))
    single = finding(Severity.MEDIUM, ("GET /one",))
    critical = finding(Severity.CRITICAL, ())
    ranked = rank([single, critical, shared])
    assert ranked == [shared, critical, single]
    assert [f.blast_radius for f in ranked] == [25.43, 16.0, 8.0]


def test_runtime_traffic_and_heat_raise_the_score_and_are_explained() -> None:
    runtime = RuntimeSignals(
        route_traffic={"GET /a": 0.3, "GET /b": 0.08, "GET /c": 0.5},
        function_heat={("app/x.py", "fetch"): 0.12},
    )
    value, text = score(finding(Severity.HIGH, ("GET /a", "GET /b")), runtime)
    # 8 * (1 + log2 3) * (1 + 4 * 0.38) * (1 + 4 * 0.12)
    assert value == 77.13
    assert text == "high severity; reached from 2 routes; 38% of traffic; 12% of samples"
    cold, cold_text = score(finding(Severity.HIGH, ("GET /z",), path="app/y.py"), runtime)
    assert cold == 16.0
    assert cold_text == "high severity; reached from 1 route; 0% of traffic; 0% of samples"
