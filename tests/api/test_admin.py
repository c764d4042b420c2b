"""The API's models in the Django admin."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from audit_platform.api.models import IdempotentUpload, PersonalToken, ProjectToken
from tests.api.conftest import World, store_scan
from tests.platform.factories import UserFactory


def test_admin_lists_and_revokes_tokens(world: World) -> None:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    scan = store_scan(world.shop, [])
    IdempotentUpload.objects.create(project=world.shop, key="k", scan=scan)
    for model in (ProjectToken, PersonalToken, IdempotentUpload):
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(changelist, {"q": "a"}).status_code == 200
        detail = reverse(
            f"admin:{meta.app_label}_{meta.model_name}_change", args=[model.objects.first().pk]
        )
        page = client.get(detail)
        assert page.status_code == 200
    token = ProjectToken.objects.get(name="ci", project=world.shop)
    response = client.post(
        reverse("admin:api_projecttoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ProjectToken.objects.filter(revoked_at__isnull=True).count() == 2
