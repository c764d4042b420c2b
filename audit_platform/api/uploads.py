"""Upload limits and durable storage of uploaded files.

Files stream to temp files on disk while the request is parsed (never into memory); a running
byte count stops the request with 413 as soon as it passes ``AUDIT_API_MAX_UPLOAD_BYTES`` — also
for chunked requests that announce no length. Accepted files are copied under MEDIA_ROOT and
fsync'ed (file and folder) before the rows are committed and the client gets its 202.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.http import HttpRequest

from audit_platform.api.errors import UploadTooLarge

DEFAULT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024
# JSON bodies are small (settings, triage); anything bigger is a client mistake.
MAX_JSON_BODY_BYTES = 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "AUDIT_API_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def too_large(limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"The upload is larger than the server's limit of {limit / 1_000_000:.0f} MB "
        "(AUDIT_API_MAX_UPLOAD_BYTES). Exclude generated files or large data from the archive."
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
        return super().receive_data_chunk(raw_data, start)  # type: ignore[no-any-return]


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


@dataclass(frozen=True)
class StoredFile:
    relative_path: str  # under MEDIA_ROOT
    size: int
    sha256: str


def _fsync_dir(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def store_upload(upload: UploadedFile, relative_folder: str, filename: str) -> StoredFile:
    """Copy ``upload`` to ``MEDIA_ROOT/relative_folder/filename``, hashing it; fsync file and
    folder so the bytes survive a crash once the caller commits the row that points at them."""
    root = Path(settings.MEDIA_ROOT)
    folder = root / relative_folder
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    digest = hashlib.sha256()
    size = 0
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as out:
        for chunk in upload.chunks():
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    _fsync_dir(folder)
    return StoredFile(
        relative_path=target.relative_to(root).as_posix(), size=size, sha256=digest.hexdigest()
    )


def remove_stored(relative_folder: str) -> None:
    """Undo ``store_upload`` calls when the transaction that would reference them fails."""
    shutil.rmtree(Path(settings.MEDIA_ROOT) / relative_folder, ignore_errors=True)


def safe_filename(name: str, fallback: str) -> str:
    """A file name without folders or control characters, for storing under our own folder."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(char for char in base if char.isprintable() and char not in '<>:"|?*')
    cleaned = cleaned.strip(" .")
    return cleaned[:200] or fallback


def uploaded_files(data: Any, field: str) -> list[UploadedFile]:
    return list(data.getlist(field)) if hasattr(data, "getlist") else []
