"""Streaming helpers shared by the parsers: text decoding, bounded lines, sniffing heads."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any, BinaryIO, TextIO, cast

from scanners.ingest.errors import ArtifactParseError

HEAD_BYTES = 8192  # what `sniff` sees of a file
MAX_LINE_CHARS = 4 * 1024 * 1024  # a longer line is not text any of our formats writes


def as_text(stream: BinaryIO | TextIO) -> TextIO:
    """A text view of ``stream``: binary streams are decoded as UTF-8 (bad bytes replaced)."""
    if isinstance(stream.read(0), str):
        return cast(TextIO, stream)
    return io.TextIOWrapper(cast(BinaryIO, stream), encoding="utf-8", errors="replace")


def read_json_document(stream: BinaryIO | TextIO, what: str) -> Any:
    """One whole JSON document; empty or broken input raises with a message naming ``what``."""
    text = as_text(stream).read()
    if not text.strip():
        raise ArtifactParseError(f"empty file: no {what}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactParseError(
            f"line {exc.lineno}: not valid JSON ({exc.msg}); the file may be truncated"
        ) from None


def iter_lines(stream: BinaryIO | TextIO, what: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line number, line without newline)``, never holding more than one line.

    A line over ``MAX_LINE_CHARS`` raises: it means binary data or another format, and reading it
    whole would defeat the bounded-memory promise.
    """
    text = as_text(stream)
    number = 0
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise ArtifactParseError(
                f"line {number}: longer than {MAX_LINE_CHARS // (1024 * 1024)} MiB; "
                f"this does not look like {what}"
            )
        yield number, line.rstrip("\r\n")


def head_text(head: bytes) -> str:
    """Decode a file head for sniffing (tolerates a cut multi-byte character and a BOM)."""
    return head.decode("utf-8", errors="replace").lstrip("\ufeff")


def first_lines(head: bytes, count: int = 5) -> list[str]:
    """The first ``count`` non-blank lines of a head (the last, possibly cut line is dropped)."""
    lines = head_text(head).splitlines()
    if len(head) >= HEAD_BYTES and lines:
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:count]


def shorten(text: str, limit: int = 80) -> str:
    """Quote a piece of bad input in an error message without flooding it."""
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
