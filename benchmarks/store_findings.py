"""Store N synthetic findings through the real service on the configured database; print seconds.

    .venv/bin/python -m tests.support.services -- .venv/bin/python benchmarks/store_findings.py
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/store_findings.py [--findings 50000]
        [--explain]   # EXPLAIN ANALYZE the dashboard/API finding queries afterwards
        [--keep]      # keep the benchmark organization (default: deleted at the end)

Scan 1 stores every finding as new; scan 2 (same branch) sees 90% of them again plus 5% new, so
it exercises the upsert, the reconciliation (10% fixed) and the events of both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings.local")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from audit_platform.accounts.models import Organization  # noqa: E402
from audit_platform.findings.models import Finding, FindingEvent  # noqa: E402
from audit_platform.findings.selectors import findings_trend_snapshot  # noqa: E402
from audit_platform.findings.services import findings_store_scan  # noqa: E402
from audit_platform.projects.models import Project  # noqa: E402
from audit_platform.scans.models import Scan, ScanStatus  # noqa: E402
from scanners.catalog import Severity  # noqa: E402
from scanners.findings import Finding as EngineFinding  # noqa: E402
from scanners.findings import WitnessStep  # noqa: E402
from scanners.fingerprint import assign_fingerprints  # noqa: E402

CATEGORIES = ("ASYNC-BLOCKING-HTTP", "DB-N-PLUS-ONE", "PYD-ANY-FIELD", "SEC-HARDCODED-SECRET")


def synthetic(count: int, offset: int = 0) -> list[EngineFinding]:
    findings = []
    for index in range(offset, offset + count):
        module = index // 50
        findings.append(
            EngineFinding(
                rule_id="bench-rule",
                category=CATEGORIES[index % len(CATEGORIES)],
                severity=Severity(index % 5),
                title=f"Synthetic finding {index}",
                message="A synthetic finding for the storage benchmark.",
                path=f"app/module_{module:05d}.py",
                start_line=10 + index % 50,
                enclosing=f"handler_{index}",
                snippet=f"call_{index}()",
                remediation="Fix it.",
                reach=(f"GET /items/{index}",),
                witness=(WitnessStep(f"app/module_{module:05d}.py", 10, f"handler_{index}"),),
                blast_radius=float(index % 100),
            )
        )
    assign_fingerprints(findings)
    return findings


def store(project: Project, number: int, findings: list[EngineFinding]) -> tuple[Scan, float]:
    scan = Scan.objects.create(
        project=project, number=number, source_kind="git", branch="main", status="running"
    )
    started = time.perf_counter()
    with transaction.atomic():
        findings_store_scan(scan, findings)
        scan.trend = findings_trend_snapshot(scan)
        scan.status, scan.finished_at = ScanStatus.SUCCEEDED, timezone.now()
        scan.save()
    return scan, time.perf_counter() - started


def explain(project: Project) -> None:
    if connection.vendor != "postgresql":
        print("EXPLAIN needs PostgreSQL; skipped")
        return
    user_free = Finding.objects.filter(project=project)
    queries = {
        "open findings ranked by blast radius (first page)": user_free.filter(
            status="open"
        ).order_by("-blast_radius", "-severity", "id")[:50],
        "by category": user_free.filter(category="DB-N-PLUS-ONE").order_by("-blast_radius")[:50],
        "assignee by due date": Finding.objects.filter(assignee_id=1).order_by("due_date")[:50],
        "events of one finding": FindingEvent.objects.filter(finding=user_free.first()),
    }
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    for name, queryset in queries.items():
        print(f"--- {name}")
        print(queryset.explain(analyze=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)  # a fresh database (tests.support.services) works too

    slug = f"bench-{uuid.uuid4().hex[:8]}"
    organization = Organization.objects.create(name=slug, slug=slug)
    project = Project.objects.create(organization=organization, name=slug, slug=slug)
    first = synthetic(args.findings)
    again = first[: int(args.findings * 0.9)] + synthetic(int(args.findings * 0.05), args.findings)
    try:
        print(f"database: {connection.vendor}; findings per scan: {len(first)} then {len(again)}")
        scan1, seconds1 = store(project, 1, first)
        print(f"scan 1 (all new): {seconds1:.2f} s, new={scan1.occurrences.count()}")
        scan2, seconds2 = store(project, 2, again)
        fixed = Finding.objects.filter(project=project, fixed_in_scan=scan2).count()
        print(f"scan 2 (upsert + reconcile): {seconds2:.2f} s, fixed={fixed}")
        print(f"events written: {FindingEvent.objects.filter(finding__project=project).count()}")
        if args.explain:
            explain(project)
    finally:
        if not args.keep:
            organization.delete()


if __name__ == "__main__":
    main()
