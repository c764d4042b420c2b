"""A small JSON-over-HTTP client on urllib: bearer token, retries of transient failures, streamed
multipart uploads with progress, and errors that always carry the server's status and message."""

from __future__ import annotations

import json
import mimetypes
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit_ci import __version__

TRANSIENT_STATUSES = frozenset({502, 503, 504})
UploadProgress = Callable[[int, int], None]  # (bytes sent, total bytes)


class ApiError(Exception):
    """The server answered with an error status (``status`` > 0) or could not be reached (0)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message
        self.body = body


@dataclass(frozen=True)
class UploadFile:
    field: str
    path: Path
    filename: str = ""


class MultipartBody:
    """A multipart/form-data body read in blocks, so a large archive never sits in memory."""

    CHUNK = 64 * 1024

    def __init__(
        self,
        fields: list[tuple[str, str]],
        files: list[UploadFile],
        progress: UploadProgress | None = None,
    ) -> None:
        self.boundary = f"audit-ci-{uuid.uuid4().hex}"
        self._segments: list[bytes | UploadFile] = []
        for name, value in fields:
            self._segments.append(self._header(name) + b"\r\n" + value.encode() + b"\r\n")
        for upload in files:
            filename = upload.filename or upload.path.name
            content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            self._segments.append(self._header(upload.field, filename, content_type) + b"\r\n")
            self._segments.append(upload)
            self._segments.append(b"\r\n")
        self._segments.append(f"--{self.boundary}--\r\n".encode())
        self.length = sum(
            seg.path.stat().st_size if isinstance(seg, UploadFile) else len(seg)
            for seg in self._segments
        )
        self._progress = progress
        self._sent = 0
        self._chunks = self._iterate()
        self._buffer = b""

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _header(self, name: str, filename: str = "", content_type: str = "") -> bytes:
        quoted = name.replace('"', "%22")
        disposition = f'Content-Disposition: form-data; name="{quoted}"'
        if filename:
            disposition += f'; filename="{filename.replace(chr(34), "%22")}"'
        lines = [f"--{self.boundary}", disposition]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        return ("\r\n".join(lines) + "\r\n").encode()

    def _iterate(self) -> Iterator[bytes]:
        for segment in self._segments:
            if isinstance(segment, bytes):
                yield segment
                continue
            with segment.path.open("rb") as handle:
                while block := handle.read(self.CHUNK):
                    yield block

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            data, self._buffer = self._buffer, b""
        else:
            data, self._buffer = self._buffer[:size], self._buffer[size:]
        self._sent += len(data)
        if self._progress is not None and data:
            self._progress(self._sent, self.length)
        return data


def _error_message(status: int, raw: bytes) -> tuple[str, Any]:
    """The API's ``message``; otherwise the start of whatever the server (or a proxy) sent."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        text = raw.decode("utf-8", "replace").strip()
        return (text[:500] or f"HTTP {status} without a body"), None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"], body
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"], body
    return json.dumps(body)[:500], body


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        retries: int = 4,
        backoff: float = 1.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"the server URL must start with http(s)://, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self._sleep = sleep
        self._log = log

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def _open(self, request: urllib.request.Request) -> tuple[int, bytes, str]:
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked in __init__
            return response.status, response.read(), response.headers.get("Content-Type", "")

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body_factory: Callable[[], MultipartBody] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, str]:
        """Send a request, retrying connection failures and 502/503/504 with exponential backoff.

        Any other error status raises ``ApiError`` at once with the server's message.
        """
        attempt = 0
        while True:
            request = urllib.request.Request(self.url(path), method=method)  # noqa: S310 - http(s) only
            request.add_header("Authorization", f"Bearer {self.token}")
            request.add_header("Accept", "application/json")
            request.add_header("User-Agent", f"audit-ci/{__version__}")
            for name, value in (headers or {}).items():
                request.add_header(name, value)
            if json_body is not None:
                request.data = json.dumps(json_body).encode()
                request.add_header("Content-Type", "application/json")
            elif body_factory is not None:
                body = body_factory()
                request.data = body  # urllib streams any object with read()
                request.add_header("Content-Type", body.content_type)
                request.add_header("Content-Length", str(body.length))
            try:
                return self._open(request)
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                message, parsed = _error_message(exc.code, raw)
                if exc.code not in TRANSIENT_STATUSES or attempt >= self.retries:
                    raise ApiError(exc.code, message, parsed) from None
                reason = f"HTTP {exc.code}: {message}"
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                reason_obj = getattr(exc, "reason", exc)
                if attempt >= self.retries:
                    raise ApiError(0, f"cannot reach {self.base_url}: {reason_obj}") from None
                reason = f"network error: {reason_obj}"
            delay = self.backoff * (2**attempt)
            attempt += 1
            if self._log is not None:
                self._log(f"{reason}; retrying in {delay:.0f}s ({attempt}/{self.retries})")
            self._sleep(delay)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        _status, raw, _content_type = self.send(method, path, **kwargs)
        if not raw:
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ApiError(0, f"the answer is not JSON: {raw[:200]!r}") from None

    def upload(
        self,
        path: str,
        fields: list[tuple[str, str]],
        files: list[UploadFile],
        progress: UploadProgress | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        def body_factory() -> MultipartBody:
            return MultipartBody(fields, files, progress)

        _status, raw, _ = self.send("POST", path, body_factory=body_factory, headers=headers)
        return json.loads(raw.decode("utf-8")) if raw else None

    def download(self, path: str, destination: Path, accept: str) -> int:
        _status, raw, _ = self.send("GET", path, headers={"Accept": accept})
        destination.write_bytes(raw)
        return len(raw)
