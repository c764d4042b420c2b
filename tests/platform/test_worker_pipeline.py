"""The pipeline in a real Celery worker process (Redis broker, the test database).

These are the only tests that see the whole production path: services enqueue on commit, the
worker's prefork child runs the task, and a SIGKILLed child's task is redelivered.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from audit_platform.findings.models import EventKind, Finding, FindingEvent, FindingOccurrence
from audit_platform.projects.services import project_create
from audit_platform.scans.models import Scan, ScanStatus
from audit_platform.scans.services import scan_cancel, scan_create
from tests.platform.factories import OrganizationFactory
from tests.support.gitrepo import GitRepo
from tests.support.worker import LiveWorker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

MODULES = 60  # a scan of several seconds (Semgrep included): time to act while it runs
BLOCKING_ROUTE = """import time


async def handler_{index}():
    time.sleep(1)
    return {index}
"""


def big_repo_files(modules: int) -> dict[str, str]:
    """Enough code that the analysis takes a few seconds: time to kill the worker mid-scan."""
    filler = "".join(
        f"\n\ndef helper_{n}(value):\n    total = 0\n    for item in range(value):\n"
        f"        total += item * {n}\n    return total\n"
        for n in range(40)
    )
    return {
        f"pkg/mod_{index:04d}.py": BLOCKING_ROUTE.format(index=index) + filler
        for index in range(modules)
    }


def wait_for_analysis(scan: Scan) -> None:
    """Until the worker has started the engine on ``scan`` (past prepare, before store)."""
    wait_until(
        lambda: Scan.objects.filter(pk=scan.pk, status="running", stage="analyse").exists(),
        timeout=60,
        interval=0.05,
        what=f"scan {scan.pk} to reach the analysis",
    )


def test_scan_runs_in_the_worker(
    live_worker: LiveWorker, git_repo_factory: Callable[..., GitRepo]
) -> None:
    repo = git_repo_factory(big_repo_files(3))
    project = project_create(organization=OrganizationFactory(), name="W", git_url=str(repo.path))
    scan = scan_create(project=project)  # autocommit: enqueued at once

    finished: Scan = live_worker.wait_for_scan(scan.pk, timeout=120)
    assert (finished.status, finished.error) == (ScanStatus.SUCCEEDED, "")
    assert finished.commit_sha == repo.head_sha()
    sleeps = Finding.objects.filter(project=project, category="ASYNC-BLOCKING-SLEEP")
    assert sorted(sleeps.values_list("path", flat=True)) == [
        "pkg/mod_0000.py",
        "pkg/mod_0001.py",
        "pkg/mod_0002.py",
    ]
    assert finished.new_count == Finding.objects.filter(project=project).count()
    notified = wait_until(
        lambda: Scan.objects.filter(pk=scan.pk, notified_at__isnull=False).exists(),
        timeout=30,
        what="the notify task",
    )
    assert notified is True


def test_worker_killed_mid_scan_completes_once_after_redelivery(
    live_worker: LiveWorker, git_repo_factory: Callable[..., GitRepo]
) -> None:
    repo = git_repo_factory(big_repo_files(MODULES))
    project = project_create(organization=OrganizationFactory(), name="K", git_url=str(repo.path))
    scan = scan_create(project=project)

    victim = live_worker.wait_for_busy_pid("scans.run_scan", timeout=60)
    wait_for_analysis(scan)
    live_worker.kill_child(victim)

    finished: Scan = live_worker.wait_for_scan(scan.pk, timeout=240)
    assert (finished.status, finished.error) == (ScanStatus.SUCCEEDED, "")
    assert finished.attempts == 2, live_worker.log_tail()
    assert any("attempt 2" in entry["message"] for entry in finished.log)
    findings = Finding.objects.filter(project=project)
    total = findings.count()
    sleeps = findings.filter(category="ASYNC-BLOCKING-SLEEP")
    assert sleeps.values("path").distinct().count() == MODULES
    assert finished.new_count == finished.findings_count == total
    assert FindingOccurrence.objects.filter(scan=finished).count() == total
    created = FindingEvent.objects.filter(finding__project=project, kind=EventKind.CREATED)
    assert created.count() == total
    assert FindingEvent.objects.filter(finding__project=project).count() == total


def test_cancel_a_running_scan_in_the_worker(
    live_worker: LiveWorker, git_repo_factory: Callable[..., GitRepo]
) -> None:
    repo = git_repo_factory(big_repo_files(MODULES))
    project = project_create(organization=OrganizationFactory(), name="C", git_url=str(repo.path))
    scan = scan_create(project=project)
    wait_for_analysis(scan)
    scan_cancel(scan)

    finished: Scan = live_worker.wait_for_scan(scan.pk, timeout=240)
    assert finished.status == ScanStatus.CANCELLED, (finished.error, finished.log[-3:])
    assert finished.error == "cancelled during 'analyse'"
    assert Finding.objects.filter(project=project).count() == 0
