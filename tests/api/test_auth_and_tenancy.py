"""Authentication, permissions and tenant isolation of every endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from audit_platform.api.models import PersonalToken, ProjectToken
from audit_platform.api.services import token_revoke
from audit_platform.api.tokens import token_digest
from tests.api.conftest import World, engine_finding, store_scan


def _acme_resources(world: World) -> dict[str, int]:
    scan = store_scan(world.shop, [engine_finding()])
    finding = scan.occurrences.get().finding
    token = ProjectToken.objects.filter(project=world.shop).first()
    assert token is not None
    return {"project": world.shop.pk, "scan": scan.pk, "finding": finding.pk, "token": token.pk}


# Every endpoint that reads or changes something of one project.
PROJECT_ENDPOINTS = [
    ("get", "/api/v1/projects/{project}/", None),
    ("patch", "/api/v1/projects/{project}/", {"latency_budget_ms": 100}),
    ("get", "/api/v1/projects/{project}/tokens/", None),
    ("post", "/api/v1/projects/{project}/tokens/", {"name": "x"}),
    ("delete", "/api/v1/projects/{project}/tokens/{token}/", None),
    ("get", "/api/v1/projects/{project}/scans/", None),
    ("post", "/api/v1/projects/{project}/scans/", {"ref": "main"}),
    ("get", "/api/v1/projects/{project}/scans/{scan}/", None),
    ("post", "/api/v1/projects/{project}/scans/{scan}/start/", None),
    ("post", "/api/v1/projects/{project}/scans/{scan}/cancel/", None),
    ("get", "/api/v1/projects/{project}/scans/{scan}/artifacts/", None),
    ("post", "/api/v1/projects/{project}/scans/{scan}/artifacts/", {}),
    ("get", "/api/v1/projects/{project}/scans/{scan}/gate/", None),
    ("get", "/api/v1/projects/{project}/scans/{scan}/sarif/", None),
    ("get", "/api/v1/projects/{project}/findings/", None),
    ("post", "/api/v1/projects/{project}/findings/bulk/", {"ids": [1], "status": "fixed"}),
    ("get", "/api/v1/projects/{project}/findings/{finding}/", None),
    ("patch", "/api/v1/projects/{project}/findings/{finding}/", {"status": "fixed"}),
    ("get", "/api/v1/projects/{project}/findings/{finding}/events/", None),
    ("post", "/api/v1/projects/{project}/findings/{finding}/events/", {"text": "hi"}),
    ("get", "/api/v1/projects/{project}/trends/", None),
]


@pytest.mark.parametrize(("method", "template", "body"), PROJECT_ENDPOINTS)
@pytest.mark.parametrize("credential", ["rival_ci", "bob"])
def test_every_endpoint_answers_404_to_another_organization(
    world: World, client_for, credential: str, method: str, template: str, body: dict | None
) -> None:
    ids = _acme_resources(world)
    url = template.format(**ids)
    response = getattr(client_for(credential), method)(url, body, format="json")
    assert response.status_code == 404, response.content
    assert response.json() == {"status": 404, "code": "not_found", "message": "No such project."}
    # Nothing changed on the other side either.
    assert world.shop.scans.count() == 1
    assert ProjectToken.objects.get(pk=ids["token"]).revoked_at is None


@pytest.mark.parametrize(("method", "template", "body"), PROJECT_ENDPOINTS)
def test_every_endpoint_needs_credentials(
    world: World, method: str, template: str, body: dict | None
) -> None:
    url = template.format(**_acme_resources(world))
    response = getattr(APIClient(), method)(url, body, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_same_slug_in_two_organizations_resolves_per_caller(world: World, client_for) -> None:
    mine = client_for("shop_ci").get("/api/v1/projects/shop/").json()
    theirs = client_for("rival_ci").get("/api/v1/projects/shop/").json()
    assert (mine["id"], mine["organization"]) == (world.shop.pk, "acme")
    assert (theirs["id"], theirs["organization"]) == (world.rival.pk, "globex")


def test_project_list_shows_only_the_callers_projects(world: World, client_for) -> None:
    assert [p["id"] for p in client_for("shop_ci").get("/api/v1/projects/").json()["results"]] == [
        world.shop.pk
    ]
    assert [p["id"] for p in client_for("bob").get("/api/v1/projects/").json()["results"]] == [
        world.rival.pk
    ]


def test_tokens_are_stored_as_digests_only(world: World) -> None:
    plaintext = world.tokens["shop_ci"]
    assert plaintext.startswith("apt_") and len(plaintext) == 47
    token = ProjectToken.objects.get(digest=token_digest(plaintext))
    assert token.display_prefix == plaintext[:12]
    assert not ProjectToken.objects.filter(digest=plaintext).exists()
    assert world.tokens["alice"].startswith("apu_")
    assert PersonalToken.objects.filter(digest=token_digest(world.tokens["alice"])).exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer apt_short",
        "Bearer nope_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "Bearer apt_" + "A" * 43,
        "Bearer",
        "Bearer a b",
    ],
)
def test_bad_tokens_are_refused_with_401(world: World, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["status"] == 401
    assert response.json()["message"]


def test_revoked_token_stops_working_at_once(world: World, client_for) -> None:
    client = client_for("shop_ci")
    assert client.get("/api/v1/projects/").status_code == 200
    token_revoke(ProjectToken.objects.get(digest=token_digest(world.tokens["shop_ci"])))
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or revoked token."


def test_last_used_is_recorded_at_most_once_a_minute(world: World, client_for) -> None:
    token = ProjectToken.objects.get(digest=token_digest(world.tokens["shop_ci"]))
    assert token.last_used_at is None
    client_for("shop_ci").get("/api/v1/projects/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    client_for("shop_ci").get("/api/v1/projects/")
    token.refresh_from_db()
    assert token.last_used_at == first


@pytest.mark.parametrize(
    ("credential", "method", "template", "body", "expected"),
    [
        # A CI token uploads and reads; it never triages or administers.
        (
            "shop_ci",
            "patch",
            "/api/v1/projects/{project}/findings/{finding}/",
            {"status": "fixed"},
            403,
        ),
        ("shop_ci", "patch", "/api/v1/projects/{project}/", {"latency_budget_ms": 100}, 403),
        ("shop_ci", "get", "/api/v1/projects/{project}/tokens/", None, 403),
        # A read-only CI token cannot start scans.
        ("shop_read", "post", "/api/v1/projects/{project}/scans/", {"ref": "main"}, 403),
        ("shop_read", "get", "/api/v1/projects/{project}/findings/", None, 200),
        # Viewers read; members triage but do not administer.
        ("vera", "get", "/api/v1/projects/{project}/findings/{finding}/", None, 200),
        (
            "vera",
            "patch",
            "/api/v1/projects/{project}/findings/{finding}/",
            {"status": "fixed"},
            403,
        ),
        (
            "mike",
            "patch",
            "/api/v1/projects/{project}/findings/{finding}/",
            {"status": "fixed"},
            200,
        ),
        ("mike", "patch", "/api/v1/projects/{project}/", {"latency_budget_ms": 100}, 403),
        ("alice", "patch", "/api/v1/projects/{project}/", {"latency_budget_ms": 100}, 200),
        # A read-only personal token cannot write, whatever its user's role.
        ("alice_read", "patch", "/api/v1/projects/{project}/", {"latency_budget_ms": 100}, 403),
        ("alice_read", "get", "/api/v1/projects/{project}/scans/", None, 200),
    ],
)
def test_scopes_and_roles(
    world: World, client_for, credential: str, method: str, template: str, body, expected: int
) -> None:
    url = template.format(**_acme_resources(world))
    response = getattr(client_for(credential), method)(url, body, format="json")
    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json()["code"] == "permission_denied"


def test_session_login_works_for_the_browser(world: World) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.vera)
    assert client.get(f"/api/v1/projects/{world.shop.pk}/").status_code == 200
    # Writes from a session need the CSRF token, as in any Django form.
    response = client.patch(f"/api/v1/projects/{world.shop.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]


def test_throttle_is_per_credential(world: World, client_for, settings) -> None:
    settings.AUDIT_API_THROTTLE_RATE = "3/min"
    from django.core.cache import cache  # noqa: PLC0415

    cache.clear()
    noisy = client_for("shop_ci")
    assert [noisy.get("/api/v1/projects/").status_code for _ in range(4)] == [200, 200, 200, 429]
    body = noisy.get("/api/v1/projects/").json()
    assert body["code"] == "throttled"
    assert "Request was throttled" in body["message"]
    # Another token of the same project has its own budget.
    assert client_for("shop_read").get("/api/v1/projects/").status_code == 200
    cache.clear()
