"""Every task run twice, or redelivered after an interrupted attempt, does its work once."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

import pytest
from django.utils import timezone

from audit_platform.findings.models import Finding, FindingEvent, FindingOccurrence
from audit_platform.projects.models import Project
from audit_platform.projects.services import project_update, projects_dispatch_scheduled_scans
from audit_platform.projects.tasks import dispatch_scheduled_scans
from audit_platform.scans.hooks import (
    register_scan_finished_hook,
    scan_finished_hooks,
    unregister_scan_finished_hook,
)
from audit_platform.scans.models import Scan, ScanStatus, ScanTrigger
from audit_platform.scans.services import scan_create
from audit_platform.scans.tasks import notify_scan_finished, run_scan
from tests.support.gitrepo import GitRepo

pytestmark = pytest.mark.django_db
ProjectMaker = Callable[..., tuple[Project, GitRepo]]


def totals(project: Project) -> tuple[int, int, int]:
    return (
        Finding.objects.filter(project=project).count(),
        FindingOccurrence.objects.filter(finding__project=project).count(),
        FindingEvent.objects.filter(finding__project=project).count(),
    )


def test_run_scan_twice_stores_once(git_project: ProjectMaker) -> None:
    project, _ = git_project()
    scan = scan_create(project=project)
    assert run_scan.apply(args=[scan.pk]).get() == "succeeded"
    once = totals(project)
    assert once[0] >= 1 and once == (once[0], once[0], once[0])
    assert run_scan.apply(args=[scan.pk]).get() == "skipped"
    scan.refresh_from_db()
    assert totals(project) == once
    assert (scan.attempts, scan.completed_steps) == (1, ["store"])


def test_redelivered_scan_after_a_lost_worker_completes_once(git_project: ProjectMaker) -> None:
    project, _ = git_project()
    scan = scan_create(project=project)
    # What a worker killed during the analysis leaves behind: running, one attempt, no results.
    Scan.objects.filter(pk=scan.pk).update(
        status=ScanStatus.RUNNING, attempts=1, stage="analyse", started_at=timezone.now()
    )
    assert run_scan.apply(args=[scan.pk]).get() == "succeeded"
    scan.refresh_from_db()
    assert scan.attempts == 2
    assert "attempt 2: the previous attempt stopped during 'analyse'" in scan.log[0]["message"]
    findings, occurrences, events = totals(project)
    assert findings == occurrences == events == scan.new_count


def test_notify_runs_the_hooks_once(git_project: ProjectMaker) -> None:
    calls: list[int] = []

    @register_scan_finished_hook("test-recorder")
    def record(scan: Scan) -> None:
        calls.append(scan.pk)

    @register_scan_finished_hook("test-broken")
    def broken(scan: Scan) -> None:
        raise RuntimeError("mail server down")

    try:
        project, _ = git_project()
        scan = scan_create(project=project)
        run_scan.apply(args=[scan.pk])
        registered = len(scan_finished_hooks())  # ours and any other app's
        assert notify_scan_finished.apply(args=[scan.pk]).get() == registered >= 2
        assert notify_scan_finished.apply(args=[scan.pk]).get() == 0
        assert calls == [scan.pk]
        scan.refresh_from_db()
        assert scan.notified_at is not None
        assert {
            "level": "error",
            "stage": "notify",
            "message": "hook test-broken failed: RuntimeError: mail server down",
            "path": "",
        } in scan.log
    finally:
        unregister_scan_finished_hook("test-recorder")
        unregister_scan_finished_hook("test-broken")


def test_notify_skips_scans_that_are_not_final(git_project: ProjectMaker) -> None:
    project, _ = git_project()
    scan = scan_create(project=project)
    assert notify_scan_finished.apply(args=[scan.pk]).get() == 0
    scan.refresh_from_db()
    assert scan.notified_at is None


@pytest.fixture
def scheduled(git_project: ProjectMaker) -> Iterator[Project]:
    project, _ = git_project()
    project_update(project, scan_schedule="daily")
    Project.objects.filter(pk=project.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    yield project


def test_dispatch_scheduled_scans_twice_queues_one_scan(scheduled: Project) -> None:
    first = dispatch_scheduled_scans.apply().get()
    second = dispatch_scheduled_scans.apply().get()
    scans = list(Scan.objects.filter(project=scheduled))
    assert [s.pk for s in scans] == first and second == []
    assert (scans[0].trigger, scans[0].status, scans[0].ref) == (
        ScanTrigger.SCHEDULE,
        ScanStatus.QUEUED,
        "main",
    )


def test_dispatch_waits_for_the_next_cron_time(scheduled: Project) -> None:
    project_update(scheduled, scan_schedule="0 3 * * *")
    last = timezone.now().replace(hour=3, minute=0, second=0, microsecond=0)
    Project.objects.filter(pk=scheduled.pk).update(last_scheduled_at=last)
    assert projects_dispatch_scheduled_scans(now=last + datetime.timedelta(hours=23)) == []
    queued = projects_dispatch_scheduled_scans(now=last + datetime.timedelta(days=1, minutes=1))
    assert len(queued) == 1
