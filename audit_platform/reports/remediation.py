"""The prioritized remediation report as plain data, and the rules that shape it.

`selectors.remediation_report` fills these dataclasses from the database; templates (HTML, PDF,
e-mail) only render them. Keeping the grouping and the effort hints here, free of queries, makes
them easy to test and keeps one definition of "the fix plan" for every output.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from scanners.catalog import CATEGORIES

# Typical effort to fix ONE finding of a category, in minutes, for a developer who knows the code.
# These are hints for planning, not promises: they separate one-line changes from refactors.
_EFFORT_MINUTES: dict[str, int] = {
    "ASYNC-BLOCKING-SLEEP": 10,
    "ASYNC-MISSING-AWAIT": 10,
    "ASYNC-NO-AWAIT": 10,
    "ASYNC-DEPRECATED-ON-EVENT": 30,
    "ASYNC-BLOCKING-HTTP": 60,
    "ASYNC-BLOCKING-FILE": 30,
    "ASYNC-BLOCKING-SUBPROCESS": 45,
    "ASYNC-BLOCKING-CPU": 120,
    "ASYNC-BLOCKING-DB": 240,
    "ASYNC-CLIENT-LIFECYCLE": 60,
    "PYD-ANY-FIELD": 30,
    "PYD-UNCONSTRAINED-STR": 10,
    "PYD-LOOSE-OPTIONAL": 20,
    "PYD-V1-API": 20,
    "API-RESPONSE-LEAK": 60,
    "API-MISSING-RESPONSE-MODEL": 20,
    "API-UNTYPED-ENDPOINT": 45,
    "API-SHARED-IN-OUT-MODEL": 30,
    "DB-SESSION-LEAK": 60,
    "DB-SQL-INJECTION": 45,
    "DB-N-PLUS-ONE": 60,
    "DB-POOL-CONFIG": 20,
    "DB-MISSING-INDEX": 45,
    "SEC-CORS-WILDCARD-CREDENTIALS": 20,
    "SEC-HARDCODED-SECRET": 30,
    "DEP-UNPINNED": 30,
    "DI-DEEP-CHAIN": 90,
    "TYPE-CHECK": 15,
    "TYPE-UNTYPED-DEF": 10,
    "RUNTIME-BLOCKING-STACK": 120,
    "RUNTIME-SLOW-CALLBACK": 120,
    "RUNTIME-SLOW-ENDPOINT": 240,
    "RUNTIME-N-PLUS-ONE": 60,
}
_DEFAULT_EFFORT_MINUTES = 60
_GENERATED_FIX_MINUTES = 10  # review and apply the generated patch


def effort_minutes(category: str, *, has_generated_fix: bool) -> int:
    if has_generated_fix:
        return _GENERATED_FIX_MINUTES
    return _EFFORT_MINUTES.get(category, _DEFAULT_EFFORT_MINUTES)


def effort_label(minutes: int) -> str:
    """A coarse, honest label: planning needs the order of magnitude, not false precision."""
    if minutes <= 30:
        return "under 30 min"
    if minutes <= 90:
        return "about an hour"
    if minutes <= 4 * 60:
        return f"about {round(minutes / 60)} hours"
    days = minutes / (6 * 60)  # a focused working day
    return "about a day" if days < 1.5 else f"about {round(days)} days"


def module_of(path: str) -> str:
    """`app/services/rates.py` -> `app.services.rates` (what a Python developer calls the place)."""
    stem = path[:-3] if path.endswith(".py") else path
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    return stem.strip("/").replace("/", ".") or path


def category_summary(category: str) -> str:
    entry = CATEGORIES.get(category)
    return entry.summary if entry else category


@dataclass(frozen=True)
class PlanItem:
    finding_id: int
    title: str
    category: str
    severity: str
    path: str
    start_line: int
    enclosing: str
    blast_radius: float
    blast_explanation: str
    why: str
    how: str
    status: str
    has_generated_fix: bool = False
    confirmed_at_runtime: bool = False
    due_date: date | None = None
    overdue: bool = False
    assignee: str = ""
    url: str = ""

    @property
    def module(self) -> str:
        return module_of(self.path)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.start_line}"

    @property
    def effort_minutes(self) -> int:
        return effort_minutes(self.category, has_generated_fix=self.has_generated_fix)


@dataclass(frozen=True)
class PlanGroup:
    """One unit of work: the findings of one category in one module, fixed together."""

    category: str
    module: str
    items: tuple[PlanItem, ...]

    @property
    def total_blast_radius(self) -> float:
        return sum(item.blast_radius for item in self.items)

    @property
    def top_severity(self) -> str:
        return self.items[0].severity if self.items else "info"

    @property
    def effort(self) -> str:
        return effort_label(sum(item.effort_minutes for item in self.items))

    @property
    def summary(self) -> str:
        return category_summary(self.category)


def build_fix_plan(items: Iterable[PlanItem]) -> list[PlanGroup]:
    """Group by (category, module); groups ordered by summed blast radius, items by their own."""
    buckets: dict[tuple[str, str], list[PlanItem]] = defaultdict(list)
    for item in items:
        buckets[(item.category, item.module)].append(item)
    groups = [
        PlanGroup(
            category=category,
            module=module,
            items=tuple(sorted(members, key=lambda i: (-i.blast_radius, i.path, i.start_line))),
        )
        for (category, module), members in buckets.items()
    ]
    groups.sort(key=lambda g: (-g.total_blast_radius, g.category, g.module))
    return groups


@dataclass(frozen=True)
class LoadStage:
    """One row of the "optimization stages" table: the load test uploaded with one scan."""

    scan_label: str
    commit: str
    p95_ms: float
    rps: float
    requests: int
    failures: int
    p95_change_pct: float | None = None  # against the first stage
    rps_change_pct: float | None = None


def load_stages(rows: Sequence[tuple[str, str, float, float, int, int]]) -> list[LoadStage]:
    """Rows (label, commit, p95 ms, rps, requests, failures), oldest first -> stages with their
    change against the first stage (the "before")."""
    stages: list[LoadStage] = []
    baseline: tuple[float, float] | None = None
    for label, commit, p95, rps, requests, failures in rows:
        if baseline is None:
            baseline = (p95, rps)
            stages.append(LoadStage(label, commit, p95, rps, requests, failures))
            continue
        p95_change = 100.0 * (p95 - baseline[0]) / baseline[0] if baseline[0] else None
        rps_change = 100.0 * (rps - baseline[1]) / baseline[1] if baseline[1] else None
        stages.append(
            LoadStage(label, commit, p95, rps, requests, failures, p95_change, rps_change)
        )
    return stages


@dataclass(frozen=True)
class FindingRef:
    """A finding named in the executive summary (fixed, overdue, reopened)."""

    finding_id: int
    title: str
    severity: str
    location: str
    url: str = ""
    due_date: date | None = None
    days_overdue: int = 0


@dataclass
class ExecutiveSummary:
    risk_now: float
    risk_previous: float | None
    open_by_severity: dict[str, int]
    new_count: int
    fixed: list[FindingRef] = field(default_factory=list)
    overdue: list[FindingRef] = field(default_factory=list)
    reopened: list[FindingRef] = field(default_factory=list)
    previous_label: str = ""
    fixed_total: int = 0  # the lists above name the top few; these count all
    overdue_total: int = 0

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())

    @property
    def severity_breakdown(self) -> str:
        """ "1 critical, 2 high, 1 low": the severities that have open findings."""
        return ", ".join(f"{n} {severity}" for severity, n in self.open_by_severity.items() if n)

    @property
    def risk_change_pct(self) -> float | None:
        if self.risk_previous is None or self.risk_previous == 0:
            return None
        return 100.0 * (self.risk_now - self.risk_previous) / self.risk_previous

    @property
    def verdict(self) -> str:
        """One sentence a manager can read first."""
        change = self.risk_change_pct
        if self.risk_previous is None:
            trend = "This is the first report for this project."
        elif change is None or abs(change) < 1:
            trend = "Risk is unchanged since the last report."
        elif change < 0:
            trend = f"Risk is down {abs(change):.0f}% since the last report."
        else:
            trend = f"Risk is up {change:.0f}% since the last report."
        extras = []
        fixed = max(self.fixed_total, len(self.fixed))
        overdue = max(self.overdue_total, len(self.overdue))
        if fixed:
            extras.append(f"{fixed} fixed")
        if self.reopened:
            extras.append(f"{len(self.reopened)} reopened")
        if overdue:
            extras.append(f"{overdue} overdue")
        return trend + (" " + ", ".join(extras).capitalize() + "." if extras else "")


@dataclass
class RemediationReport:
    project_name: str
    project_slug: str
    organization_name: str
    scan_label: str
    scan_id: int
    commit: str
    branch: str
    generated_at: datetime
    summary: ExecutiveSummary
    plan: list[PlanGroup]
    stages: list[LoadStage]
    plan_truncated: int = 0  # open findings left out of the plan (the plan lists the top N)

    @property
    def title(self) -> str:
        return f"Remediation report: {self.project_name}, {self.scan_label}"
