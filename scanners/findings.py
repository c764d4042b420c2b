"""Plain data the engine returns. No Django here: `audit_platform` maps these onto its models."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.catalog import Severity


@dataclass(frozen=True)
class WitnessStep:
    """One hop of a witness path: route -> helper -> ... -> the blocking call."""

    path: str  # posix, relative to the scanned root
    line: int
    function: str  # qualified name, e.g. "app.services.rates.fetch_rates"
    note: str = ""  # e.g. "GET /rates", "calls fetch_rates()", "requests.get(...) blocks"


@dataclass(frozen=True)
class RuntimeEvidence:
    """Runtime data that backs a finding (profile share, slow-callback line, load-test row)."""

    kind: str  # "pyspy", "asyncio-log", "locust", "sql-log", ...
    summary: str  # human-readable: "12% of event-loop samples (218 of 1,804)"
    artifact: str = ""  # original file name of the artifact
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Finding:
    """One problem at one code location. `fingerprint` is filled by `scanners.fingerprint`."""

    rule_id: str
    category: str  # a catalog id (scanners.catalog.CATEGORIES) or a foreign rule's own id
    severity: Severity
    title: str
    message: str
    path: str  # posix, relative to the scanned root
    start_line: int
    start_col: int = 1
    end_line: int = 0  # 0: same as start_line
    end_col: int = 0
    enclosing: str = ""  # enclosing function/class, qualified within the module ("Cls.method")
    snippet: str = ""  # source of the finding's line(s)
    remediation: str = ""
    suggested_fix: str = ""  # unified diff against the scanned file, may be empty
    confidence: str = "high"  # high / medium / low
    source: str = "engine"  # "engine", "semgrep", "runtime", "sarif:<tool>", "mypy", "pyright"
    reach: tuple[str, ...] = ()  # routes that reach the finding: "GET /items/{item_id}"
    witness: tuple[WitnessStep, ...] = ()
    evidence: list[RuntimeEvidence] = field(default_factory=list)
    blast_radius: float = 0.0
    blast_explanation: str = ""
    fingerprint: str = ""
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.end_line == 0:
            self.end_line = self.start_line

    @property
    def confirmed_at_runtime(self) -> bool:
        return bool(self.evidence)

    @property
    def location_key(self) -> tuple[str, str, int]:
        """What de-duplication compares: same category at the same line is one finding."""
        return (self.category, self.path, self.start_line)


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str  # "not UTF-8", "syntax error at line 3: ...", "larger than 2 MiB", ...


@dataclass(frozen=True)
class ArtifactInput:
    """An uploaded artifact to ingest with the scan: kind per `scanners.ingest` (pyspy, locust…)."""

    kind: str
    path: Path
    name: str = ""  # original file name, for messages; defaults to path.name


@dataclass
class ArtifactOutcome:
    """How parsing one artifact went. A failed artifact never fails the scan."""

    kind: str
    name: str
    ok: bool
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)


ProgressCallback = Callable[[str, float], None]
"""Called with (stage name, percent of the whole scan 0..100) as the scan advances."""


@dataclass
class ScanOptions:
    exclude: tuple[str, ...] = ()  # glob patterns relative to the root ("legacy/**", "*_pb2.py")
    jobs: int = 0  # worker processes for parsing; 0 = number of CPUs
    semgrep: bool = True
    semgrep_timeout: int = 30  # seconds per file
    semgrep_memory_mb: int = 2000
    max_file_bytes: int = 2 * 1024 * 1024
    artifacts: tuple[ArtifactInput, ...] = ()
    latency_budget_ms: float = 500.0
    progress: ProgressCallback | None = None

    def report(self, stage: str, percent: float) -> None:
        if self.progress is not None:
            self.progress(stage, max(0.0, min(100.0, percent)))


@dataclass
class ScanResult:
    root: Path
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)  # files, lines, functions, routes, ...
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    versions: dict[str, str] = field(default_factory=dict)  # engine, semgrep, python
    artifacts: list[ArtifactOutcome] = field(default_factory=list)
    load_test: dict[str, Any] = field(default_factory=dict)  # per-endpoint and overall stats
