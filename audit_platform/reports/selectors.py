"""Reads behind the dashboard pages and the reports (never writes).

Every selector takes an already access-checked organization or project. Aggregates are computed in
the database with a fixed number of queries per page, whatever the number of findings: the page
tests pin those counts, and `benchmarks/dashboard_render.py` times them on 100,000 findings.

"Risk" is the summed blast radius of a project's active (open / in progress) findings: it grows with
every new finding, with reach, traffic and heat, and falls as findings are fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from audit_platform.accounts.models import Membership, Organization
from audit_platform.findings.models import (
    ACTIVE_STATUSES,
    EventKind,
    Finding,
    FindingEvent,
    FindingOccurrence,
    FindingStatus,
    Severity,
)
from audit_platform.projects.models import Project
from audit_platform.reports import charts
from audit_platform.reports.models import DeliveryStatus, ReportDelivery
from audit_platform.reports.remediation import (
    ExecutiveSummary,
    FindingRef,
    LoadStage,
    PlanItem,
    RemediationReport,
    build_fix_plan,
    load_stages,
)
from audit_platform.scans.models import EndpointLoadStat, Scan, ScanStatus

SEVERITY_LABELS: dict[int, str] = {s.value: s.label for s in Severity}
TREND_SCANS = 12  # scans on the trend charts
SPARK_SCANS = 10
TOP_FINDINGS = 10
RISK_LOCATIONS = 12
AGGREGATE_ROW = "Aggregated"  # Locust's all-endpoints row


def severity_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(charts.SEVERITY_ORDER, 0)
    for row in rows:
        counts[SEVERITY_LABELS[row["severity"]]] += int(row["n"])
    return counts


def active_findings(project: Project) -> QuerySet[Finding]:
    return Finding.objects.filter(project=project, status__in=ACTIVE_STATUSES)


def scan_label(scan: Scan) -> str:
    when = scan.finished_at or scan.created_at
    return f"#{scan.number} · {when:%d %b}"


# ---------------------------------------------------------------- organization overview


@dataclass
class ProjectOverview:
    project: Project
    risk: float = 0.0
    open_by_severity: dict[str, int] = field(default_factory=dict)
    last_scan: Scan | None = None
    spark: list[int] = field(default_factory=list)
    overdue: int = 0
    last_succeeded: Scan | None = None
    gate: Any = None  # audit_platform.api.gate.GateEvaluation of last_succeeded, set by the view

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


def organization_overview(organization: Organization) -> list[ProjectOverview]:
    """Each project with its risk, open findings, last scan and trend (3 queries)."""
    projects = list(Project.objects.filter(organization=organization).order_by("name"))
    rows = {
        p.pk: ProjectOverview(project=p, open_by_severity=severity_counts(())) for p in projects
    }
    if not projects:
        return []
    today = timezone.localdate()
    aggregates = (
        Finding.objects.filter(project__in=projects, status__in=ACTIVE_STATUSES)
        .values("project_id", "severity")
        .annotate(
            n=Count("id"),
            risk=Sum("blast_radius"),
            overdue=Count("id", filter=Q(due_date__lt=today)),
        )
        .order_by()
    )
    for row in aggregates:
        overview = rows[row["project_id"]]
        overview.open_by_severity[SEVERITY_LABELS[row["severity"]]] += row["n"]
        overview.risk += float(row["risk"] or 0.0)
        overview.overdue += row["overdue"]
    recent = (
        Scan.objects.filter(project__in=projects)
        .exclude(status=ScanStatus.QUEUED)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("project_id")],
                order_by=[F("created_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=SPARK_SCANS)
        .order_by("project_id", "created_at", "id")
    )
    for scan in recent:
        overview = rows[scan.project_id]
        overview.last_scan = scan  # ascending order: the last one assigned is the newest
        if scan.status == ScanStatus.SUCCEEDED:
            overview.spark.append(open_after(scan))
            overview.last_succeeded = scan
    return list(rows.values())


def open_after(scan: Scan) -> int:
    """Active findings after a scan, from the trend snapshot the pipeline stores."""
    by_severity = trend_open_by_severity(scan)
    if by_severity:
        return sum(by_severity.values())
    return scan.new_count + scan.open_count + scan.reopened_count


def trend_open_by_severity(scan: Scan) -> dict[str, int]:
    trend = scan.trend or {}
    for key in ("open_by_severity", "by_severity", "severity"):
        value = trend.get(key)
        if isinstance(value, dict):
            return {str(k).lower(): int(v or 0) for k, v in value.items()}
    return {}


# ---------------------------------------------------------------- project dashboard


@dataclass
class RiskSummary:
    open_by_severity: dict[str, int]
    risk: float
    overdue: int
    confirmed_at_runtime: int
    in_progress: int
    unassigned: int

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


def _summary_from_rows(rows: Sequence[Mapping[str, Any]]) -> RiskSummary:
    return RiskSummary(
        open_by_severity=severity_counts(rows),
        # Rounded: the database sums floats in its own order, and the score is shown to 2 places.
        risk=round(sum(float(r["risk"] or 0.0) for r in rows), 2),
        overdue=sum(r["overdue"] for r in rows),
        confirmed_at_runtime=sum(r["runtime"] for r in rows),
        in_progress=sum(r["in_progress"] for r in rows),
        unassigned=sum(r["unassigned"] for r in rows),
    )


def project_risk_summary(project: Project) -> RiskSummary:
    """Everything on the dashboard's metric cards in one grouped query."""
    today = timezone.localdate()
    rows = list(
        active_findings(project)
        .values("severity")
        .annotate(
            n=Count("id"),
            risk=Sum("blast_radius"),
            overdue=Count("id", filter=Q(due_date__lt=today)),
            runtime=Count("id", filter=Q(confirmed_at_runtime=True)),
            in_progress=Count("id", filter=Q(status=FindingStatus.IN_PROGRESS)),
            unassigned=Count("id", filter=Q(assignee__isnull=True)),
        )
        .order_by()
    )
    return _summary_from_rows(rows)


# PostgreSQL computes the metric cards, the category chart and the per-file risk in ONE pass over
# the active findings (GROUPING SETS) instead of three: on 100k findings that is most of the
# dashboard's database time. Other databases run the three ORM queries above and below.
_ACTIVE_AGGREGATES_SQL = """
WITH grouped AS (
    SELECT GROUPING(severity) AS by_other_than_severity, GROUPING(path) AS by_other_than_path,
           severity, category, path,
           COUNT(*) AS n, SUM(blast_radius) AS risk,
           COUNT(*) FILTER (WHERE due_date < %(today)s) AS overdue,
           COUNT(*) FILTER (WHERE confirmed_at_runtime) AS runtime,
           COUNT(*) FILTER (WHERE status = %(in_progress)s) AS in_progress,
           COUNT(*) FILTER (WHERE assignee_id IS NULL) AS unassigned
    FROM {table}
    WHERE project_id = %(project)s AND status = ANY(%(active)s)
    GROUP BY GROUPING SETS ((severity), (category), (path))
)
SELECT * FROM grouped WHERE by_other_than_path = 1
UNION ALL
(SELECT * FROM grouped WHERE by_other_than_path = 0 ORDER BY risk DESC, path LIMIT %(locations)s)
"""


@dataclass
class ActiveAggregates:
    summary: RiskSummary
    categories: list[tuple[str, int]]
    locations: list[tuple[str, float, int]]


def active_aggregates(project: Project) -> ActiveAggregates:
    if connection.vendor != "postgresql":
        return ActiveAggregates(
            project_risk_summary(project), category_counts(project), risk_by_module(project)
        )
    params: dict[str, Any] = {
        "today": timezone.localdate(),
        "in_progress": FindingStatus.IN_PROGRESS.value,
        "project": project.pk,
        "active": sorted(str(s) for s in ACTIVE_STATUSES),
        "locations": RISK_LOCATIONS,
    }
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVE_AGGREGATES_SQL.format(table=Finding._meta.db_table), params)
        columns = [column.name for column in cursor.description or ()]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    by_severity = [r for r in rows if r["by_other_than_severity"] == 0]
    by_category = [
        r for r in rows if r["by_other_than_severity"] == 1 and r["by_other_than_path"] == 1
    ]
    by_path = [r for r in rows if r["by_other_than_path"] == 0]
    return ActiveAggregates(
        summary=_summary_from_rows(by_severity),
        categories=sorted(
            ((r["category"], int(r["n"])) for r in by_category), key=lambda c: (-c[1], c[0])
        ),
        locations=[(r["path"], float(r["risk"] or 0.0), int(r["n"])) for r in by_path],
    )


def top_findings(project: Project, limit: int = TOP_FINDINGS) -> list[Finding]:
    return list(
        active_findings(project)
        .select_related("assignee")
        .order_by("-blast_radius", "-severity", "id")[:limit]
    )


def recent_scans(project: Project, limit: int = TREND_SCANS) -> list[Scan]:
    """The last succeeded scans, oldest first (the x axis of every trend chart)."""
    scans = list(
        Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED)
        .defer(
            "log",
            "completed_steps",
            "stats",
            "engine_timings",
            "scanner_versions",
            "commit_message",
        )
        .order_by("-finished_at", "-id")[:limit]
    )
    scans.reverse()
    return scans


def scan_points(scans: Sequence[Scan]) -> list[charts.ScanPoint]:
    return [
        charts.ScanPoint(
            label=scan_label(scan),
            open_by_severity=trend_open_by_severity(scan),
            new=scan.new_count,
            fixed=scan.fixed_count,
            reopened=scan.reopened_count,
        )
        for scan in scans
    ]


def category_counts(project: Project) -> list[tuple[str, int]]:
    return [
        (row["category"], row["n"])
        for row in active_findings(project)
        .values("category")
        .annotate(n=Count("id"))
        .order_by("-n", "category")
    ]


def risk_by_module(project: Project, limit: int = RISK_LOCATIONS) -> list[tuple[str, float, int]]:
    """Where the risk lives: summed blast radius of active findings per file."""
    rows = (
        active_findings(project)
        .values("path")
        .annotate(total=Sum("blast_radius"), n=Count("id"))
        .order_by("-total", "path")[:limit]
    )
    return [(row["path"], float(row["total"] or 0.0), row["n"]) for row in rows]


_RISK_BY_ROUTE_SQL = {
    "postgresql": """
SELECT route.value AS route, SUM(f.blast_radius) AS risk, COUNT(*) AS n
FROM {table} AS f CROSS JOIN LATERAL jsonb_array_elements_text(f.reach) AS route(value)
WHERE f.project_id = %(project)s AND f.status = ANY(%(active)s)
  AND jsonb_typeof(f.reach) = 'array'
GROUP BY route.value ORDER BY risk DESC, route LIMIT %(limit)s
""",
    "sqlite": """
SELECT route.value AS route, SUM(f.blast_radius) AS risk, COUNT(*) AS n
FROM {table} AS f, json_each(f.reach) AS route
WHERE f.project_id = %(project)s AND f.status IN ({active})
  AND json_type(f.reach) = 'array'
GROUP BY route.value ORDER BY risk DESC, route LIMIT %(limit)s
""",
}


def risk_by_route(project: Project, limit: int = RISK_LOCATIONS) -> list[tuple[str, float, int]]:
    """Where the risk lives, by HTTP route: the summed blast radius of the active findings each
    route reaches (a helper used by many routes counts for each of them, as its risk does)."""
    active = sorted(str(s) for s in ACTIVE_STATUSES)
    params: dict[str, Any] = {"project": project.pk, "active": active, "limit": limit}
    template = _RISK_BY_ROUTE_SQL.get(connection.vendor)
    if template is None:
        return risk_by_route_in_python(project, limit)
    # SQLite binds no lists: one placeholder per status (PostgreSQL takes the list for ANY).
    placeholders = ", ".join(f"%(active{i})s" for i in range(len(active)))
    if connection.vendor != "postgresql":
        del params["active"]
        params.update({f"active{i}": status for i, status in enumerate(active)})
    sql = template.format(table=Finding._meta.db_table, active=placeholders)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(str(route), float(risk or 0.0), int(n)) for route, risk, n in rows]


def risk_by_route_in_python(
    project: Project, limit: int = RISK_LOCATIONS
) -> list[tuple[str, float, int]]:
    """``risk_by_route`` for database backends without JSON table functions (reads every
    active finding's reach, so the SQL versions are preferred)."""
    totals: dict[str, tuple[float, int]] = {}
    for reach, blast in active_findings(project).values_list("reach", "blast_radius"):
        for route in reach if isinstance(reach, list) else ():
            total, count = totals.get(str(route), (0.0, 0))
            totals[str(route)] = (total + float(blast or 0.0), count + 1)
    ranked = sorted(totals.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    return [(route, total, count) for route, (total, count) in ranked]


def mean_days_to_remediate(project: Project) -> dict[str, float | None]:
    """Mean days from first seen to fixed, per severity, over fixed findings."""
    duration = ExpressionWrapper(F("fixed_at") - F("created_at"), output_field=DurationField())
    rows = (
        Finding.objects.filter(project=project, status=FindingStatus.FIXED, fixed_at__isnull=False)
        .values("severity")
        .annotate(mean=Avg(duration))
        .order_by()
    )
    result: dict[str, float | None] = dict.fromkeys(charts.SEVERITY_ORDER)
    for row in rows:
        mean = row["mean"]
        if isinstance(mean, timedelta):
            result[SEVERITY_LABELS[row["severity"]]] = mean.total_seconds() / 86400
    return result


@dataclass(frozen=True)
class LoadRow:
    scan: Scan
    p95_ms: float
    rps: float
    requests: int
    failures: int


def load_test_history(project: Project, limit: int = TREND_SCANS) -> list[LoadRow]:
    """The all-endpoints row of every scan that had a load test uploaded, oldest first."""
    stats = list(
        EndpointLoadStat.objects.filter(scan__project=project, endpoint=AGGREGATE_ROW)
        .select_related("scan")
        .order_by("-scan__created_at", "-scan_id")[:limit]
    )
    stats.reverse()
    return [
        LoadRow(
            scan=stat.scan,
            p95_ms=float(stat.p95_ms or 0.0),
            rps=float(stat.rps or 0.0),
            requests=int(stat.requests or 0),
            failures=int(stat.failures or 0),
        )
        for stat in stats
    ]


def load_stage_table(load: Sequence[LoadRow]) -> list[LoadStage]:
    """The "optimization stages" table: each load test against the first one."""
    return load_stages(
        [
            (scan_label(r.scan), r.scan.commit_sha[:8], r.p95_ms, r.rps, r.requests, r.failures)
            for r in load
        ]
    )


@dataclass
class ProjectDashboard:
    summary: RiskSummary
    top: list[Finding]
    scans: list[Scan]
    categories: list[tuple[str, int]]
    locations: list[tuple[str, float, int]]
    routes: list[tuple[str, float, int]]
    mttr: dict[str, float | None]
    load: list[LoadRow]
    last_scan: Scan | None
    running_scan: Scan | None


DASHBOARD_CACHE_SECONDS = 900


def findings_version(project: Project, latest: Scan | None, last_succeeded: Scan | None) -> str:
    """A key that changes whenever the project's aggregates may have: every triage and every
    scan-made change writes a FindingEvent (the newest id is one primary-key lookup), finished scans
    change the latest scan's status, and overdue counts change with the date."""
    last_event = FindingEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    latest_part = f"{latest.pk}.{latest.status}" if latest else "-"
    succeeded_part = str(last_succeeded.pk) if last_succeeded else "-"
    return f"{project.pk}:{last_event}:{latest_part}:{succeeded_part}:{timezone.localdate()}"


def project_dashboard(project: Project) -> ProjectDashboard:
    scans = recent_scans(project)
    latest = (
        Scan.objects.filter(project=project)
        .only(
            "id",
            "number",
            "status",
            "stage",
            "progress",
            "created_at",
            "finished_at",
            "branch",
            "project_id",
        )
        .order_by("-created_at", "-id")
        .first()
    )
    # The aggregates read every active finding (the expensive part on big projects); they are
    # cached under a key derived from the data, so any process computes them once per change.
    key = "reports:dashboard:v2:" + findings_version(project, latest, scans[-1] if scans else None)
    cached = cache.get(key)
    if cached is None:
        cached = (
            active_aggregates(project),
            mean_days_to_remediate(project),
            risk_by_route(project),
        )
        cache.set(key, cached, DASHBOARD_CACHE_SECONDS)
    aggregates, mttr, routes = cached
    return ProjectDashboard(
        summary=aggregates.summary,
        top=top_findings(project),
        scans=scans,
        categories=aggregates.categories,
        locations=aggregates.locations,
        routes=routes,
        mttr=mttr,
        load=load_test_history(project),
        last_scan=scans[-1] if scans else None,
        running_scan=latest if latest is not None and not latest.is_final else None,
    )


# ---------------------------------------------------------------- findings


@dataclass(frozen=True)
class FindingFilters:
    status: str = "active"  # "active", "all" or a FindingStatus value
    severity: str = ""
    category: str = ""
    assignee: str = ""  # "", "me", "none" or a user id
    path: str = ""
    new: bool = False  # first seen in the latest scan
    runtime: bool = False  # confirmed at runtime
    sort: str = "blast"  # "blast", "severity", "due", "path", "recent"

    @classmethod
    def from_query(cls, params: Any) -> FindingFilters:
        def flag(name: str) -> bool:
            return str(params.get(name, "")).lower() in {"1", "true", "on", "yes"}

        return cls(
            status=str(params.get("status", "active") or "active"),
            severity=str(params.get("severity", "")),
            category=str(params.get("category", "")),
            assignee=str(params.get("assignee", "")),
            path=str(params.get("path", "")).strip(),
            new=flag("new"),
            runtime=flag("runtime"),
            sort=str(params.get("sort", "blast") or "blast"),
        )


SORTS: dict[str, tuple[str, ...]] = {
    "blast": ("-blast_radius", "-severity", "id"),
    "severity": ("-severity", "-blast_radius", "id"),
    "due": (F("due_date").asc(nulls_last=True), "-blast_radius", "id"),  # type: ignore[dict-item]
    "path": ("path", "start_line", "id"),
    "recent": ("-created_at", "-id"),
}


def finding_list(
    project: Project, filters: FindingFilters, *, user_id: int | None
) -> QuerySet[Finding]:
    queryset = Finding.objects.filter(project=project)
    if filters.status == "active":
        queryset = queryset.filter(status__in=ACTIVE_STATUSES)
    elif filters.status in FindingStatus.values:
        queryset = queryset.filter(status=filters.status)
    severity = {label: value for value, label in SEVERITY_LABELS.items()}.get(
        filters.severity.lower()
    )
    if severity is not None:
        queryset = queryset.filter(severity=severity)
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.assignee == "me" and user_id is not None:
        queryset = queryset.filter(assignee_id=user_id)
    elif filters.assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        queryset = queryset.filter(assignee_id=int(filters.assignee))
    if filters.path:
        queryset = queryset.filter(path__startswith=filters.path)
    if filters.new:
        latest = latest_succeeded_scan_id(project)
        queryset = queryset.filter(first_seen_scan_id=latest) if latest else queryset.none()
    if filters.runtime:
        queryset = queryset.filter(confirmed_at_runtime=True)
    order = SORTS.get(filters.sort, SORTS["blast"])
    return queryset.select_related("assignee").order_by(*order)


def latest_succeeded_scan_id(project: Project) -> int | None:
    return (
        Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .values_list("id", flat=True)
        .first()
    )


def project_categories(project: Project) -> list[str]:
    return list(
        Finding.objects.filter(project=project)
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


def organization_members(organization: Organization) -> list[Membership]:
    return list(
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__username")
    )


def my_findings(user_id: int, organization: Organization) -> QuerySet[Finding]:
    """Active findings assigned to the user in the organization, by due date (no due date last)."""
    return (
        Finding.objects.filter(
            assignee_id=user_id, project__organization=organization, status__in=ACTIVE_STATUSES
        )
        .select_related("project", "assignee")
        .order_by(F("due_date").asc(nulls_last=True), "-blast_radius", "id")
    )


def finding_detail(project: Project, finding_id: int) -> Finding | None:
    return (
        Finding.objects.filter(project=project, pk=finding_id)
        .select_related("assignee", "first_seen_scan", "last_seen_scan", "fixed_in_scan")
        .first()
    )


def finding_timeline(finding: Finding) -> list[FindingEvent]:
    return list(finding.events.select_related("actor", "scan").order_by("created_at", "id"))


def finding_occurrence_count(finding: Finding) -> int:
    return FindingOccurrence.objects.filter(finding=finding).count()


# ---------------------------------------------------------------- tracking (SLA)


def overdue_findings(project: Project, *, today: date | None = None) -> QuerySet[Finding]:
    today = today or timezone.localdate()
    return (
        active_findings(project)
        .filter(due_date__lt=today)
        .select_related("assignee")
        .order_by("due_date", "-blast_radius", "id")
    )


def findings_fixed_in(scan: Scan) -> QuerySet[Finding]:
    return Finding.objects.filter(fixed_in_scan=scan).order_by("-blast_radius", "id")


def findings_reopened_in(scan: Scan) -> QuerySet[Finding]:
    ids = FindingEvent.objects.filter(scan=scan, kind=EventKind.REOPENED_BY_SCAN).values(
        "finding_id"
    )
    return Finding.objects.filter(pk__in=ids).order_by("-blast_radius", "id")


# ---------------------------------------------------------------- remediation report

REPORT_PLAN_ITEMS = 60  # the fix plan lists this many findings; the rest are counted
REPORT_LISTED = 15  # fixed / overdue / reopened findings named in the summary


def _finding_ref(finding: Finding, today: date, url: str = "") -> FindingRef:
    days_overdue = (
        (today - finding.due_date).days if finding.due_date and finding.due_date < today else 0
    )
    return FindingRef(
        finding_id=finding.pk,
        title=finding.title,
        severity=finding.severity_label,
        location=f"{finding.path}:{finding.start_line}",
        url=url,
        due_date=finding.due_date,
        days_overdue=days_overdue,
    )


def last_delivery(project: Project, *, before: datetime | None = None) -> ReportDelivery | None:
    deliveries = ReportDelivery.objects.filter(project=project, status=DeliveryStatus.SENT)
    if before is not None:
        deliveries = deliveries.filter(sent_at__lt=before)
    return deliveries.order_by("-sent_at", "-id").first()


def remediation_report(
    scan: Scan, *, finding_url: Callable[[Finding], str] | None = None, now: datetime | None = None
) -> RemediationReport:
    """The prioritized remediation report of a scan: what is open now, ranked and grouped into
    work; what changed since the last report sent (or, before any, since the previous scan)."""
    project = scan.project
    now = now or timezone.now()
    today = timezone.localdate(now)
    url = finding_url or (lambda _finding: "")
    summary_row = project_risk_summary(project)
    previous_report = last_delivery(project, before=now)
    previous_scan = (
        Scan.objects.filter(
            project=project, status=ScanStatus.SUCCEEDED, finished_at__lt=scan.finished_at or now
        )
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )
    since = (
        previous_report.sent_at
        if previous_report
        else previous_scan.finished_at
        if previous_scan
        else None
    )

    fixed_qs = Finding.objects.filter(
        project=project, status=FindingStatus.FIXED, fixed_at__isnull=False
    )
    fixed_qs = fixed_qs.filter(fixed_at__gt=since) if since else fixed_qs.filter(fixed_in_scan=scan)
    reopened_events = FindingEvent.objects.filter(
        finding__project=project, kind=EventKind.REOPENED_BY_SCAN
    )
    reopened_events = (
        reopened_events.filter(created_at__gt=since) if since else reopened_events.filter(scan=scan)
    )
    reopened_qs = Finding.objects.filter(pk__in=reopened_events.values("finding_id")).order_by(
        "-blast_radius", "id"
    )

    summary = ExecutiveSummary(
        risk_now=summary_row.risk,
        risk_previous=previous_report.risk if previous_report else None,
        open_by_severity=summary_row.open_by_severity,
        new_count=scan.new_count,
        fixed=[
            _finding_ref(f, today, url(f))
            for f in fixed_qs.order_by("-blast_radius", "id")[:REPORT_LISTED]
        ],
        overdue=[
            _finding_ref(f, today, url(f))
            for f in overdue_findings(project, today=today)[:REPORT_LISTED]
        ],
        reopened=[_finding_ref(f, today, url(f)) for f in reopened_qs[:REPORT_LISTED]],
        previous_label=(
            f"the report of {previous_report.sent_at:%d %b %Y}"
            if previous_report and previous_report.sent_at
            else (f"scan #{previous_scan.number}" if previous_scan else "")
        ),
    )
    summary.fixed_total = (
        fixed_qs.count() if len(summary.fixed) == REPORT_LISTED else len(summary.fixed)
    )
    summary.overdue_total = summary_row.overdue

    open_findings = list(
        active_findings(project)
        .select_related("assignee")
        .order_by("-blast_radius", "-severity", "id")[:REPORT_PLAN_ITEMS]
    )
    items = [
        PlanItem(
            finding_id=f.pk,
            title=f.title,
            category=f.category,
            severity=f.severity_label,
            path=f.path,
            start_line=f.start_line,
            enclosing=f.enclosing,
            blast_radius=f.blast_radius,
            blast_explanation=f.blast_explanation,
            why=f.message,
            how=f.remediation,
            status=f.status,
            has_generated_fix=bool(f.suggested_fix),
            confirmed_at_runtime=f.confirmed_at_runtime,
            due_date=f.due_date,
            overdue=bool(f.due_date and f.due_date < today),
            assignee=(f.assignee.get_full_name() or f.assignee.get_username())
            if f.assignee
            else "",
            url=url(f),
        )
        for f in open_findings
    ]
    return RemediationReport(
        project_name=project.name,
        project_slug=project.slug,
        organization_name=project.organization.name,
        scan_label=f"scan #{scan.number}",
        scan_id=scan.pk,
        commit=scan.commit_sha[:12],
        branch=scan.branch,
        generated_at=now,
        summary=summary,
        plan=build_fix_plan(items),
        stages=load_stage_table(load_test_history(project)),
        plan_truncated=max(0, summary_row.open_total - len(items)),
    )
