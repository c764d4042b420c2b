"""Parsers of uploaded runtime artifacts, one module per format (DefectDojo-style).

Each parser is stateless: ``sniff(head: bytes) -> bool`` recognizes its format from the first
bytes, ``parse(stream) -> <result dataclass>`` reads it (streaming where the format allows) and
raises ``ArtifactParseError`` with a readable message on empty, truncated, malformed or foreign
input. ``ingest_artifacts`` (in ``scanners.runtime.pipeline``) runs them for a scan and places
what they say on the scanned code.

Kinds: ``pyspy``, ``asyncio-log``, ``locust``, ``mypy``, ``pyright``, ``sql-log``, ``sarif``, and
``auto`` (detected by sniffing).
"""

from __future__ import annotations

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.registry import AUTO, KINDS, ArtifactKind, detect_kind
from scanners.runtime.pipeline import IngestOptions, IngestResult, ingest_artifacts

__all__ = [
    "AUTO",
    "KINDS",
    "ArtifactKind",
    "ArtifactParseError",
    "IngestOptions",
    "IngestResult",
    "detect_kind",
    "ingest_artifacts",
]
