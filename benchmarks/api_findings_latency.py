r"""Benchmark: listing findings of a project with 100,000 findings through the REST API, with 20
concurrent clients on loopback (gunicorn, PostgreSQL). Target: p95 <= 150 ms for a page.

    .venv/bin/python -m tests.support.services -- \
        .venv/bin/python benchmarks/api_findings_latency.py
    .venv/bin/python benchmarks/api_findings_latency.py --findings 20000   # with DATABASE_URL set

Each client has its own CI token (as 20 pipelines would) and fetches pages of 50: the first page
in the default order (blast radius), then a filtered page, then follows ``next`` cursors deep
into the list, round and round.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import random
import urllib.parse

from api_common import (
    Server,
    load_average,
    prepare_database,
    run_clients,
    summary,
)
from django.db import connection, transaction
from django.utils import timezone

from audit_platform.accounts.models import Organization
from audit_platform.api.services import project_token_create
from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.projects.models import Project
from scanners.catalog import CATEGORIES

TARGET_P95_MS = 150.0
SLUG = "bench-api"
BATCH = 5_000


def seed(count: int, clients: int) -> tuple[Project, list[str]]:
    Organization.objects.filter(slug=SLUG).delete()
    organization = Organization.objects.create(name="Bench API", slug=SLUG)
    project = Project.objects.create(organization=organization, name="Big", slug="big")
    rng = random.Random(11)
    categories = sorted(CATEGORIES)
    statuses = [FindingStatus.OPEN] * 6 + [FindingStatus.FIXED] * 3 + [FindingStatus.FALSE_POSITIVE]
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, count, BATCH):
            rows = []
            for n in range(start, min(count, start + BATCH)):
                category = rng.choice(categories)
                rows.append(
                    Finding(
                        project=project,
                        fingerprint=hashlib.sha256(f"bench-{n}".encode()).hexdigest(),
                        category=category,
                        rule_id=category.lower(),
                        severity=rng.randint(0, 4),
                        title=f"{category} in handler_{n % 997}",
                        message="benchmark finding",
                        path=f"app/module_{n % 800}.py",
                        start_line=1 + n % 400,
                        end_line=1 + n % 400,
                        blast_radius=round(rng.random() * 100, 1),
                        status=rng.choice(statuses),
                        confirmed_at_runtime=rng.random() < 0.05,
                        created_at=now,
                        updated_at=now,
                    )
                )
            Finding.objects.bulk_create(rows, batch_size=BATCH)
    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load; without statistics the planner guesses.
        cursor.execute("ANALYZE findings_finding")
    tokens = [
        project_token_create(project=project, name=f"pipeline-{n}", created_by=None)[1]
        for n in range(clients)
    ]
    return project, tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args()

    prepare_database()
    project, tokens = seed(args.findings, args.clients)
    print(f"seeded {args.findings} findings in project {project.pk}", flush=True)
    server = Server(args.workers)
    host, port = "127.0.0.1", server.port
    base = f"/api/v1/projects/{project.pk}/findings/"
    queries = [
        "?page_size=50",
        "?page_size=50&status=open&min_severity=high",
        "?page_size=50&category=DB-N-PLUS-ONE,ASYNC-BLOCKING-HTTP&ordering=-severity",
    ]
    cursors: dict[int, str | None] = {}

    def get(token: str, path: str) -> dict:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return json.loads(body)

    def one_request(client: int, index: int) -> None:
        token = tokens[client]
        following = cursors.get(client)
        if index % 4 == 3 and following:
            page = get(token, following)
        else:
            page = get(token, base + queries[index % len(queries)])
        nxt = page["next"] or ""
        cursors[client] = (
            urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else None
        )

    try:
        # Warm every worker's imports (the URLconf loads on a worker's first request) and
        # connections: the kernel spreads accepts unevenly, so a few requests per worker is not
        # enough to reach them all.
        run_clients(args.workers * 2, 10, one_request)
        cursors.clear()
        alone, alone_wall = run_clients(1, args.requests, one_request)
        cursors.clear()
        latencies, wall = run_clients(args.clients, args.requests, one_request)
    finally:
        server.stop()
    print(summary("findings page, 1 client (no queueing)", alone, alone_wall))
    print(summary(f"findings page, {args.clients} clients", latencies, wall))
    p95 = sorted(latencies)[int(0.95 * len(latencies)) - 1]
    verdict = "meets" if p95 <= TARGET_P95_MS else "misses"
    print(f"p95 {p95:.0f} ms {verdict} the {TARGET_P95_MS:.0f} ms target ({load_average()})")


if __name__ == "__main__":
    main()
