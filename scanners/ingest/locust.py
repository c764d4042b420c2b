"""Locust CSV results (``locust --csv PREFIX``), column names as Locust 2.x writes them.

- ``PREFIX_stats.csv``: ``Type,Name,Request Count,Failure Count,Median Response Time,Average
  Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,
  50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%``, one row per endpoint plus the
  ``Aggregated`` row (empty Type). Times are milliseconds; ``N/A`` when an endpoint has no data.
- ``PREFIX_stats_history.csv``: periodic snapshots (``Timestamp,User Count,Type,Name,...``).
- ``PREFIX_failures.csv``: ``Method,Name,Error,Occurrences``.

An artifact is the stats file alone, or a directory / ``.zip`` / path prefix holding several of
these files. Older Locust headers (``Method``, ``# requests``, ``# failures``) are read too.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.textio import as_text, first_lines, shorten

KIND = "locust"

_AGGREGATED = {"aggregated", "total"}
_ALIASES = {
    "Type": ("Type", "Method"),
    "Name": ("Name",),
    "Request Count": ("Request Count", "# requests"),
    "Failure Count": ("Failure Count", "# failures"),
    "Median Response Time": ("Median Response Time", "Median response time"),
    "Average Response Time": ("Average Response Time", "Average response time"),
    "Min Response Time": ("Min Response Time", "Min response time"),
    "Max Response Time": ("Max Response Time", "Max response time"),
    "Requests/s": ("Requests/s",),
    "Failures/s": ("Failures/s",),
}
_STATS_REQUIRED = ("Name", "Request Count", "Failure Count")
_HISTORY_MARKERS = ("Timestamp", "User Count")
_FAILURE_COLUMNS = ("Method", "Name", "Error", "Occurrences")
_MAX_FIELD = 1024 * 1024


@dataclass(frozen=True, slots=True)
class EndpointStats:
    method: str  # "GET"; "" for the Aggregated row
    name: str  # as the locustfile named it: "/items/[id]", "/items/123"
    requests: int
    failures: int
    median_ms: float
    average_ms: float
    min_ms: float
    max_ms: float
    rps: float
    failures_per_s: float
    percentiles: dict[str, float]  # "50%" -> ms, as many as the file has

    def percentile(self, label: str) -> float:
        return self.percentiles.get(label, 0.0)

    @property
    def p50_ms(self) -> float:
        return self.percentiles.get("50%", self.median_ms)

    @property
    def p95_ms(self) -> float:
        return self.percentile("95%")

    @property
    def p99_ms(self) -> float:
        return self.percentile("99%")

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def as_row(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "name": self.name,
            "requests": self.requests,
            "failures": self.failures,
            "rps": round(self.rps, 3),
            "error_rate": round(self.error_rate, 4),
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "average_ms": round(self.average_ms, 2),
            "max_ms": self.max_ms,
        }


@dataclass(frozen=True, slots=True)
class FailureRow:
    method: str
    name: str
    error: str
    occurrences: int


@dataclass
class LocustReport:
    endpoints: list[EndpointStats] = field(default_factory=list)
    aggregated: EndpointStats | None = None
    failures: list[FailureRow] = field(default_factory=list)
    history_rows: int = 0
    peak_users: int = 0
    peak_rps: float = 0.0
    files: list[str] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        if self.aggregated is not None:
            return self.aggregated.requests
        return sum(endpoint.requests for endpoint in self.endpoints)

    def summary(self) -> dict[str, Any]:
        overall = self.aggregated
        return {
            "endpoints": len(self.endpoints),
            "requests": self.total_requests,
            "failures": overall.failures if overall else sum(e.failures for e in self.endpoints),
            "rps": overall.rps if overall else sum(e.rps for e in self.endpoints),
            "p95_ms": overall.p95_ms if overall else 0.0,
            "history_rows": self.history_rows,
            "peak_users": self.peak_users,
            "failure_kinds": len(self.failures),
            "files": list(self.files),
        }


def _header_kind(header: list[str]) -> str:
    names = {name.strip() for name in header}
    if all(marker in names for marker in _HISTORY_MARKERS):
        return "history"
    if all(column in names for column in _FAILURE_COLUMNS):
        return "failures"
    if all(any(alias in names for alias in _ALIASES[key]) for key in _STATS_REQUIRED):
        return "stats"
    return ""


def sniff(head: bytes) -> bool:
    lines = first_lines(head, 1)
    if not lines:
        return False
    header = next(csv.reader([lines[0]]), [])
    return bool(_header_kind(header))


def _number(row: dict[str, str], column: str, line: int, *, integer: bool = False) -> float:
    raw = (row.get(column) or "").strip()
    if raw in {"", "N/A"}:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ArtifactParseError(
            f"line {line}: column {column!r} should be a number, got {shorten(raw)}"
        ) from None
    return float(int(value)) if integer else value


def _column(header: list[str], key: str) -> str:
    for alias in _ALIASES.get(key, (key,)):
        if alias in header:
            return alias
    return key


def _rows(stream: BinaryIO | TextIO, what: str) -> Iterator[tuple[int, list[str], dict[str, str]]]:
    reader = csv.reader(as_text(stream))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ArtifactParseError(f"empty file: no {what} header") from None
    except csv.Error as exc:
        raise ArtifactParseError(f"line 1: not CSV ({exc})") from None
    try:
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ArtifactParseError(
                    f"line {reader.line_num}: {len(row)} columns where the header has "
                    f"{len(header)}; the file may be truncated"
                )
            yield reader.line_num, header, dict(zip(header, row, strict=True))
    except csv.Error as exc:
        raise ArtifactParseError(f"line {reader.line_num}: malformed CSV ({exc})") from None


def parse(stream: BinaryIO | TextIO) -> LocustReport:
    """Parse a ``_stats.csv`` file."""
    report = LocustReport()
    _parse_stats(stream, report)
    return report


def _parse_stats(stream: BinaryIO | TextIO, report: LocustReport) -> None:
    seen_header = False
    for line, header, row in _rows(stream, "Locust stats"):
        if not seen_header:
            seen_header = True
            if _header_kind(header) != "stats":
                raise ArtifactParseError(
                    "line 1: not a Locust stats CSV: expected columns 'Type,Name,Request Count,"
                    f"Failure Count,...', got {shorten(','.join(header))}"
                )
        percentiles = {name: _number(row, name, line) for name in header if name.endswith("%")}
        stats = EndpointStats(
            method=(row.get(_column(header, "Type")) or "").strip(),
            name=(row.get("Name") or "").strip(),
            requests=int(_number(row, _column(header, "Request Count"), line, integer=True)),
            failures=int(_number(row, _column(header, "Failure Count"), line, integer=True)),
            median_ms=_number(row, _column(header, "Median Response Time"), line),
            average_ms=_number(row, _column(header, "Average Response Time"), line),
            min_ms=_number(row, _column(header, "Min Response Time"), line),
            max_ms=_number(row, _column(header, "Max Response Time"), line),
            rps=_number(row, "Requests/s", line),
            failures_per_s=_number(row, "Failures/s", line),
            percentiles=percentiles,
        )
        if stats.name.lower() in _AGGREGATED and stats.method in {"", "None"}:
            report.aggregated = stats
        else:
            report.endpoints.append(stats)
    if not seen_header:
        raise ArtifactParseError("the Locust stats CSV has a header but no rows")
    if not report.endpoints and report.aggregated is None:
        raise ArtifactParseError("the Locust stats CSV has no endpoint rows")


def _parse_history(stream: BinaryIO | TextIO, report: LocustReport) -> None:
    for line, _header, row in _rows(stream, "Locust history"):
        report.history_rows += 1
        report.peak_users = max(report.peak_users, int(_number(row, "User Count", line)))
        if (row.get("Name") or "").strip().lower() in _AGGREGATED:
            report.peak_rps = max(report.peak_rps, _number(row, "Requests/s", line))


def _parse_failures(stream: BinaryIO | TextIO, report: LocustReport) -> None:
    for line, _header, row in _rows(stream, "Locust failures"):
        report.failures.append(
            FailureRow(
                method=row["Method"].strip(),
                name=row["Name"].strip(),
                error=row["Error"].strip(),
                occurrences=int(_number(row, "Occurrences", line, integer=True)),
            )
        )


def _kind_of(name: str, head: bytes) -> str:
    lines = first_lines(head, 1)
    header = next(csv.reader(lines[:1]), []) if lines else []
    kind = _header_kind([cell.strip() for cell in header])
    if kind:
        return kind
    lowered = name.lower()
    if lowered.endswith("_stats_history.csv"):
        return "history"
    if lowered.endswith("_failures.csv"):
        return "failures"
    if lowered.endswith("_stats.csv"):
        return "stats"
    return ""


def load(path: Path) -> LocustReport:
    """Read a Locust artifact: a stats file, a directory, a ``.zip``, or a ``--csv`` prefix."""
    sources: list[tuple[str, bytes | Path]] = []
    if path.is_dir():
        sources = [(p.name, p) for p in sorted(path.glob("*.csv"))]
    elif path.is_file() and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.lower().endswith(".csv") and info.file_size <= 512 * 1024**2:
                        sources.append((Path(info.filename).name, archive.read(info)))
        except (zipfile.BadZipFile, OSError) as exc:
            raise ArtifactParseError(f"unreadable zip archive: {exc}") from None
    elif path.is_file():
        sources = [(path.name, path)]
    else:
        sources = [(p.name, p) for p in sorted(path.parent.glob(path.name + "_*.csv"))]
    if not sources:
        raise ArtifactParseError(f"no Locust CSV files at {path.name!r}")
    report = LocustReport()
    parsers = {"stats": _parse_stats, "history": _parse_history, "failures": _parse_failures}
    seen_stats = False
    for name, source in sources:
        if isinstance(source, Path):
            with source.open("rb") as handle:
                head = handle.read(8192)
        else:
            head = source[:8192]
        kind = _kind_of(name, head)
        if not kind:
            if len(sources) == 1:
                raise ArtifactParseError(
                    f"{name}: not a Locust CSV (expected a header 'Type,Name,Request Count,...')"
                )
            continue  # e.g. PREFIX_exceptions.csv: nothing we use
        try:
            if isinstance(source, Path):
                with source.open("rb") as handle:
                    parsers[kind](handle, report)
            else:
                parsers[kind](io.BytesIO(source), report)
        except ArtifactParseError as exc:
            raise ArtifactParseError(f"{name}: {exc.message}") from None
        seen_stats = seen_stats or kind == "stats"
        report.files.append(name)
    if not seen_stats:
        raise ArtifactParseError(
            "no Locust stats file (PREFIX_stats.csv) among " + ", ".join(n for n, _ in sources)
        )
    return report
