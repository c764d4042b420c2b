"""The scan pipeline run in-process on real git repositories and archives, with the real engine."""

from __future__ import annotations

import datetime
import io
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from pytest_django import Settings

from audit_platform.findings.models import EventKind, Finding, FindingEvent, FindingStatus
from audit_platform.findings.services import finding_set_status
from audit_platform.projects.models import Project, SourceKind
from audit_platform.projects.services import project_create, project_update
from audit_platform.scans.models import Scan, ScanStage, ScanStatus
from audit_platform.scans.pipeline import WORKDIR_PREFIX, _Progress, scan_run
from audit_platform.scans.services import scan_cancel, scan_create, scan_create_from_archive
from audit_platform.scans.sources import TransientSourceError
from tests.platform.conftest import BLOCKING_APP
from tests.platform.factories import OrganizationFactory
from tests.support.gitrepo import GitRepo

pytestmark = pytest.mark.django_db
ProjectMaker = Callable[..., tuple[Project, GitRepo]]

TWO_SLEEPS = """import time


async def first():
    time.sleep(1)


async def second():
    time.sleep(2)
"""


def run(project: Project, ref: str = "", branch: str = "") -> Scan:
    scan = scan_create(project=project, ref=ref, branch=branch)
    assert scan_run(scan.pk) in ("succeeded", "failed", "cancelled")
    scan.refresh_from_db()
    return scan


def sleep_findings(project: Project) -> list[Finding]:
    return list(
        Finding.objects.filter(project=project, category="ASYNC-BLOCKING-SLEEP").order_by(
            "start_line"
        )
    )


def events(finding: Finding) -> list[tuple[str, int | None]]:
    return [(e.kind, e.scan.number if e.scan else None) for e in finding.events.all()]


def test_git_scan_succeeds_and_stores_findings(git_project: ProjectMaker) -> None:
    project, repo = git_project({"app.py": TWO_SLEEPS})
    scan = run(project)
    assert (scan.status, scan.stage, scan.progress, scan.error) == ("succeeded", "done", 100.0, "")
    assert (scan.commit_sha, scan.commit_message) == (repo.head_sha(), "initial commit")
    assert scan.attempts == 1
    assert set(scan.stage_timings) == {"prepare", "analyse", "store"}
    assert scan.scanner_versions["engine"]
    assert scan.started_at is not None and scan.finished_at is not None
    assert scan.log[0]["message"].startswith("fetched main of ")

    found = sleep_findings(project)
    assert [(f.path, f.start_line, f.enclosing, f.severity_label) for f in found] == [
        ("app.py", 5, "first", "high"),
        ("app.py", 9, "second", "high"),
    ]
    assert all(f.first_seen_scan_id == scan.pk == f.last_seen_scan_id for f in found)
    assert all(events(f) == [("created", 1)] for f in found)
    assert scan.new_count == scan.findings_count == Finding.objects.filter(project=project).count()
    assert (scan.open_count, scan.fixed_count, scan.reopened_count) == (0, 0, 0)
    assert scan.occurrences.count() == scan.findings_count
    assert scan.trend["seen_by_category"]["ASYNC-BLOCKING-SLEEP"] == 2
    assert scan.trend["project_by_status"] == {"open": scan.findings_count}


def test_new_findings_get_due_dates_from_the_sla(git_project: ProjectMaker) -> None:
    project, _ = git_project({"app.py": TWO_SLEEPS})
    project_update(project, sla_days={"high": 3})
    run(project)
    today = timezone.localdate()
    assert {f.due_date for f in sleep_findings(project)} == {today + datetime.timedelta(days=3)}
    low = Finding.objects.filter(project=project, severity=1).first()
    if low is not None:  # the engine's low-severity checks use the default (180 days)
        assert low.due_date == today + datetime.timedelta(days=180)


def test_fingerprint_survives_inserted_lines_and_renamed_unrelated_function(
    git_project: ProjectMaker,
) -> None:
    project, repo = git_project({"app.py": BLOCKING_APP})
    first = run(project)
    (before,) = sleep_findings(project)
    assert before.start_line == 5

    shifted = '"""Service module."""\n\n# a comment\nimport os\n\n' + BLOCKING_APP.replace(
        "def helper():", "def renamed_helper():"
    )
    repo.commit({"app.py": shifted}, "docs, import, rename helper")
    second = run(project)
    (after,) = sleep_findings(project)
    assert after.pk == before.pk
    assert after.fingerprint == before.fingerprint
    assert (after.start_line, after.status, after.last_seen_scan_id) == (10, "open", second.pk)
    assert events(after) == [("created", first.number)]
    occurrences = after.occurrences.order_by("scan_id")
    assert list(occurrences.values_list("start_line", flat=True)) == [5, 10]
    assert second.fixed_count == 0


def test_missing_finding_is_fixed_and_reappearing_one_reopened(git_project: ProjectMaker) -> None:
    project, repo = git_project({"app.py": TWO_SLEEPS})
    run(project)
    kept, removed = sleep_findings(project)

    repo.commit({"app.py": TWO_SLEEPS.replace("time.sleep(2)", "pass")}, "fix second")
    scan2 = run(project)
    removed.refresh_from_db()
    kept.refresh_from_db()
    assert (removed.status, removed.fixed_in_scan_id) == ("fixed", scan2.pk)
    assert removed.fixed_at is not None
    assert kept.status == "open"
    assert events(removed) == [("created", 1), ("fixed_by_scan", 2)]
    assert scan2.fixed_count >= 1 and scan2.new_count >= 0

    repo.commit({"app.py": TWO_SLEEPS}, "regression")
    scan3 = run(project)
    removed.refresh_from_db()
    assert (removed.status, removed.fixed_in_scan_id, removed.fixed_at) == ("open", None, None)
    assert events(removed) == [("created", 1), ("fixed_by_scan", 2), ("reopened_by_scan", 3)]
    reopened = FindingEvent.objects.filter(scan=scan3, kind=EventKind.REOPENED_BY_SCAN)
    assert removed.pk in set(reopened.values_list("finding_id", flat=True))
    assert scan3.reopened_count == reopened.count()
    assert Finding.objects.filter(project=project, category="ASYNC-BLOCKING-SLEEP").count() == 2


def test_triage_decisions_persist_across_scans(git_project: ProjectMaker) -> None:
    project, repo = git_project({"app.py": TWO_SLEEPS})
    run(project)
    false_positive, accepted = sleep_findings(project)
    finding_set_status(false_positive, status=FindingStatus.FALSE_POSITIVE, actor=None)
    finding_set_status(accepted, status=FindingStatus.ACCEPTED_RISK, actor=None)

    repo.commit({"app.py": "async def nothing():\n    return 1\n"}, "remove both")
    run(project)
    repo.commit({"app.py": TWO_SLEEPS}, "bring both back")
    scan3 = run(project)

    false_positive.refresh_from_db()
    accepted.refresh_from_db()
    assert (false_positive.status, accepted.status) == ("false_positive", "accepted_risk")
    assert events(false_positive) == [("created", 1), ("status_changed", None)]
    reopened = FindingEvent.objects.filter(scan=scan3, kind=EventKind.REOPENED_BY_SCAN)
    assert not reopened.filter(finding__in=[false_positive, accepted]).exists()
    assert scan3.occurrences.filter(finding__in=[false_positive, accepted]).count() == 2


def test_finding_marked_fixed_by_hand_is_reopened_when_still_seen(
    git_project: ProjectMaker,
) -> None:
    project, _ = git_project({"app.py": BLOCKING_APP})
    run(project)
    (finding,) = sleep_findings(project)
    finding_set_status(finding, status=FindingStatus.FIXED, actor=None)
    scan2 = run(project)
    finding.refresh_from_db()
    assert finding.status == "open"
    kinds = [kind for kind, _ in events(finding)]
    assert kinds == ["created", "status_changed", "reopened_by_scan"]
    assert scan2.reopened_count == 1


def test_scans_of_another_branch_do_not_fix_main_findings(git_project: ProjectMaker) -> None:
    project, repo = git_project({"app.py": TWO_SLEEPS})
    run(project)
    repo.create_branch("feature")
    repo.commit({"app.py": "async def nothing():\n    return 1\n"}, "feature removes both")
    feature_first = run(project, ref="feature")
    assert feature_first.fixed_count == 0  # no earlier scan of 'feature' to compare with
    assert {f.status for f in sleep_findings(project)} == {"open"}

    repo.checkout("main")
    main_again = run(project)
    assert main_again.fixed_count == 0
    assert main_again.open_count == main_again.findings_count


def _tarball(files: dict[str, str], top: str = "service-main") -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def test_archive_scan_matches_the_git_scan_fingerprints(
    git_project: ProjectMaker, settings: Settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    project, _ = git_project({"app.py": TWO_SLEEPS})
    run(project)
    git_fingerprints = {f.fingerprint for f in Finding.objects.filter(project=project)}

    scan = scan_create_from_archive(
        project=project, archive=_tarball({"app.py": TWO_SLEEPS}), archive_name="src.tgz"
    )
    stored = settings.MEDIA_ROOT / scan.archive_path
    assert stored.is_file() and stored.stat().st_size == scan.archive_size
    assert len(scan.archive_sha256) == 64
    scan_run(scan.pk)
    scan.refresh_from_db()
    assert scan.status == "succeeded"
    assert {o.finding.fingerprint for o in scan.occurrences.select_related("finding")} == (
        git_fingerprints
    )
    assert scan.new_count == 0 and scan.open_count == len(git_fingerprints)
    assert scan.log[0]["message"] == f"extracted 1 files ({len(TWO_SLEEPS)} bytes)"


def test_unsafe_archive_fails_the_scan_with_the_reason(
    settings: Settings, tmp_path: Path, db: None
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    project = project_create(
        organization=OrganizationFactory(), name="Uploads", source_kind=SourceKind.UPLOADS
    )
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tar:
        info = tarfile.TarInfo("../../outside.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    evil.seek(0)
    scan = scan_create_from_archive(project=project, archive=evil, archive_name="evil.tgz")
    assert scan_run(scan.pk) == "failed"
    scan.refresh_from_db()
    assert scan.error == (
        "unsafe archive: member '../../outside.py' points outside the archive ('..')"
    )
    assert scan.log[-1] == {"level": "error", "stage": "prepare", "message": scan.error, "path": ""}
    assert not list(Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}{scan.pk}-*"))
    assert not (tmp_path / "outside.py").exists()


def test_missing_ref_and_disallowed_source_fail_with_the_reason(
    git_project: ProjectMaker, settings: Settings
) -> None:
    project, _ = git_project()
    missing = run(project, ref="no-such-branch")
    assert missing.status == "failed"
    assert "couldn't find remote ref no-such-branch" in missing.error
    assert missing.finished_at is not None
    assert not list(Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}{missing.pk}-*"))

    settings.AUDIT_ALLOW_LOCAL_GIT_SOURCES = False  # switched off after the project was added
    refused = run(project)
    assert refused.status == "failed"
    assert "local repositories are disabled" in refused.error
    assert Finding.objects.filter(project=project).count() == 0


def test_cancel_a_queued_scan_at_once_and_a_running_one_at_a_boundary(
    git_project: ProjectMaker,
) -> None:
    project, _ = git_project()
    queued = scan_create(project=project)
    cancelled = scan_cancel(queued)
    assert (cancelled.status, cancelled.error) == ("cancelled", "cancelled before it started")
    assert scan_run(queued.pk) == "skipped"

    running = scan_create(project=project)
    Scan.objects.filter(pk=running.pk).update(
        status=ScanStatus.RUNNING, attempts=1, stage="analyse"
    )
    scan_cancel(running)
    running.refresh_from_db()
    assert (running.status, running.cancel_requested) == ("running", True)
    assert scan_run(running.pk) == "skipped"
    running.refresh_from_db()
    assert (running.status, running.error) == ("cancelled", "cancelled during 'analyse'")
    assert Finding.objects.filter(project=project).count() == 0
    assert FindingEvent.objects.filter(finding__project=project).count() == 0


def test_scan_numbers_count_per_project(git_project: ProjectMaker) -> None:
    project_a, _ = git_project()
    project_b, _ = git_project()
    numbers = [scan_create(project=p).number for p in (project_a, project_a, project_b)]
    assert numbers == [1, 2, 1]
    assert Scan.objects.get(project=project_b).stage == ScanStage.QUEUED
    assert EventKind.CREATED == "created"


def test_network_failure_is_retried_then_fails_with_the_reason(db: None) -> None:
    # Nothing listens on port 1 of the loopback: a connection failure without any network.
    project = project_create(
        organization=OrganizationFactory(), name="Remote", git_url="https://127.0.0.1:1/acme/r.git"
    )
    scan = scan_create(project=project)
    with pytest.raises(TransientSourceError, match="Couldn't connect to server"):
        scan_run(scan.pk, final_attempt=False)
    scan.refresh_from_db()
    assert scan.status == "running"
    assert scan.log[-1]["message"].startswith(
        "will retry: fetching 'main' from https://127.0.0.1:1"
    )

    assert scan_run(scan.pk, final_attempt=True) == "failed"
    scan.refresh_from_db()
    assert scan.attempts == 2
    assert "Failed to connect to 127.0.0.1 port 1" in scan.error


def test_engine_progress_is_written_at_most_once_a_second(
    git_project: ProjectMaker, django_assert_num_queries: Callable[..., object]
) -> None:
    project, _ = git_project()
    scan = scan_create(project=project)
    progress = _Progress(scan.pk)
    with django_assert_num_queries(1):  # type: ignore[operator]
        progress.engine("parse", 50.0)
        progress.engine("parse", 60.0)  # within the second: not written
        progress.engine("detectors", 90.0)
    scan.refresh_from_db()
    assert scan.progress == 42.5  # 50% of the analysis share (10..75)
