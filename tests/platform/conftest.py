"""Fixtures of the domain tests: people in two organizations, and projects on real git repos."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from pytest_django import Settings

from audit_platform.accounts.models import Organization, Role
from audit_platform.projects.models import Project
from audit_platform.projects.services import project_create
from tests.platform.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.support.gitrepo import GitRepo

BLOCKING_APP = """import time


async def handler():
    time.sleep(1)


def helper():
    return 1
"""


@pytest.fixture(autouse=True)
def _without_semgrep(settings: Settings) -> None:
    """In-process pipeline tests check the pipeline, not Semgrep (the engine's tests run it):
    skipping it takes ~15 s off every scan. The live-worker tests keep it on."""
    settings.AUDIT_SEMGREP_ENABLED = False


@dataclass
class Tenants:
    """Two organizations; ``alice`` owns ``acme``, ``bob`` owns ``globex``; ``vera`` views acme."""

    acme: Organization
    globex: Organization
    alice: User
    bob: User
    vera: User


@pytest.fixture
def tenants(db: None) -> Tenants:
    acme, globex = (
        OrganizationFactory(name="Acme", slug="acme"),
        OrganizationFactory(name="Globex", slug="globex"),
    )
    alice, bob, vera = (
        UserFactory(username="alice"),
        UserFactory(username="bob"),
        UserFactory(username="vera"),
    )
    MembershipFactory(organization=acme, user=alice, role=Role.OWNER)
    MembershipFactory(organization=globex, user=bob, role=Role.OWNER)
    MembershipFactory(organization=acme, user=vera, role=Role.VIEWER)
    return Tenants(acme=acme, globex=globex, alice=alice, bob=bob, vera=vera)


@pytest.fixture
def git_project(
    git_repo_factory: Callable[..., GitRepo], db: None
) -> Callable[..., tuple[Project, GitRepo]]:
    """A project whose source is a fresh local git repository holding ``files``."""

    def make(
        files: dict[str, str] | None = None, *, organization: Organization | None = None
    ) -> tuple[Project, GitRepo]:
        repo = git_repo_factory(files or {"app.py": BLOCKING_APP})
        project = project_create(
            organization=organization or OrganizationFactory(),
            name=f"Service {repo.path.name}",
            git_url=str(repo.path),
        )
        return project, repo

    return make
