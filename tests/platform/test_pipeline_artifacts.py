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

pytestmark = pytest.mark.django_db
ProjectMaker = Callable[..., tuple[Project, GitRepo]]

SERVICE = """\
import time

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api")


@router.get("/hot/{item_id}")
async def hot(item_id: int) -> dict[str, int]:
    time.sleep(0.05)
    return {"id": item_id}


@router.get("/cold")
async def cold() -> dict[str, int]:
    time.sleep(0.05)
    return {"id": 0}


app = FastAPI()
app.include_router(router)
"""
LOCUST_STATS = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
    "GET,/api/hot/[id],950,0,60,61,50,900,2,95.0,0.0,60,60,61,62,70,800,850,880,900,900,900\n"
    "GET,/api/cold,50,0,55,56,50,70,2,5.0,0.0,55,55,56,57,60,65,68,69,70,70,70\n"
    ",Aggregated,1000,0,60,61,50,900,2,100.0,0.0,60,60,61,62,70,80,85,88,90,90,90\n"
)
LOOP = (
    "thread (7): MainThread;run (asyncio/runners.py:190);"
    "BaseEventLoop.run_forever (asyncio/base_events.py:607);"
    "BaseEventLoop._run_once (asyncio/base_events.py:1922);Handle._run (asyncio/events.py:80)"
)
PROFILE = (
    f"{LOOP};hot (/deploy/svc/main.py:10) 800\n"
    f"{LOOP};cold (/deploy/svc/main.py:16) 20\n"
    f"{LOOP[: LOOP.rindex(';')]};EpollSelector.select (selectors.py:468) 180\n"
)


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
        {"run_stats.csv": ("locust", LOCUST_STATS), "profile.txt": ("pyspy", PROFILE)},
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
            "run_stats.csv": ("locust", LOCUST_STATS),
        },
    )
    artifacts = {a.original_name: a for a in Artifact.objects.filter(scan=scan)}
    assert artifacts["garbage.json"].parse_status == "failed"
    assert artifacts["garbage.json"].parse_error
    assert artifacts["run_stats.csv"].parse_status == "parsed"
    assert any(entry["path"] == "garbage.json" and entry["level"] == "error" for entry in scan.log)
    assert Finding.objects.filter(project=project, category="ASYNC-BLOCKING-SLEEP").count() == 2
