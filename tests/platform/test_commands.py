"""Management commands used by ./dev up and by hand."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from audit_platform.accounts.models import Membership
from audit_platform.projects.models import Project
from audit_platform.scans.models import Scan
from tests.support.gitrepo import GitRepo

pytestmark = pytest.mark.django_db


def command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_org_user_is_repeatable_and_prints_credentials() -> None:
    first = command("create_org_user", "--org", "Demo Org", "--username", "demo")
    assert "created organization Demo Org (demo-org)" in first
    password = first.split("password: ")[1].strip()
    user = get_user_model().objects.get(username="demo")
    assert user.check_password(password)

    again = command(
        "create_org_user", "--org", "Demo Org", "--username", "demo", "--password", "pw-123456"
    )
    assert "created" not in again and "password: pw-123456" in again
    user.refresh_from_db()
    assert user.check_password("pw-123456")
    assert list(Membership.objects.values_list("organization__slug", "user__username", "role")) == [
        ("demo-org", "demo", "owner")
    ]


def test_add_project_creates_then_updates(git_repo_factory: Callable[..., GitRepo]) -> None:
    repo = git_repo_factory({"app.py": "x = 1\n"})
    command("create_org_user", "--org", "Demo", "--username", "demo", "--password", "x")
    source = str(repo.path)
    created = command("add_project", "--org", "demo", "--name", "Sample", "--git-url", source)
    assert created.startswith("created project demo/sample")
    updated = command(
        "add_project", "--org", "demo", "--name", "Sample", "--git-url", str(repo.path),
        "--schedule", "daily", "--exclude", "tests/**", "--sla-days", '{"high": 10}',
    )  # fmt: skip
    assert updated.startswith("updated project demo/sample")
    project = Project.objects.get(slug="sample")
    assert (project.scan_schedule, project.exclude_globs, project.sla_days["high"]) == (
        "daily",
        ["tests/**"],
        10,
    )
    with pytest.raises(CommandError, match="refused git URL"):
        command("add_project", "--org", "demo", "--name", "Evil", "--git-url", "ext::sh")
    with pytest.raises(CommandError, match="no organization with slug 'nope'"):
        command("add_project", "--org", "nope", "--name", "X", "--uploads")


def test_run_scan_enqueues_or_runs_inline(
    git_repo_factory: Callable[..., GitRepo],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    repo = git_repo_factory({"app.py": "import time\n\n\nasync def h():\n    time.sleep(1)\n"})
    command("create_org_user", "--org", "Demo", "--username", "demo", "--password", "x")
    command("add_project", "--org", "demo", "--name", "Sample", "--git-url", str(repo.path))

    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[attr-defined]
        queued = command("run_scan", "--project", "demo/sample")
    assert queued == f"scan 1 of demo/sample (id {Scan.objects.get(number=1).pk}) queued\n"
    assert len(callbacks) == 1  # run_scan.delay, sent once the row is committed
    assert Scan.objects.get(number=1).status == "queued"

    inline = command("run_scan", "--project", "demo/sample", "--inline")
    scan = Scan.objects.get(number=2)
    assert scan.status == "succeeded"
    assert f"scan 2: succeeded at {repo.head_sha()[:12]}" in inline
    assert f"findings seen {scan.findings_count}: new {scan.findings_count}" in inline

    with pytest.raises(CommandError, match="no project 'demo/missing'"):
        command("run_scan", "--project", "demo/missing")
    with pytest.raises(CommandError, match="KIND=PATH"):
        command("run_scan", "--project", "demo/sample", "--artifact", "exe=/bin/ls")
