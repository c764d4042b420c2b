"""The engine's command line: ``python -m scanners scan PATH`` and ``python -m scanners rules``.

Exit status of ``scan``: 0 when no finding reaches ``--fail-on`` (or no ``--fail-on`` given),
1 when one does, 2 on a usage or internal error (with the reason on stderr).

JSON output (``--format json``) has this stable shape (``"schema": "audit-scanners/scan/v1"``)::

    {"schema", "root", "versions": {..}, "stats": {..}, "timings": {..},
     "findings": [{"rule_id", "category", "severity" ("high"...), "title", "message", "path",
                   "start_line", "start_col", "end_line", "end_col", "enclosing", "snippet",
                   "remediation", "suggested_fix", "confidence", "source", "reach": [route],
                   "witness": [{"path", "line", "function", "note"}],
                   "evidence": [{"kind", "summary", "artifact", "metrics"}],
                   "blast_radius", "blast_explanation", "fingerprint", "properties"}],
     "skipped": [{"path", "reason"}], "warnings": [str],
     "artifacts": [{"kind", "name", "ok", "error", "summary"}], "load_test": {..}}

Findings are ordered by blast radius, highest first.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import enum
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from scanners.catalog import CATEGORIES, Severity
from scanners.findings import ArtifactInput, Finding, ScanOptions, ScanResult

JSON_SCHEMA_ID = "audit-scanners/scan/v1"
FORMATS = ("text", "json", "sarif")
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
_SEVERITIES = [s.label for s in Severity]


class UsageError(Exception):
    """Bad command-line input found after argparse (exit status 2)."""


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.name.lower() if isinstance(value, Severity) else value.value
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    data = dataclasses.asdict(finding)
    data["severity"] = finding.severity.label
    return data


def result_to_dict(result: ScanResult) -> dict[str, Any]:
    """The documented JSON shape of a scan (see the module docstring)."""
    return {
        "schema": JSON_SCHEMA_ID,
        "root": result.root.as_posix(),
        "versions": dict(result.versions),
        "stats": dict(result.stats),
        "timings": dict(result.timings),
        "findings": [finding_to_dict(f) for f in ranked(result.findings)],
        "skipped": [dataclasses.asdict(s) for s in result.skipped],
        "warnings": list(result.warnings),
        "artifacts": [dataclasses.asdict(a) for a in result.artifacts],
        "load_test": dict(result.load_test),
    }


def ranked(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (-f.blast_radius, -int(f.severity), f.category, f.path, f.start_line),
    )


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def render_text(result: ScanResult, width: int | None = None) -> str:
    """A table ordered by blast radius, then skipped files and warnings.

    ``width`` (a terminal's columns) clips long messages; ``None`` keeps them whole.
    """
    findings = ranked(result.findings)
    rows = [
        (
            f"{f.blast_radius:.1f}",
            f.severity.label,
            f.category,
            f"{f.path}:{f.start_line}",
            str(len(f.reach)),
            f.message or f.title,
        )
        for f in findings
    ]
    header = ("blast", "severity", "category", "location", "reach", "message")
    widths = [max([len(header[i]), *(len(r[i]) for r in rows)]) for i in range(5)]
    message_width = max(30, width - sum(widths) - 2 * 5) if width else 10**6
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, [*widths, 0], strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in [*widths, min(message_width, 40)]))
    for row in rows:
        cells = [
            row[i].rjust(widths[i]) if i in {0, 4} else row[i].ljust(widths[i]) for i in range(5)
        ]
        lines.append("  ".join([*cells, _clip(row[5], message_width)]))
    counts = {s.label: 0 for s in reversed(Severity)}
    for finding in findings:
        counts[finding.severity.label] += 1
    summary = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no findings"
    stats = result.stats
    lines.append("")
    lines.append(
        f"{len(findings)} finding(s): {summary}. Scanned {stats.get('files', 0)} file(s), "
        f"{stats.get('lines', 0)} line(s) in {result.timings.get('total', 0.0):.1f}s."
    )
    if result.skipped:
        lines.append("")
        lines.append(f"Skipped files ({len(result.skipped)}):")
        lines.extend(f"  {s.path}: {s.reason}" for s in result.skipped)
    if result.warnings:
        lines.append("")
        lines.append(f"Warnings ({len(result.warnings)}):")
        lines.extend(f"  {w}" for w in result.warnings)
    return "\n".join(lines) + "\n"


def render(result: ScanResult, output_format: str, width: int | None = None) -> str:
    if output_format == "json":
        return json.dumps(result_to_dict(result), indent=2, default=_json_default) + "\n"
    if output_format == "sarif":
        from scanners.sarif import to_sarif  # noqa: PLC0415 - only this format needs it

        return json.dumps(to_sarif(result), indent=2, default=_json_default) + "\n"
    return render_text(result, width)


class ProgressPrinter:
    """Progress on stderr: a rewritten line on a terminal, plain lines every 10% otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last: tuple[str, int] = ("", -1)
        self._started = time.perf_counter()

    def __call__(self, stage: str, percent: float) -> None:
        step = int(percent) if self.tty else int(percent // 10) * 10
        if (stage, step) == self._last:
            return
        self._last = (stage, step)
        elapsed = time.perf_counter() - self._started
        text = f"[{step:3d}%] {stage} ({elapsed:.1f}s)"
        if self.tty:
            self.stream.write("\r" + text.ljust(40))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._last[1] >= 0:
            self.stream.write("\n")
            self.stream.flush()


def _known_artifact_kinds() -> set[str] | None:
    try:
        from scanners.ingest.registry import AUTO, KINDS  # noqa: PLC0415 - optional module
    except ImportError:
        return None
    return {*KINDS, AUTO}


def parse_artifact(value: str) -> ArtifactInput:
    """``KIND=FILE`` -> ``ArtifactInput``; the file must exist."""
    kind, sep, path = value.partition("=")
    if not sep or not kind.strip() or not path.strip():
        raise UsageError(f"--artifact expects KIND=FILE, got {value!r}")
    kind = kind.strip()
    known = _known_artifact_kinds()
    if known is not None and kind not in known:
        raise UsageError(f"--artifact: unknown kind {kind!r} (known: {', '.join(sorted(known))})")
    file = Path(path.strip()).expanduser()
    if kind == "locust" and _is_locust_set(file):
        return ArtifactInput(kind=kind, path=file, name=file.name)
    if not file.is_file():
        raise UsageError(f"--artifact: {file} is not a readable file")
    return ArtifactInput(kind=kind, path=file, name=file.name)


def _is_locust_set(path: Path) -> bool:
    """Locust writes several CSVs per run (``locust --csv PREFIX``): the directory holding them or
    the prefix itself names the whole set."""
    if path.is_dir():
        return any(path.glob("*.csv"))
    return not path.exists() and any(path.parent.glob(path.name + "_*.csv"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scanners",
        description="Audit a Python/FastAPI code base: event-loop blocking, async correctness, "
        "Pydantic, database and security findings ranked by blast radius.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    scan = commands.add_parser("scan", help="scan a directory and report findings")
    scan.add_argument("path", type=Path, help="root of the code base to scan")
    scan.add_argument("--format", choices=FORMATS, default="text", help="output format")
    scan.add_argument("--output", "-o", type=Path, help="write the report here (default stdout)")
    scan.add_argument(
        "--jobs", "-j", type=int, default=0, help="worker processes (0 = one per CPU)"
    )
    scan.add_argument("--no-semgrep", action="store_true", help="skip the Semgrep rule pack")
    scan.add_argument(
        "--fail-on",
        choices=_SEVERITIES,
        metavar="SEVERITY",
        help=f"exit 1 when a finding has this severity or higher ({', '.join(_SEVERITIES)})",
    )
    scan.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip paths matching this glob (relative to PATH); repeatable",
    )
    scan.add_argument(
        "--artifact",
        action="append",
        default=[],
        metavar="KIND=FILE",
        help="runtime artifact to ingest with the scan (pyspy=profile.txt, ...)",
    )
    scan.add_argument(
        "--semgrep-timeout",
        type=int,
        default=ScanOptions.semgrep_timeout,
        metavar="SECONDS",
        help="Semgrep time limit per file",
    )
    scan.add_argument(
        "--progress",
        action="store_true",
        help="print progress on stderr even when it is not a terminal",
    )
    scan.add_argument("--no-progress", action="store_true", help="never print progress")
    scan.set_defaults(handler=command_scan)

    rules = commands.add_parser("rules", help="list the finding categories and rules")
    rules.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    rules.set_defaults(handler=command_rules)
    return parser


def scan_options(args: argparse.Namespace) -> ScanOptions:
    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (one per CPU) or more")
    if args.semgrep_timeout <= 0:
        raise UsageError("--semgrep-timeout must be positive")
    return ScanOptions(
        exclude=tuple(args.exclude),
        jobs=args.jobs,
        semgrep=not args.no_semgrep,
        semgrep_timeout=args.semgrep_timeout,
        artifacts=tuple(parse_artifact(a) for a in args.artifact),
    )


def fails(result: ScanResult, threshold: str | None) -> bool:
    if threshold is None:
        return False
    limit = Severity.parse(threshold)
    return any(f.severity >= limit for f in result.findings)


def command_scan(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from scanners.api import scan  # noqa: PLC0415 - keeps `rules` and --help fast

    root: Path = args.path.expanduser()
    if not root.is_dir():
        raise UsageError(f"{root} is not a directory")
    options = scan_options(args)
    progress: ProgressPrinter | None = None
    if not args.no_progress and (args.progress or stderr.isatty()):
        progress = ProgressPrinter(stderr)
        options.progress = progress
    try:
        result = scan(root, options)
    finally:
        if progress is not None:
            progress.close()
    to_terminal = args.output is None and stdout.isatty()
    width = shutil.get_terminal_size((120, 40)).columns if to_terminal else None
    report = render(result, args.format, width)
    if args.output is not None:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc}") from None
    else:
        stdout.write(report)
    return EXIT_FINDINGS if fails(result, args.fail_on) else EXIT_OK


def _rule_rows() -> list[dict[str, str]]:
    from scanners.detectors.registry import load_detectors  # noqa: PLC0415
    from scanners.semgrep.pack import load_rule_pack  # noqa: PLC0415

    rows = [
        {
            "rule_id": d.rule_id,
            "source": "engine",
            "category": d.category,
            "severity": d.severity.label,
            "confidence": d.confidence,
        }
        for d in load_detectors().values()
    ]
    rows.extend(
        {
            "rule_id": r.rule_id,
            "source": "semgrep",
            "category": r.category,
            "severity": r.severity.label,
            "confidence": r.confidence,
        }
        for r in load_rule_pack()
    )
    return sorted(rows, key=lambda r: (r["category"], r["source"], r["rule_id"]))


def command_rules(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if args.format == "markdown":
        from scanners.rule_docs import rules_reference  # noqa: PLC0415

        stdout.write(rules_reference())
        return EXIT_OK
    rules = _rule_rows()
    categories = [
        {
            "id": c.id,
            "area": c.area,
            "severity": c.severity.label,
            "summary": c.summary,
            "remediation": c.remediation,
        }
        for c in CATEGORIES.values()
    ]
    if args.format == "json":
        stdout.write(json.dumps({"categories": categories, "rules": rules}, indent=2) + "\n")
        return EXIT_OK
    by_category: dict[str, list[dict[str, str]]] = {}
    for rule in rules:
        by_category.setdefault(rule["category"], []).append(rule)
    area = ""
    for entry in categories:
        if entry["area"] != area:
            area = entry["area"]
            stdout.write(f"\n{area}\n")
        stdout.write(f"  {entry['id']:<31} {entry['severity']:<8} {entry['summary']}\n")
        for rule in by_category.get(entry["id"], []):
            stdout.write(
                f"      {rule['source']:<8} {rule['rule_id']} (confidence {rule['confidence']})\n"
            )
    return EXIT_OK


def code_on_broken_pipe(stream: TextIO) -> int:
    # Python would complain again when it flushes the closed stream at exit.
    with contextlib.suppress(OSError, ValueError):
        stream.close()
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help exits 0, bad usage exits 2
        return int(exc.code or 0)
    try:
        code: int = args.handler(args, out, err)
    except UsageError as exc:
        err.write(f"{parser.prog}: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`| head`): not an error of ours
        return code_on_broken_pipe(out)
    except Exception as exc:  # the CLI promises exit 2 with a message, never a traceback
        err.write(f"{parser.prog}: internal error: {type(exc).__name__}: {exc}\n")
        return EXIT_ERROR
    return code
