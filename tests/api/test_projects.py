"""Projects and tokens endpoints."""

from __future__ import annotations

from rest_framework.test import APIClient

from audit_platform.api.models import PersonalToken, ProjectToken
from audit_platform.api.tokens import token_digest
from audit_platform.projects.models import Project
from tests.api.conftest import World


def test_create_project_in_the_only_administered_organization(world: World, client_for) -> None:
    response = client_for("alice").post(
        "/api/v1/projects/",
        {
            "name": "Payments API",
            "git_url": "https://git.example.com/acme/payments.git",
            "default_branch": "develop",
            "latency_budget_ms": 250,
            "quality_gate": {"fail_on_new_severity": "critical", "max_blast_radius": 70},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    project = Project.objects.get(pk=body["id"])
    assert (project.organization, project.slug, project.created_by) == (
        world.acme,
        "payments-api",
        world.alice,
    )
    assert body["default_branch"] == "develop"
    assert body["quality_gate"] == {"fail_on_new_severity": "critical", "max_blast_radius": 70.0}
    assert response["Location"] == body["url"] == f"http://testserver/api/v1/projects/{project.pk}/"


def test_create_project_errors_name_the_field(world: World, client_for) -> None:
    client = client_for("alice")
    missing = client.post("/api/v1/projects/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["fields"] == {"name": ["This field is required."]}
    assert missing.json()["message"] == "Invalid input. name: This field is required."
    gate = client.post(
        "/api/v1/projects/",
        {"name": "X", "quality_gate": {"fail_on_new_severity": "huge"}},
        format="json",
    )
    assert gate.status_code == 400
    assert "quality_gate" in gate.json()["fields"]
    assert "unknown severity 'huge'" in gate.json()["message"]
    url = client.post(
        "/api/v1/projects/", {"name": "X", "git_url": "ext::sh -c evil"}, format="json"
    )
    assert url.status_code == 400
    assert url.json()["fields"] == {
        "git_url": [
            "refused git URL 'ext::sh -c evil': it contains whitespace or control characters"
        ]
    }
    duplicate = client.post("/api/v1/projects/", {"name": "Shop", "slug": "shop"}, format="json")
    assert duplicate.status_code == 400
    assert "already has a project with slug 'shop'" in duplicate.json()["message"]


def test_members_cannot_create_projects_and_need_an_organization_they_belong_to(
    world: World, client_for
) -> None:
    denied = client_for("mike").post("/api/v1/projects/", {"name": "X"}, format="json")
    assert denied.status_code == 400  # mike administers no organization: name one
    named = client_for("mike").post(
        "/api/v1/projects/", {"name": "X", "organization": "acme"}, format="json"
    )
    assert named.status_code == 403
    foreign = client_for("alice").post(
        "/api/v1/projects/", {"name": "X", "organization": "globex"}, format="json"
    )
    assert foreign.status_code == 400
    assert foreign.json()["fields"] == {
        "organization": ["You are not a member of an organization 'globex'."]
    }
    assert (
        client_for("shop_ci").post("/api/v1/projects/", {"name": "X"}, format="json").status_code
        == 403
    )


def test_update_settings(world: World, client_for) -> None:
    response = client_for("alice").patch(
        "/api/v1/projects/shop/",
        {
            "latency_budget_ms": 200,
            "sla_days": {"critical": 3},
            "report_recipients": ["ops@example.com"],
            "scan_schedule": "30 2 * * 1-5",
            "quality_gate": {"max_p95_regression_percent": 20, "fail_on_new_severity": None},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    world.shop.refresh_from_db()
    assert world.shop.latency_budget_ms == 200
    assert world.shop.sla_days["critical"] == 3 and world.shop.sla_days["high"] == 30
    assert world.shop.report_recipients == ["ops@example.com"]
    assert world.shop.scan_schedule == "30 2 * * 1-5"
    assert world.shop.quality_gate == {
        "max_p95_regression_percent": 20.0,
        "fail_on_new_severity": None,
    }


def test_update_rejects_bad_settings_with_the_field(world: World, client_for) -> None:
    client = client_for("alice")
    cases = {
        "latency_budget_ms": 0,
        "sla_days": {"urgent": 1},
        "report_recipients": ["not-an-email"],
        "quality_gate": {"max_blast_radius": -1},
        "scan_schedule": "every day",
    }
    for field, value in cases.items():
        response = client.patch("/api/v1/projects/shop/", {field: value}, format="json")
        assert response.status_code == 400, (field, response.content)
        assert field in response.json()["fields"], (field, response.json())
    world.shop.refresh_from_db()
    assert world.shop.latency_budget_ms == 500


def test_ci_token_lifecycle(world: World, client_for) -> None:
    admin = client_for("alice")
    created = admin.post(
        "/api/v1/projects/shop/tokens/", {"name": "github", "scopes": ["upload"]}, format="json"
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("apt_") and body["scopes"] == ["upload"]
    assert body["created_by"] == "alice"
    listed = admin.get("/api/v1/projects/shop/tokens/").json()
    assert {row["name"] for row in listed} == {"ci", "dashboards", "github"}
    assert all("token" not in row for row in listed)  # shown once, never again

    ci = APIClient()
    ci.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert ci.get("/api/v1/projects/shop/findings/").status_code == 403  # no read scope
    assert admin.delete(f"/api/v1/projects/shop/tokens/{body['id']}/").status_code == 204
    assert ci.get("/api/v1/projects/shop/").status_code == 401
    assert ProjectToken.objects.get(pk=body["id"]).revoked_at is not None
    bad = admin.post(
        "/api/v1/projects/shop/tokens/", {"name": "x", "scopes": ["root"]}, format="json"
    )
    assert bad.status_code == 400 and "scopes" in bad.json()["fields"]


def test_personal_tokens(world: World, client_for) -> None:
    session = APIClient()
    session.force_login(world.mike)
    created = session.post("/api/v1/me/tokens/", {"name": "cli", "scopes": ["read"]}, format="json")
    assert created.status_code == 201
    plaintext = created.json()["token"]
    assert PersonalToken.objects.get(digest=token_digest(plaintext)).user == world.mike
    # A token cannot mint tokens; it can list and revoke its user's tokens.
    assert (
        client_for("mike").post("/api/v1/me/tokens/", {"name": "x"}, format="json").status_code
        == 403
    )
    names = [row["name"] for row in client_for("mike").get("/api/v1/me/tokens/").json()]
    assert sorted(names) == ["cli", "laptop"]
    other = PersonalToken.objects.get(user=world.bob)
    assert client_for("mike").delete(f"/api/v1/me/tokens/{other.pk}/").status_code == 404
    assert client_for("shop_ci").get("/api/v1/me/tokens/").status_code == 403


def test_unknown_api_path_is_json_404(world: World, client_for) -> None:
    response = client_for("alice").get("/api/v1/nothing/here/")
    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "code": "not_found",
        "message": "No API endpoint at /api/v1/nothing/here/.",
    }


def test_malformed_json_is_a_400(world: World, client_for) -> None:
    response = client_for("alice").generic(
        "PATCH", "/api/v1/projects/shop/", b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "JSON parse error" in response.json()["message"]
