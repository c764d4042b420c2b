"""Throttling per credential: each CI token, each personal token, each session user has its own
budget, so one noisy pipeline cannot starve the others. Rates come from settings
(``AUDIT_API_THROTTLE_RATE``, ``AUDIT_API_UPLOAD_THROTTLE_RATE``) with the defaults below."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from audit_platform.api.models import PersonalToken, ProjectToken

DEFAULT_RATE = "1200/min"
DEFAULT_UPLOAD_RATE = "60/min"


def credential_key(request: Request) -> str | None:
    """``ptok:<id>`` / ``utok:<id>`` / ``user:<id>``; None for anonymous requests."""
    token = request.auth
    if isinstance(token, ProjectToken):
        return f"ptok:{token.pk}"
    if isinstance(token, PersonalToken):
        return f"utok:{token.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


class CredentialRateThrottle(SimpleRateThrottle):
    scope = "api"
    setting_name = "AUDIT_API_THROTTLE_RATE"
    default_rate = DEFAULT_RATE

    def get_rate(self) -> str | None:
        rate = getattr(settings, self.setting_name, self.default_rate)
        return str(rate) if rate else None

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        key = credential_key(request) or f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": key}


class UploadRateThrottle(CredentialRateThrottle):
    """Applied only to the endpoints that accept uploads (views list it explicitly)."""

    scope = "upload"
    setting_name = "AUDIT_API_UPLOAD_THROTTLE_RATE"
    default_rate = DEFAULT_UPLOAD_RATE
