"""The artifact kinds the engine reads, and detection of the kind ``auto`` by sniffing."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scanners.ingest import asyncio_log, locust, pyspy, sarif_import, sql_log, typecheck
from scanners.ingest.textio import HEAD_BYTES

AUTO = "auto"


@dataclass(frozen=True)
class ArtifactKind:
    kind: str
    description: str
    sniff: Callable[[bytes], bool]


# Order matters for `auto`: the JSON formats first (each names its own top-level key), then the
# line formats from the most to the least specific.
KINDS: dict[str, ArtifactKind] = {
    spec.kind: spec
    for spec in (
        ArtifactKind(sarif_import.KIND, "SARIF 2.1.0 from another tool", sarif_import.sniff),
        ArtifactKind(typecheck.PYRIGHT_KIND, "pyright --outputjson", typecheck.sniff_pyright),
        ArtifactKind(pyspy.KIND, "py-spy speedscope JSON or raw collapsed stacks", pyspy.sniff),
        ArtifactKind(
            typecheck.MYPY_KIND, "mypy text output or --output json", typecheck.sniff_mypy
        ),
        ArtifactKind(locust.KIND, "Locust --csv results", locust.sniff),
        ArtifactKind(asyncio_log.KIND, "asyncio debug-mode log", asyncio_log.sniff),
        ArtifactKind(sql_log.KIND, "SQLAlchemy echo or PostgreSQL statement log", sql_log.sniff),
    )
}


def read_head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def detect_kind(path: Path) -> str | None:
    """The kind of the artifact at ``path``, or None when no parser recognizes it."""
    if path.is_dir() or (path.is_file() and zipfile.is_zipfile(path)):
        return locust.KIND  # several CSV files together are a Locust run
    if not path.is_file():
        csvs = list(path.parent.glob(path.name + "_*.csv")) if path.parent.is_dir() else []
        return locust.KIND if csvs else None
    head = read_head(path)
    for spec in KINDS.values():
        if spec.sniff(head):
            return spec.kind
    return None
