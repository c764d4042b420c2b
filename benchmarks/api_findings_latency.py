r"""Benchmark: listing findings of a project with 100,000 findings through the REST API, with 20
concurrent clients on loopback (gunicorn, PostgreSQL, Redis). Target: p95 <= 150 ms for a page.

    .venv/bin/python -m tests.support.services -- \
        .venv/bin/python benchmarks/api_findings_latency.py
    .venv/bin/python benchmarks/api_findings_latency.py --findings 20000   # with DATABASE_URL set

The load comes from wrk (``apt-get install wrk``): 20 connections, each with one request in
flight (a closed loop, as 20 pipelines polling would be), for a fixed time. A load generator in
Python took half a core of the two this was measured on, away from the server it measured. Each
request carries one of 20 CI tokens and fetches a page of 50: the first page in the default order
(blast radius), a filtered page, a page of two categories by severity, and every fourth request
the ``next`` cursor of the previous page, so the pages go deep into the list.

The server runs as docker-compose deploys it: production settings, the throttle counters in Redis
(when the environment has one, as under ``tests.support.services``), persistent database
connections, ``--workers`` sync workers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from api_common import Server, load_average, prepare_database
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


QUERIES = (
    "?page_size=50",
    "?page_size=50&status=open&min_severity=high",
    "?page_size=50&category=DB-N-PLUS-ONE,ASYNC-BLOCKING-HTTP&ordering=-severity",
)

# wrk runs this in each of its threads: tokens in turn, the query mix, every fourth request the
# previous page's ``next``; ``done`` prints the figures as one JSON line.
WRK_SCRIPT = """
local tokens = {TOKENS}
local base = "{BASE}"
local queries = {QUERIES}
local sent = 0
local following = nil
function request()
  sent = sent + 1
  local path = base .. queries[(sent % #queries) + 1]
  if sent % 4 == 0 and following then path = following end
  local token = tokens[(sent % #tokens) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
function response(status, headers, body)
  following = nil
  if status == 200 then
    local nxt = body:match('"next":"([^"]*)"')
    if nxt then following = nxt:gsub("^https?://[^/]+", "") end
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "seconds": %.3f, "p50": %.2f, "p95": %.2f, "p99": %.2f, ' ..
    '"mean": %.2f, "max": %.2f, "non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.mean / 1000,
    latency.max / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(value) for value in values) + "}"


def wrk(url: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    threads = min(connections, 2)
    command = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
        "-s", str(script), url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((row for row in output.splitlines() if row.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{output}")
    figures: dict[str, float] = json.loads(line[4:])
    if figures["non_2xx"] or figures["socket_errors"]:
        raise RuntimeError(f"failed requests under load: {figures}")
    return figures


def describe(name: str, figures: dict[str, float]) -> str:
    rate = figures["requests"] / figures["seconds"]
    return (
        f"{name}: {figures['requests']:.0f} requests in {figures['seconds']:.1f} s ({rate:.0f}/s); "
        f"p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, p99 {figures['p99']:.0f} ms, "
        f"mean {figures['mean']:.0f} ms, max {figures['max']:.0f} ms"
    )


def deployed_environment() -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "audit_platform.settings.production",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "benchmark-only-secret"),
        # Counted as always (its cost is part of the figures), never refused.
        "AUDIT_API_THROTTLE_RATE": "1000000/min",
    }
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if broker.startswith("redis://") and "CACHE_URL" not in os.environ:
        # Database 1 of the same Redis, as docker-compose.yml sets it.
        env["CACHE_URL"] = broker.rsplit("/", 1)[0] + "/1"
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30, help="of load at --clients")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk): it generates the load")

    prepare_database()
    project, tokens = seed(args.findings, args.clients)
    print(f"seeded {args.findings} findings in project {project.pk}", flush=True)
    environment = deployed_environment()
    cache = environment.get("CACHE_URL", os.environ.get("CACHE_URL", "the settings' default"))
    settings_module = environment["DJANGO_SETTINGS_MODULE"]
    print(f"server: {args.workers} gunicorn workers, {settings_module}, cache {cache}", flush=True)
    script_text = (
        WRK_SCRIPT.replace("{TOKENS}", lua_list(tokens))
        .replace("{BASE}", f"/api/v1/projects/{project.pk}/findings/")
        .replace("{QUERIES}", lua_list(list(QUERIES)))
    )
    with tempfile.TemporaryDirectory() as scratch:
        # collectstatic has not run for this checkout: an empty directory, not a warning per worker.
        environment.setdefault("DJANGO_STATIC_ROOT", scratch)
        server = Server(args.workers, extra_env=environment)
        try:
            script = Path(scratch) / "findings.lua"
            script.write_text(script_text)
            # Warm every worker: imports (the URLconf loads on a first request), connections.
            wrk(server.url, script, args.workers * 2, 3)
            alone = wrk(server.url, script, 1, 10)
            loaded = wrk(server.url, script, args.clients, args.seconds)
        finally:
            server.stop()
    print(describe("findings page, 1 client (no queueing)", alone))
    print(describe(f"findings page, {args.clients} clients", loaded))
    verdict = "meets" if loaded["p95"] <= TARGET_P95_MS else "misses"
    target = f"{TARGET_P95_MS:.0f} ms target"
    print(f"p95 {loaded['p95']:.0f} ms {verdict} the {target} ({load_average()})")


if __name__ == "__main__":
    main()
