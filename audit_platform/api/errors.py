"""One JSON error shape for every API error.

``{"status": 400, "code": "invalid", "message": "…", "fields": {"name": ["…"]}}`` — ``message`` is
a sentence a person can act on; ``fields`` is present for validation errors only.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The upload is larger than the server accepts."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The resource is not in a state that allows this."


def error_body(status_code: int, code: str, message: str, fields: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return body


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    """``{"a": ["x"], "b": {"c": ["y"]}}`` -> ``["a: x", "b.c: y"]`` for the human message."""
    if isinstance(detail, dict):
        lines: list[str] = []
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            lines.extend(_flatten(value, name))
        return lines
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            text = " ".join(str(item) for item in detail)
            return [f"{prefix}: {text}" if prefix and prefix != "non_field_errors" else text]
        lines = []
        for index, item in enumerate(detail):
            lines.extend(_flatten(item, f"{prefix}[{index}]"))
        return lines
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def _code_of(detail: Any, default: str) -> str:
    codes = detail if isinstance(detail, str) else None
    return codes or default


def from_django_validation(
    exc: DjangoValidationError, fields: tuple[str, ...] = (), prefixes: dict[str, str] | None = None
) -> exceptions.ValidationError:
    """A service's ValidationError as a 400 filed under the field it is about: messages that
    start with a field name ("sla_days must be ...") or with one of ``prefixes`` (message start
    -> field) go under that field, the rest under ``non_field_errors``."""
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    starts = {name: name for name in fields} | dict(prefixes or {})
    ordered = sorted(starts, key=len, reverse=True)
    detail: dict[str, list[str]] = {}
    for message in exc.messages:
        start = next((text for text in ordered if message.startswith(text)), None)
        detail.setdefault(starts[start] if start else "non_field_errors", []).append(message)
    return exceptions.ValidationError(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = from_django_validation(exc)
    elif isinstance(exc, RequestDataTooBig):
        exc = UploadTooLarge("The request body is larger than the server accepts.")
    elif isinstance(exc, SuspiciousOperation):
        # Too many fields, malformed headers...: the client's request, never a server error.
        exc = exceptions.ParseError(f"Malformed request: {exc}")
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body(500, "server_error", "Internal server error; it has been logged."),
            status=500,
        )
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = "Invalid input. " + "; ".join(_flatten(detail))
        response.data = error_body(response.status_code, "invalid", message, detail)
    else:
        codes = exc.get_codes()
        response.data = error_body(
            response.status_code,
            _code_of(codes, exc.default_code),
            str(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc.default_detail),
        )
    return response


def not_found_view(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Catch-all for unknown paths under /api/: JSON, not Django's HTML 404 page."""
    return JsonResponse(
        error_body(404, "not_found", f"No API endpoint at {request.path}."), status=404
    )
