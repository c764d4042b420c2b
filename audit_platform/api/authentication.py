"""Bearer-token authentication for CI tokens (``apt_…``) and personal tokens (``apu_…``).

``request.auth`` carries the token row; ``request.user`` is the token's user for personal tokens
and AnonymousUser for CI tokens (they belong to a project, not to a person).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from audit_platform.api.models import PersonalToken, ProjectToken
from audit_platform.api.tokens import PROJECT_TOKEN_PREFIX, token_digest, token_kind

# Writing last_used_at on every request would turn each read into a write; a minute is precise
# enough for "when was this token last used".
LAST_USED_RESOLUTION = timedelta(minutes=1)
_KEYWORDS = ("bearer", "token")


def _touch(token: ProjectToken | PersonalToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` (``Token <token>`` is accepted too)."""

    def authenticate(self, request: Request) -> tuple[object, ProjectToken | PersonalToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in _KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header: expected 'Bearer <token>'."
            )
        plaintext = header[1]
        kind = token_kind(plaintext)
        if kind is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        digest = token_digest(plaintext)
        token: ProjectToken | PersonalToken | None
        if kind == PROJECT_TOKEN_PREFIX:
            token = (
                ProjectToken.objects.select_related("project__organization")
                .filter(digest=digest)
                .first()
            )
        else:
            token = PersonalToken.objects.select_related("user").filter(digest=digest).first()
        if token is None or not token.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        if isinstance(token, PersonalToken):
            if not token.user.is_active:
                raise exceptions.AuthenticationFailed("The token's user is inactive.")
            _touch(token)
            return token.user, token
        _touch(token)
        return AnonymousUser(), token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "audit_platform.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A project CI token (apt_…) or a personal token (apu_…).",
        }
