"""The quality gate: per-project rules applied to one scan, giving passed/failed with reasons.

Rules live in ``Project.quality_gate`` (JSON). Every key is optional; null disables a rule; an
empty object means the default gate, ``{"fail_on_new_severity": "high"}``::

    fail_on_new_severity        "critical" | "high" | "medium" | "low" | "info"
                                fail on a new (or reopened) finding at or above this severity
    max_blast_radius            number: fail when a new finding's blast radius is above it
    max_new_findings            integer: fail when the scan has more new findings than this
    fail_on_runtime_confirmed   true: fail on any open finding of the scan confirmed at runtime
    max_p95_regression_percent  number: fail when the load test's p95 (overall or of any
                                endpoint in both scans) grew by more than this percentage against
                                the previous succeeded scan of the same branch with a load test

Findings a person marked false positive or accepted risk never fail the gate, and the gate is
evaluated when asked, so triaging a finding and asking again gives the new answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from audit_platform.findings.models import (
    ACTIVE_STATUSES,
    TRIAGED_STATUSES,
    EventKind,
    FindingEvent,
    FindingOccurrence,
    Severity,
)
from audit_platform.scans.models import EndpointLoadStat, Scan, ScanStatus

DEFAULT_GATE: dict[str, Any] = {"fail_on_new_severity": "high"}
GATE_RULES = (
    "fail_on_new_severity",
    "max_blast_radius",
    "max_new_findings",
    "fail_on_runtime_confirmed",
    "max_p95_regression_percent",
)
AGGREGATED = "Aggregated"
MAX_LISTED = 10  # finding ids named per failed rule


class GateResult:
    PASSED = "passed"
    FAILED = "failed"
    PENDING = "pending"  # the scan has not finished yet
    ERROR = "error"  # the scan failed or was cancelled: nothing to judge


@dataclass
class RuleOutcome:
    rule: str
    passed: bool
    message: str
    findings: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "message": self.message,
            "findings": self.findings,
        }


@dataclass
class GateEvaluation:
    scan_id: int
    result: str
    rules: dict[str, Any]
    outcomes: list[RuleOutcome]

    @property
    def reasons(self) -> list[RuleOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scan": self.scan_id,
            "result": self.result,
            "passed": self.result == GateResult.PASSED,
            "rules": self.rules,
            "reasons": [outcome.as_dict() for outcome in self.reasons],
            "checks": [outcome.as_dict() for outcome in self.outcomes],
        }


def _severity_from_label(value: Any) -> Severity:
    for member in Severity:
        if member.label == str(value).strip().lower():
            return member
    labels = ", ".join(member.label for member in Severity)
    raise ValueError(f"unknown severity {value!r}; one of {labels}")


def _number(value: Any, rule: str, *, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{rule} must be a number")
    if value < 0:
        raise ValueError(f"{rule} must not be negative")
    if integer and int(value) != value:
        raise ValueError(f"{rule} must be a whole number")
    return float(value)


def validate_gate_rules(rules: Any) -> dict[str, Any]:
    """The rules normalized, or ValueError naming the first bad key."""
    if not isinstance(rules, dict):
        raise ValueError("the gate must be a JSON object")
    unknown = sorted(set(rules) - set(GATE_RULES))
    if unknown:
        known = ", ".join(GATE_RULES)
        raise ValueError(f"unknown gate rule(s): {', '.join(unknown)}; known: {known}")
    clean: dict[str, Any] = {}
    for key, value in rules.items():
        if value is None:
            clean[key] = None
        elif key == "fail_on_new_severity":
            clean[key] = _severity_from_label(value).label
        elif key == "fail_on_runtime_confirmed":
            if not isinstance(value, bool):
                raise ValueError("fail_on_runtime_confirmed must be true or false")
            clean[key] = value
        elif key == "max_new_findings":
            clean[key] = int(_number(value, key, integer=True))
        else:
            clean[key] = _number(value, key)
    return clean


def effective_rules(configured: Any) -> dict[str, Any]:
    """The project's rules, or the default gate when none are configured. Rules that no longer
    validate (edited in the admin by hand) are reported by the caller, not silently dropped."""
    if not configured:
        return dict(DEFAULT_GATE)
    return validate_gate_rules(configured)


def _new_occurrences(scan: Scan) -> QuerySet[FindingOccurrence]:
    """Occurrences of findings this scan created or reopened, not triaged away."""
    reopened = FindingEvent.objects.filter(scan=scan, kind=EventKind.REOPENED_BY_SCAN).values(
        "finding_id"
    )
    return (
        FindingOccurrence.objects.filter(scan=scan)
        .filter(Q(is_new=True) | Q(finding_id__in=reopened))
        .exclude(finding__status__in=TRIAGED_STATUSES)
    )


def _ids(queryset: QuerySet[FindingOccurrence]) -> list[int]:
    return list(
        queryset.order_by("-blast_radius", "finding_id").values_list("finding_id", flat=True)[
            :MAX_LISTED
        ]
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _check_severity(scan: Scan, threshold_label: str) -> RuleOutcome:
    threshold = _severity_from_label(threshold_label)
    matching = _new_occurrences(scan).filter(severity__gte=threshold.value)
    count = matching.count()
    if count:
        return RuleOutcome(
            "fail_on_new_severity",
            False,
            f"{_plural(count, 'new finding')} at or above {threshold.label} severity",
            _ids(matching),
        )
    return RuleOutcome(
        "fail_on_new_severity", True, f"no new finding at or above {threshold.label} severity"
    )


def _check_blast_radius(scan: Scan, limit: float) -> RuleOutcome:
    matching = _new_occurrences(scan).filter(blast_radius__gt=limit)
    count = matching.count()
    if count:
        worst = matching.order_by("-blast_radius").values_list("blast_radius", flat=True)[0]
        return RuleOutcome(
            "max_blast_radius",
            False,
            f"{_plural(count, 'new finding')} with a blast radius above {limit:g} "
            f"(highest {worst:.1f})",
            _ids(matching),
        )
    return RuleOutcome("max_blast_radius", True, f"no new finding above blast radius {limit:g}")


def _check_new_count(scan: Scan, limit: int) -> RuleOutcome:
    matching = _new_occurrences(scan)
    count = matching.count()
    if count > limit:
        return RuleOutcome(
            "max_new_findings",
            False,
            f"{_plural(count, 'new finding')}, more than the {limit} allowed",
            _ids(matching),
        )
    return RuleOutcome("max_new_findings", True, f"{_plural(count, 'new finding')} (limit {limit})")


def _check_runtime(scan: Scan) -> RuleOutcome:
    matching = FindingOccurrence.objects.filter(
        scan=scan, confirmed_at_runtime=True, finding__status__in=ACTIVE_STATUSES
    )
    count = matching.count()
    if count:
        return RuleOutcome(
            "fail_on_runtime_confirmed",
            False,
            f"{_plural(count, 'open finding')} confirmed at runtime",
            _ids(matching),
        )
    return RuleOutcome("fail_on_runtime_confirmed", True, "no open finding confirmed at runtime")


def previous_load_test_scan(scan: Scan) -> Scan | None:
    """The latest succeeded scan of the same branch before ``scan`` that has load-test rows."""
    return (
        Scan.objects.filter(
            project_id=scan.project_id,
            branch=scan.branch,
            status=ScanStatus.SUCCEEDED,
            number__lt=scan.number,
            endpoint_stats__p95_ms__isnull=False,
        )
        .order_by("-number")
        .distinct()
        .first()
    )


def _p95_by_endpoint(scan: Scan) -> dict[tuple[str, str], float]:
    rows = EndpointLoadStat.objects.filter(scan=scan, p95_ms__isnull=False).values_list(
        "method", "endpoint", "p95_ms"
    )
    return {(method, endpoint): float(p95) for method, endpoint, p95 in rows if p95 is not None}


def _label(key: tuple[str, str]) -> str:
    method, endpoint = key
    return "overall" if endpoint == AGGREGATED else f"{method} {endpoint}".strip()


def _check_p95(scan: Scan, limit_percent: float) -> RuleOutcome:
    rule = "max_p95_regression_percent"
    current = _p95_by_endpoint(scan)
    if not current:
        return RuleOutcome(rule, True, "no load test in this scan: nothing to compare")
    previous_scan = previous_load_test_scan(scan)
    if previous_scan is None:
        return RuleOutcome(
            rule, True, f"no earlier load test on branch {scan.branch}: nothing to compare"
        )
    previous = _p95_by_endpoint(previous_scan)
    regressions: list[str] = []
    for key in sorted(set(current) & set(previous), key=lambda k: (k[1] != AGGREGATED, k)):
        before, after = previous[key], current[key]
        if before <= 0:
            continue
        growth = (after - before) / before * 100.0
        if growth > limit_percent:
            regressions.append(f"{_label(key)} {before:.0f} ms -> {after:.0f} ms (+{growth:.0f}%)")
    if regressions:
        return RuleOutcome(
            rule,
            False,
            f"p95 grew more than {limit_percent:g}% against scan {previous_scan.number}: "
            + "; ".join(regressions[:MAX_LISTED]),
        )
    return RuleOutcome(rule, True, f"p95 within {limit_percent:g}% of scan {previous_scan.number}")


def evaluate_gate(scan: Scan) -> GateEvaluation:
    try:
        rules = effective_rules(scan.project.quality_gate)
    except ValueError as exc:
        outcome = RuleOutcome("configuration", False, f"the project's gate is invalid: {exc}")
        return GateEvaluation(scan.pk, GateResult.FAILED, {}, [outcome])
    if scan.status in (ScanStatus.QUEUED, ScanStatus.RUNNING):
        return GateEvaluation(scan.pk, GateResult.PENDING, rules, [])
    if scan.status != ScanStatus.SUCCEEDED:
        outcome = RuleOutcome("scan", False, f"the scan {scan.status}: {scan.error or 'no reason'}")
        return GateEvaluation(scan.pk, GateResult.ERROR, rules, [outcome])
    outcomes: list[RuleOutcome] = []
    if rules.get("fail_on_new_severity") is not None:
        outcomes.append(_check_severity(scan, rules["fail_on_new_severity"]))
    if rules.get("max_blast_radius") is not None:
        outcomes.append(_check_blast_radius(scan, rules["max_blast_radius"]))
    if rules.get("max_new_findings") is not None:
        outcomes.append(_check_new_count(scan, rules["max_new_findings"]))
    if rules.get("fail_on_runtime_confirmed"):
        outcomes.append(_check_runtime(scan))
    if rules.get("max_p95_regression_percent") is not None:
        outcomes.append(_check_p95(scan, rules["max_p95_regression_percent"]))
    failed = any(not outcome.passed for outcome in outcomes)
    return GateEvaluation(
        scan.pk, GateResult.FAILED if failed else GateResult.PASSED, rules, outcomes
    )
