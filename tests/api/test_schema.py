"""The OpenAPI schema, its readers, and Schemathesis against it (bounded examples)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from audit_platform.findings.models import Finding
from audit_platform.scans.models import Scan
from tests.api.conftest import World, engine_finding, store_scan


def test_schema_describes_every_endpoint() -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Audit platform API"
    assert set(schema["paths"]) == {
        "/api/v1/projects/",
        "/api/v1/projects/{project}/",
        "/api/v1/projects/{project}/tokens/",
        "/api/v1/projects/{project}/tokens/{token_id}/",
        "/api/v1/projects/{project}/scans/",
        "/api/v1/projects/{project}/scans/{scan_id}/",
        "/api/v1/projects/{project}/scans/{scan_id}/start/",
        "/api/v1/projects/{project}/scans/{scan_id}/cancel/",
        "/api/v1/projects/{project}/scans/{scan_id}/artifacts/",
        "/api/v1/projects/{project}/scans/{scan_id}/gate/",
        "/api/v1/projects/{project}/scans/{scan_id}/sarif/",
        "/api/v1/projects/{project}/findings/",
        "/api/v1/projects/{project}/findings/bulk/",
        "/api/v1/projects/{project}/findings/{finding_id}/",
        "/api/v1/projects/{project}/findings/{finding_id}/events/",
        "/api/v1/projects/{project}/trends/",
        "/api/v1/me/tokens/",
        "/api/v1/me/tokens/{token_id}/",
    }
    assert schema["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"
    upload = schema["paths"]["/api/v1/projects/{project}/scans/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    filters = {
        p["name"]
        for p in schema["paths"]["/api/v1/projects/{project}/findings/"]["get"]["parameters"]
    }
    assert {
        "status",
        "category",
        "severity",
        "path",
        "assignee",
        "new_in_scan",
        "cursor",
    } <= filters


@pytest.mark.parametrize(
    ("url", "asset"),
    [
        ("/api/v1/docs/", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
        ("/api/v1/redoc/", "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
    ],
)
def test_readers_are_served_without_a_cdn(url: str, asset: str) -> None:
    html = APIClient().get(url).content.decode()
    assert asset in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert "/api/v1/schema/" in html


@pytest.fixture
def live_data(transactional_db: None, world: World) -> dict[str, Any]:
    """Real ids, so generated requests reach the views' logic and not only the 404 path."""
    scan = store_scan(world.shop, [engine_finding(), engine_finding("b.py", 3)])
    return {
        "project": str(world.shop.pk),
        "scan_id": scan.pk,
        "finding_id": Finding.objects.filter(project=world.shop).first().pk,
        "token": world.tokens["alice"],
    }


# The schema view needs no database; requests go in-process through Django's WSGI handler.
# (schemathesis.pytest.from_fixture does not work with pytest 9 yet.)
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())


@schema.parametrize()
@settings(
    max_examples=10,  # bounded: 10 generated requests per operation, ~30 operations
    phases=[Phase.explicit, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_never_errors_and_matches_its_schema(case: Any, live_data: dict[str, Any]) -> None:
    for name in ("project", "scan_id", "finding_id"):
        if name in case.path_parameters:
            case.path_parameters[name] = live_data[name]
    if "token_id" in case.path_parameters:
        case.path_parameters["token_id"] = 10_000  # never revoke the caller's own token
    case.call_and_validate(
        headers={"Authorization": f"Bearer {live_data['token']}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
    assert Scan.objects.exists()
