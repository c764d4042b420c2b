"""The analysis engine: a pure Python library that takes a directory (plus optional runtime
artifacts) and returns findings. It never imports Django, DRF, Celery or `audit_platform`."""

from scanners.api import ENGINE_VERSION, scan
from scanners.catalog import CATEGORIES, Severity
from scanners.findings import (
    ArtifactInput,
    ArtifactOutcome,
    Finding,
    RuntimeEvidence,
    ScanOptions,
    ScanResult,
    SkippedFile,
    WitnessStep,
)

__all__ = [
    "CATEGORIES",
    "ENGINE_VERSION",
    "ArtifactInput",
    "ArtifactOutcome",
    "Finding",
    "RuntimeEvidence",
    "ScanOptions",
    "ScanResult",
    "Severity",
    "SkippedFile",
    "WitnessStep",
    "scan",
]
