"""A scan with uploaded runtime artifacts, through the real pipeline and engine."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from audit_platform.findings.models import Finding
from audit_platform.projects.models import Project
from audit_platform.scans.models import Artifact, Scan
from audit_platform.scans.pipeline import scan_run
from audit_platform.scans.services import artifact_add, scan_create, scan_enqueue
from tests.support.gitrepo import GitRepo
from tests.support.runtime_service import PROFILE, SERVICE, locust_stats

pytestmark = pytest.mark.django_db
ProjectMaker = Callable[..., tuple[Project, GitRepo]]


def _scan_with(project: Project, files: dict[str, tuple[str, str]]) -> Scan:
    scan = scan_create(project=project, enqueue=False)
    for name, (kind, text) in files.items():
        artifact_add(scan=scan, stream=io.BytesIO(text.encode()), original_name=name, kind=kind)
    scan_enqueue(scan)
    assert scan_run(scan.pk) == "succeeded"
    scan.refresh_from_db()
    return scan


def test_artifacts_are_parsed_stored_and_rank_the_findings(git_project: ProjectMaker) -> None:
    project, _ = git_project({"svc/__init__.py": "", "svc/main.py": SERVICE})
    scan = _scan_with(
        project,
        {
            "run_stats.csv": ("locust", locust_stats(hot_p95_ms=800)),
            "profile.txt": ("pyspy", PROFILE),
        },
    )
    artifacts = {a.original_name: a for a in Artifact.objects.filter(scan=scan)}
    assert {n: (a.parse_status, a.parse_error) for n, a in artifacts.items()} == {
        "run_stats.csv": ("parsed", ""),
        "profile.txt": ("parsed", ""),
    }
    stats = {(s.method, s.endpoint): s for s in scan.endpoint_stats.all()}
    hot_stats = next(s for (m, e), s in stats.items() if m == "GET" and "hot" in e)
    assert (hot_stats.requests, hot_stats.p95_ms, hot_stats.rps) == (950, 800.0, 95.0)

    sleeps = list(
        Finding.objects.filter(project=project, category="ASYNC-BLOCKING-SLEEP").order_by(
            "-blast_radius"
        )
    )
    assert [f.enclosing for f in sleeps] == ["hot", "cold"]
    assert sleeps[0].blast_radius > sleeps[1].blast_radius
    assert all(f.confirmed_at_runtime for f in sleeps)
    assert "95% of traffic" in sleeps[0].blast_explanation
    categories = set(Finding.objects.filter(project=project).values_list("category", flat=True))
    assert {"RUNTIME-BLOCKING-STACK", "RUNTIME-SLOW-ENDPOINT"} <= categories


def test_a_malformed_artifact_fails_alone_and_the_scan_succeeds(git_project: ProjectMaker) -> None:
    project, _ = git_project({"svc/__init__.py": "", "svc/main.py": SERVICE})
    scan = _scan_with(
        project,
        {
            "garbage.json": ("pyspy", '{"not": "a profile"'),
            "run_stats.csv": ("locust", locust_stats(hot_p95_ms=800)),
        },
    )
    artifacts = {a.original_name: a for a in Artifact.objects.filter(scan=scan)}
    assert artifacts["garbage.json"].parse_status == "failed"
    assert artifacts["garbage.json"].parse_error
    assert artifacts["run_stats.csv"].parse_status == "parsed"
    assert any(entry["path"] == "garbage.json" and entry["level"] == "error" for entry in scan.log)
    assert Finding.objects.filter(project=project, category="ASYNC-BLOCKING-SLEEP").count() == 2
