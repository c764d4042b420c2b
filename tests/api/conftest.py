"""Fixtures of the API tests: two organizations with people, projects, tokens and stored scans."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from audit_platform.accounts.models import Organization, Role
from audit_platform.api.services import personal_token_create, project_token_create
from audit_platform.findings.services import findings_store_scan
from audit_platform.projects.models import Project
from audit_platform.scans.models import Scan, ScanStage, ScanStatus
from scanners.catalog import Severity
from scanners.findings import Finding as EngineFinding
from tests.platform.factories import (
    MembershipFactory,
    OrganizationFactory,
    ProjectFactory,
    UserFactory,
)


@dataclass
class World:
    """``acme`` (alice owner, mike member, vera viewer) with project ``shop``; ``globex`` (bob
    owner) with project ``shop`` too (same slug, other tenant). Tokens in plaintext by name."""

    acme: Organization
    globex: Organization
    alice: User
    mike: User
    vera: User
    bob: User
    shop: Project
    rival: Project
    tokens: dict[str, str] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def _media_in_tmp(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> None:
    if "live_worker" not in request.fixturenames:  # the worker process reads the real setting
        settings.MEDIA_ROOT = str(tmp_path / "media")
    # Throttles are tested on their own; here they would only make tests order-dependent.
    settings.AUDIT_API_THROTTLE_RATE = None
    settings.AUDIT_API_UPLOAD_THROTTLE_RATE = None


@pytest.fixture
def world(db: None) -> World:
    acme = OrganizationFactory(name="Acme", slug="acme")
    globex = OrganizationFactory(name="Globex", slug="globex")
    alice, mike, vera, bob = (
        UserFactory(username=name) for name in ("alice", "mike", "vera", "bob")
    )
    MembershipFactory(organization=acme, user=alice, role=Role.OWNER)
    MembershipFactory(organization=acme, user=mike, role=Role.MEMBER)
    MembershipFactory(organization=acme, user=vera, role=Role.VIEWER)
    MembershipFactory(organization=globex, user=bob, role=Role.OWNER)
    shop = ProjectFactory(organization=acme, name="Shop", slug="shop")
    rival = ProjectFactory(organization=globex, name="Shop", slug="shop")
    result = World(acme, globex, alice, mike, vera, bob, shop, rival)
    result.tokens["shop_ci"] = project_token_create(project=shop, name="ci", created_by=alice)[1]
    result.tokens["shop_read"] = project_token_create(
        project=shop, name="dashboards", created_by=alice, scopes=["read"]
    )[1]
    result.tokens["rival_ci"] = project_token_create(project=rival, name="ci", created_by=bob)[1]
    for user in (alice, mike, vera, bob):
        result.tokens[user.username] = personal_token_create(user=user, name="laptop")[1]
    result.tokens["alice_read"] = personal_token_create(user=alice, name="ro", scopes=["read"])[1]
    return result


@pytest.fixture
def client_for(world: World) -> Callable[[str], APIClient]:
    """An API client authenticated with the named token of ``world.tokens``."""

    def make(name: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.tokens[name]}")
        return client

    return make


def engine_finding(
    path: str = "app/routes.py",
    line: int = 10,
    *,
    category: str = "ASYNC-BLOCKING-SLEEP",
    severity: Severity = Severity.HIGH,
    blast_radius: float = 50.0,
    enclosing: str = "handler",
    evidence: bool = False,
) -> EngineFinding:
    finding = EngineFinding(
        rule_id=category.lower(),
        category=category,
        severity=severity,
        title=f"{category} in {enclosing}",
        message=f"{category} at {path}:{line}",
        path=path,
        start_line=line,
        enclosing=enclosing,
        snippet="time.sleep(1)",
        remediation="Use await asyncio.sleep(...).",
        blast_radius=blast_radius,
        reach=("GET /items",),
    )
    finding.fingerprint = hashlib.sha256(
        f"{category}|{path}|{enclosing}|{line}".encode()
    ).hexdigest()
    if evidence:
        from scanners.findings import RuntimeEvidence  # noqa: PLC0415

        finding.evidence.append(RuntimeEvidence(kind="pyspy", summary="12% of loop samples"))
    return finding


def store_scan(
    project: Project,
    findings: Sequence[EngineFinding],
    *,
    branch: str = "main",
    status: str = ScanStatus.SUCCEEDED,
) -> Scan:
    """A finished scan of ``project`` that saw ``findings``, stored by the domain's service."""
    number = (Scan.objects.filter(project=project).count() or 0) + 1
    scan = Scan.objects.create(
        project=project,
        number=number,
        source_kind="git",
        branch=branch,
        status=ScanStatus.RUNNING,
        stage=ScanStage.STORE,
    )
    with transaction.atomic():
        outcome = findings_store_scan(scan, findings)
    scan.status = status
    scan.stage = ScanStage.DONE
    scan.progress = 100.0
    scan.finished_at = timezone.now()
    scan.new_count, scan.open_count = outcome.new, outcome.still_open
    scan.fixed_count, scan.reopened_count = outcome.fixed, outcome.reopened
    scan.findings_count = outcome.seen
    scan.save()
    return scan
