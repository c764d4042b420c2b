"""Every domain model has a working admin list and detail page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from audit_platform.findings.models import FindingEvent, FindingOccurrence
from audit_platform.scans.models import Artifact, EndpointLoadStat
from tests.platform.factories import FindingFactory, MembershipFactory, ScanFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_render_for_every_domain_model(client: Client) -> None:
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    membership = MembershipFactory()
    scan = ScanFactory(project__organization=membership.organization)
    finding = FindingFactory(project=scan.project, first_seen_scan=scan, last_seen_scan=scan)
    objects = [
        membership.organization,
        membership,
        scan.project,
        scan,
        Artifact.objects.create(
            scan=scan, kind="locust", original_name="s", size=1, sha256="0" * 64, stored_path="s"
        ),
        EndpointLoadStat.objects.create(scan=scan, endpoint="Aggregated"),
        finding,
        FindingOccurrence.objects.create(
            scan=scan, finding=finding, path="a.py", start_line=1, end_line=1, severity=3
        ),
        FindingEvent.objects.create(finding=finding, kind="created", scan=scan),
    ]
    for obj in objects:
        meta = obj._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = client.get(changelist, {"q": "a"})
        assert response.status_code == 200, changelist
        detail = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert client.get(detail).status_code == 200, detail
    # State goes through services: no "add" for scans and findings.
    assert client.get(reverse("admin:scans_scan_add")).status_code == 403
    assert client.get(reverse("admin:findings_finding_add")).status_code == 403
