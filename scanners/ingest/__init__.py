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

from typing import TYPE_CHECKING

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.registry import AUTO, KINDS, ArtifactKind, detect_kind

if TYPE_CHECKING:
    from scanners.runtime.pipeline import IngestOptions, IngestResult, ingest_artifacts

_PIPELINE_NAMES = {"IngestOptions", "IngestResult", "ingest_artifacts"}


def __getattr__(name: str) -> object:
    # The pipeline imports the parsers of this package: loading it lazily keeps the import
    # graph acyclic whichever side is imported first.
    if name in _PIPELINE_NAMES:
        from scanners.runtime import pipeline  # noqa: PLC0415

        return getattr(pipeline, name)
    raise AttributeError(f"module 'scanners.ingest' has no attribute {name!r}")


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
