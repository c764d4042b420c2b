"""Writes owned by the API app: CI tokens and personal tokens (create shows the secret once,
revoke keeps the row). The dashboard calls these too."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit_platform.api.models import PersonalScope, PersonalToken, ProjectToken, TokenScope
from audit_platform.api.tokens import PERSONAL_TOKEN_PREFIX, PROJECT_TOKEN_PREFIX, token_generate
from audit_platform.projects.models import Project

DEFAULT_PROJECT_SCOPES = (TokenScope.UPLOAD.value, TokenScope.READ.value)
DEFAULT_PERSONAL_SCOPES = (PersonalScope.READ.value, PersonalScope.WRITE.value)


def _clean_scopes(scopes: Iterable[str], allowed: Iterable[str]) -> list[str]:
    allowed_set = set(allowed)
    chosen = sorted(set(scopes))
    unknown = [scope for scope in chosen if scope not in allowed_set]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}")
    if not chosen:
        raise ValueError("a token needs at least one scope")
    return chosen


@transaction.atomic
def project_token_create(
    *,
    project: Project,
    name: str,
    created_by: User | None,
    scopes: Iterable[str] = DEFAULT_PROJECT_SCOPES,
) -> tuple[ProjectToken, str]:
    """Create a CI token; returns the row and the plaintext, which is never retrievable again."""
    new = token_generate(PROJECT_TOKEN_PREFIX)
    token = ProjectToken.objects.create(
        project=project,
        name=name.strip() or "CI token",
        display_prefix=new.display_prefix,
        digest=new.digest,
        scopes=_clean_scopes(scopes, TokenScope.values),
        created_by=created_by,
    )
    return token, new.plaintext


@transaction.atomic
def personal_token_create(
    *, user: User, name: str, scopes: Iterable[str] = DEFAULT_PERSONAL_SCOPES
) -> tuple[PersonalToken, str]:
    new = token_generate(PERSONAL_TOKEN_PREFIX)
    chosen = _clean_scopes(scopes, PersonalScope.values)
    if PersonalScope.WRITE in chosen and PersonalScope.READ not in chosen:
        chosen = sorted([*chosen, PersonalScope.READ.value])  # writing implies reading
    token = PersonalToken.objects.create(
        user=user,
        name=name.strip() or "personal token",
        display_prefix=new.display_prefix,
        digest=new.digest,
        scopes=chosen,
    )
    return token, new.plaintext


def token_revoke(token: ProjectToken | PersonalToken) -> None:
    """Revoke at once; idempotent (revoking twice keeps the first time)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        type(token).objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
