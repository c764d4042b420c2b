"""Benchmark: dashboard pages of a project with 100,000 findings, on PostgreSQL.

    .venv/bin/python -m tests.support.services -- .venv/bin/python benchmarks/dashboard_render.py
    .venv/bin/python benchmarks/dashboard_render.py --findings 20000      # with DATABASE_URL set

Needs a PostgreSQL database it may fill and migrate (``DATABASE_URL``; ``tests.support.services``
starts a throwaway one). Seeds one organization with a project of N findings (mixed severities,
categories, 2,000 files, statuses, assignees, due dates), 12 succeeded scans with trend snapshots,
load tests and the last scan's occurrences. Then renders each page through Django's test client
(URL routing, middleware, session, queries, template) and prints the median and worst server
time of several runs, with the query count. The dashboard is timed cold (its cached aggregates
dropped before every request, as after any triage or scan) and cached. Target: dashboard and
findings list <= 300 ms.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings.test")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit_platform.accounts.models import Membership, Organization, Role  # noqa: E402
from audit_platform.findings.models import Finding, FindingOccurrence, FindingStatus  # noqa: E402
from audit_platform.projects.models import Project  # noqa: E402
from audit_platform.scans.models import EndpointLoadStat, Scan, ScanStatus  # noqa: E402
from scanners.catalog import CATEGORIES  # noqa: E402

TARGET_MS = 300.0
BATCH = 5_000
SLUG = "bench-org"


def seed(findings: int, files: int = 2_000) -> tuple[Project, object]:
    rng = random.Random(7)
    Organization.objects.filter(slug=SLUG).delete()
    user_model = get_user_model()
    user_model.objects.filter(username__startswith="bench-").delete()
    org = Organization.objects.create(name="Bench", slug=SLUG)
    users = [
        user_model.objects.create_user(f"bench-{i}", f"bench-{i}@example.com", "pw")
        for i in range(8)
    ]
    for index, user in enumerate(users):
        Membership.objects.create(
            organization=org, user=user, role=Role.OWNER if index == 0 else Role.MEMBER
        )
    project = Project.objects.create(
        organization=org, name="Big service", slug="big", git_url="https://example.com/x.git"
    )
    now = timezone.now()
    scans = []
    for number in range(1, 13):
        when = now - datetime.timedelta(days=7 * (13 - number))
        scans.append(
            Scan.objects.create(
                project=project,
                number=number,
                source_kind="git",
                branch="main",
                status=ScanStatus.SUCCEEDED,
                stage="done",
                progress=100.0,
                started_at=when,
                finished_at=when + datetime.timedelta(minutes=3),
                new_count=rng.randint(100, 2000),
                fixed_count=rng.randint(50, 1500),
                open_count=findings,
                trend={
                    "open_by_severity": {
                        "critical": 900 + number,
                        "high": 20_000,
                        "medium": 40_000,
                        "low": 30_000,
                    }
                },
            )
        )
        EndpointLoadStat.objects.create(
            scan=scans[-1],
            endpoint="Aggregated",
            requests=90_000,
            failures=3,
            rps=100.0 + 10 * number,
            p95_ms=900.0 - 40 * number,
        )
    categories = list(CATEGORIES)
    statuses = [FindingStatus.OPEN] * 7 + [
        FindingStatus.IN_PROGRESS,
        FindingStatus.FIXED,
        FindingStatus.FALSE_POSITIVE,
    ]
    today = timezone.localdate()
    rows = []
    for index in range(findings):
        status = rng.choice(statuses)
        rows.append(
            Finding(
                project=project,
                fingerprint=f"{index:064x}",
                category=rng.choice(categories),
                rule_id="bench-rule",
                severity=rng.choice([1, 1, 2, 2, 2, 3, 3, 4]),
                title=f"Finding {index} blocks the event loop",
                message="A synchronous call on the event loop.",
                path=f"app/module{index % files // 25}/file{index % files}.py",
                start_line=1 + index % 400,
                end_line=1 + index % 400,
                blast_radius=round(rng.random() * 100, 2),
                status=status,
                assignee=rng.choice(users) if rng.random() < 0.3 else None,
                due_date=today + datetime.timedelta(days=rng.randint(-30, 180)),
                confirmed_at_runtime=rng.random() < 0.05,
                first_seen_scan=rng.choice(scans),
                last_seen_scan=scans[-1],
                fixed_at=now if status == FindingStatus.FIXED else None,
                fixed_in_scan=scans[-1] if status == FindingStatus.FIXED else None,
            )
        )
        if len(rows) == BATCH:
            Finding.objects.bulk_create(rows)
            rows = []
    Finding.objects.bulk_create(rows)
    occurrences = []
    for finding_id, severity, blast in (
        Finding.objects.filter(project=project)
        .values_list("id", "severity", "blast_radius")
        .iterator()
    ):
        occurrences.append(
            FindingOccurrence(
                scan=scans[-1],
                finding_id=finding_id,
                path="x.py",
                start_line=1,
                end_line=1,
                severity=severity,
                blast_radius=blast,
            )
        )
        if len(occurrences) == BATCH:
            FindingOccurrence.objects.bulk_create(occurrences)
            occurrences = []
    FindingOccurrence.objects.bulk_create(occurrences)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return project, users[0]


def slowest_queries(client: Client, url: str, top: int = 4) -> list[tuple[float, str]]:
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    timed = sorted(((float(q["time"]) * 1000, q["sql"]) for q in captured), reverse=True)
    return timed[:top]


def measure(client: Client, url: str, runs: int, *, cold: bool = False) -> tuple[float, float, int]:
    """Median and worst milliseconds of `runs` requests; `cold` empties Django's cache before each
    request (the dashboard's aggregates are cached until a finding or scan changes)."""
    client.get(url)  # warm: template compilation, first-touch caches
    timings = []
    queries = 0
    for _ in range(runs):
        if cold:
            cache.clear()
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        queries = len(captured)
    return statistics.median(timings), max(timings), queries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--files", type=int, default=2_000, help="distinct file paths")
    parser.add_argument("--explain", action="store_true", help="print each page's slowest queries")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("This benchmark needs PostgreSQL: set DATABASE_URL (or use tests.support.services).")
        return 2
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    project, owner = seed(args.findings, args.files)
    seconds = time.perf_counter() - started
    print(f"seeded {args.findings:,} findings in {args.files:,} files, 12 scans in {seconds:.1f} s")
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)
    client.get("/")
    base = f"/o/{SLUG}/{project.slug}/"
    pages = [
        ("project dashboard (cold)", base, True),
        ("project dashboard (cached)", base, True),
        ("findings list", base + "findings/", True),
        ("findings list, page 200", base + "findings/?page=200", True),
        ("findings, high + runtime", base + "findings/?severity=high&runtime=1", True),
        ("findings, path + by due", base + "findings/?path=app/module12/&sort=due", True),
        ("organization overview", f"/o/{SLUG}/", False),
        ("my findings", "/mine/", False),
    ]
    failed = False
    print(f"{'page':28} {'median ms':>10} {'worst ms':>9} {'queries':>8}")
    for name, url, targeted in pages:
        median, worst, queries = measure(client, url, args.runs, cold="(cold)" in name)
        verdict = ""
        if targeted:
            verdict = "ok" if median <= TARGET_MS else f"OVER {TARGET_MS:.0f} ms"
            failed |= median > TARGET_MS
        print(f"{name:28} {median:10.1f} {worst:9.1f} {queries:8d}  {verdict}")
        if args.explain:
            for ms, sql in slowest_queries(client, url):
                print(f"    {ms:7.1f} ms  {sql[:160]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
