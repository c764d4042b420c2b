"""Upload limits of API requests.

Files stream to temp files on disk while the request is parsed (never into memory); a running
byte count stops the request with 413 as soon as it passes ``AUDIT_API_MAX_UPLOAD_BYTES`` — also
for chunked requests that announce no length. Storing them durably is the scans service's job.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest

from audit_platform.api.errors import UploadTooLarge

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
# JSON bodies are small (settings, triage); anything bigger is a client mistake.
MAX_JSON_BODY_BYTES = 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "AUDIT_API_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def too_large(
    limit: int, what: str = "The upload", setting: str = "AUDIT_API_MAX_UPLOAD_BYTES"
) -> UploadTooLarge:
    return UploadTooLarge(
        f"{what} is larger than the server's limit of {limit / 1_000_000:.1f} MB ({setting}). "
        "Leave generated files and large data out of it."
    )


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Every file to disk, counting bytes across all files of the request."""

    def __init__(self, request: HttpRequest | None = None, limit: int = 0) -> None:
        super().__init__(request)
        self.limit = limit or max_upload_bytes()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise too_large(self.limit)
        return super().receive_data_chunk(raw_data, start)


def check_declared_length(request: HttpRequest) -> None:
    """Refuse over-limit bodies from their Content-Length, before reading a byte of them."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    content_type = request.META.get("CONTENT_TYPE", "")
    limit = max_upload_bytes() if content_type.startswith("multipart/") else MAX_JSON_BODY_BYTES
    if length > limit:
        raise too_large(limit)


def uploaded_files(data: Any, field: str) -> list[Any]:
    """All files of a multipart field (a plain dict from a JSON body has none)."""
    return list(data.getlist(field)) if hasattr(data, "getlist") else []
