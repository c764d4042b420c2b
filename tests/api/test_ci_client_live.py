"""``audit-ci`` against a live server: end to end with a real worker, and its error paths."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from audit_ci.cli import EXIT_ERROR, EXIT_GATE_FAILED, EXIT_PASSED, main
from audit_platform.api.services import project_token_create
from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.projects.models import SourceKind
from audit_platform.scans.models import Scan
from tests.platform.factories import OrganizationFactory, ProjectFactory, UserFactory

BLOCKING = """import time

from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
async def list_items() -> list[str]:
    time.sleep(0.5)
    return []
"""
FIXED = BLOCKING.replace("import time", "import asyncio").replace(
    "time.sleep(0.5)", "await asyncio.sleep(0.5)"
)


def run_client(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def ci_project(transactional_db: None):
    organization = OrganizationFactory(slug="acme")
    project = ProjectFactory(
        organization=organization, slug="shop", source_kind=SourceKind.UPLOADS, git_url=""
    )
    token = project_token_create(project=project, name="ci", created_by=UserFactory())[1]
    return project, token


@pytest.mark.worker
def test_gate_fails_on_a_high_finding_and_passes_after_the_fix(
    live_server, live_worker, ci_project, git_repo_factory, tmp_path: Path
) -> None:
    project, token = ci_project
    repo = git_repo_factory({"app/main.py": BLOCKING, "README.md": "shop\n"}, branch="main")
    common = ["--url", live_server.url, "--token", token, "--project", "shop"]
    common += ["--path", str(repo.path), "--poll-interval", "0.5", "--timeout", "240"]

    code, out, err = run_client(*common, "--sarif", str(tmp_path / "first.sarif"))
    assert code == EXIT_GATE_FAILED, out + err + live_worker.log_tail()
    scan = Scan.objects.get(project=project)
    assert scan.status == "succeeded" and scan.branch == "main"
    assert scan.commit_sha == repo.git("rev-parse", "HEAD")
    assert "quality gate: FAILED" in out
    assert "new finding at or above high severity" in out
    assert "ASYNC-BLOCKING-SLEEP" in out and "app/main.py:10" in out and "[new]" in out
    assert "packed 2 files" in err and f"scan {scan.pk} queued" in err
    sarif = json.loads((tmp_path / "first.sarif").read_text())
    assert any(
        r["properties"]["category"] == "ASYNC-BLOCKING-SLEEP" for r in sarif["runs"][0]["results"]
    )

    repo.commit({"app/main.py": FIXED}, "use asyncio.sleep")
    code, out, err = run_client(*common)
    assert code == EXIT_PASSED, out + err + live_worker.log_tail()
    assert "quality gate: PASSED" in out
    finding = Finding.objects.get(project=project, category="ASYNC-BLOCKING-SLEEP")
    assert finding.status == FindingStatus.FIXED


def test_client_shows_the_servers_error_and_exits_2(
    live_server, ci_project, tmp_path: Path
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    base = ["--url", live_server.url, "--path", str(tmp_path)]
    code, _, err = run_client(*base, "--token", "apt_" + "x" * 43, "--project", "shop")
    assert code == EXIT_ERROR
    assert "audit-ci: server error: HTTP 401: Invalid or revoked token." in err
    code, _, err = run_client(*base, "--token", ci_project[1], "--project", "nope")
    assert code == EXIT_ERROR
    assert "HTTP 404: No such project." in err
    assert not Scan.objects.exists()


def test_client_usage_errors_exit_2(tmp_path: Path, monkeypatch) -> None:
    for name in ("AUDIT_URL", "AUDIT_TOKEN", "AUDIT_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run_client("--path", str(tmp_path))
    assert code == EXIT_ERROR
    assert (
        "missing --url (or AUDIT_URL), --token (or AUDIT_TOKEN), --project (or AUDIT_PROJECT)"
        in err
    )
    monkeypatch.setenv("AUDIT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AUDIT_TOKEN", "t")
    monkeypatch.setenv("AUDIT_PROJECT", "p")
    code, _, err = run_client("--artifact", "locust=missing.csv")
    assert code == EXIT_ERROR and "artifact locust=missing.csv: no such file" in err
    with pytest.raises(SystemExit):
        run_client("--artifact", "flame=x.svg")
