"""Run the real Semgrep binary with our rule pack and turn its JSON output into ``Finding``s.

Semgrep runs as a subprocess, offline: only ``--config`` pointing at ``scanners/semgrep/rules``,
no registry, no metrics, no version check, a private settings directory. It scans exactly the
files the engine discovered (passed as explicit targets, so neither ``.gitignore`` nor
``.semgrepignore`` can hide one). Everything that goes wrong -- a missing binary, a timeout, a
file Semgrep cannot parse, a crash -- becomes a warning, never an exception: the engine's own
findings must survive a broken Semgrep.

``start_semgrep`` launches the process and returns at once, so the engine can run its own
analysis on the other core while Semgrep works; ``run_semgrep`` is start + wait.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.catalog import CATEGORIES, Severity
from scanners.findings import Finding, ScanOptions
from scanners.project.model import is_offloop_path
from scanners.semgrep.enclosing import EnclosingIndex

RULES_DIR = Path(__file__).resolve().parent / "rules"
REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_BINARY = REPO_ROOT / ".tools" / "semgrep" / "bin" / "semgrep"
PINNED_VERSION = "1.182.0"

# Linux limits one argv to ~2 MiB including the environment; stay well below it per run.
_ARGV_BUDGET = 256 * 1024
_STDERR_TAIL = 2000
# Semgrep's own severities, used when a rule lacks our `severity` metadata.
_SEMGREP_SEVERITY = {"ERROR": Severity.HIGH, "WARNING": Severity.MEDIUM, "INFO": Severity.LOW}


@dataclass
class SemgrepRun:
    findings: list[Finding] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: str = ""
    seconds: float = 0.0


def find_semgrep(environ: Mapping[str, str] | None = None) -> str | None:
    """The binary to run: ``SEMGREP_BIN``, then ``.tools/semgrep/bin/semgrep``, then PATH."""
    env = os.environ if environ is None else environ
    configured = env.get("SEMGREP_BIN", "").strip()
    # Absolute paths: Semgrep runs with the scanned root as its working directory.
    if configured:
        return str(Path(configured).resolve()) if Path(configured).is_file() else None
    if BUNDLED_BINARY.is_file():
        return str(BUNDLED_BINARY)
    found = shutil.which("semgrep", path=env.get("PATH"))
    return str(Path(found).resolve()) if found else None


def _private_home() -> Path:
    """A writable directory for Semgrep's settings and logs, away from the user's ~/.semgrep."""
    home = Path(tempfile.gettempdir()) / f"audit-scanners-semgrep-{os.getuid()}"
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    return home


def semgrep_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment Semgrep runs in: nothing in it may reach the network."""
    env = dict(os.environ if base is None else base)
    home = _private_home()
    env.update(
        {
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "SEMGREP_USER_HOME": str(home),
            "SEMGREP_SETTINGS_FILE": str(home / "settings.yml"),
            "SEMGREP_VERSION_CACHE_PATH": str(home / "version-cache"),
            "SEMGREP_LOG_FILE": str(home / "semgrep.log"),
            "SEMGREP_FORCE_NO_COLOR": "1",
        }
    )
    return env


def semgrep_version(binary: str) -> str:
    """``semgrep --version``, or "" when the binary does not answer."""
    try:
        completed = subprocess.run(
            [binary, "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=semgrep_environment(),
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""


def _chunks(paths: Sequence[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for path in paths:
        if chunk and size + len(path) + 1 > _ARGV_BUDGET:
            yield chunk
            chunk, size = [], 0
        chunk.append(path)
        size += len(path) + 1
    if chunk:
        yield chunk


def build_command(
    binary: str, targets: Sequence[str], options: ScanOptions, rules: Path = RULES_DIR
) -> list[str]:
    jobs = options.jobs if options.jobs > 0 else (os.cpu_count() or 1)
    return [
        binary,
        "scan",
        "--config",
        str(rules),
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "--oss-only",
        "--no-git-ignore",
        "--quiet",
        "--timeout",
        str(options.semgrep_timeout),
        "--max-memory",
        str(options.semgrep_memory_mb),
        "--max-target-bytes",
        str(options.max_file_bytes),
        "--jobs",
        str(jobs),
        "--",
        *targets,
    ]


class SemgrepHandle:
    """A Semgrep scan running in the background; ``wait()`` collects it as a ``SemgrepRun``."""

    def __init__(
        self, root: Path, paths: Sequence[str], options: ScanOptions, rules: Path = RULES_DIR
    ) -> None:
        self.root = root.resolve()
        self.options = options
        self.rules = rules
        self._started = time.perf_counter()
        self._run = SemgrepRun()
        self._pending = list(_chunks([p for p in paths if p]))
        self._process: subprocess.Popen[bytes] | None = None
        self._output: Any = None
        self._binary = find_semgrep()
        if self._binary is None:
            where = os.environ.get("SEMGREP_BIN") or "PATH, .tools/semgrep/bin"
            self._run.warnings.append(
                f"semgrep binary not found (looked in {where}); run scripts/install-semgrep "
                "or set SEMGREP_BIN; Semgrep rules were skipped"
            )
            self._pending = []
        elif not self.rules.is_dir():
            self._run.warnings.append(f"semgrep rule pack missing at {self.rules}; skipped")
            self._pending = []
        self._launch_next()

    def _launch_next(self) -> None:
        if not self._pending or self._binary is None:
            return
        targets = self._pending.pop(0)
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in _collect
        try:
            self._process = subprocess.Popen(
                build_command(self._binary, targets, self.options, self.rules),
                cwd=self.root,
                stdout=self._output,
                stderr=subprocess.PIPE,
                env=semgrep_environment(),
            )
        except OSError as exc:
            self._run.warnings.append(f"semgrep could not start: {exc}")
            self._output.close()
            self._output = None
            self._process = None
            self._pending = []

    def _collect(self) -> None:
        process, output = self._process, self._output
        if process is None or output is None:
            return
        _, stderr = process.communicate()
        output.seek(0)
        raw = output.read()
        output.close()
        self._process, self._output = None, None
        try:
            payload = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError as exc:
            payload = None
            self._run.warnings.append(f"semgrep printed unreadable JSON: {exc}")
        if not isinstance(payload, dict):
            tail = stderr.decode("utf-8", "replace").strip()[-_STDERR_TAIL:]
            self._run.warnings.append(
                f"semgrep failed (exit {process.returncode}) and reported no results"
                + (f": {tail}" if tail else "")
            )
            return
        self._run.version = str(payload.get("version") or self._run.version)
        self._run.warnings.extend(describe_errors(payload.get("errors") or []))
        self._run.findings.extend(findings_from_json(self.root, payload.get("results") or []))

    def wait(self) -> SemgrepRun:
        while self._process is not None:
            self._collect()
            self._launch_next()
        self._run.seconds = time.perf_counter() - self._started
        self._run.findings.sort(key=lambda f: (f.path, f.start_line, f.start_col, f.rule_id))
        return self._run

    def cancel(self) -> None:
        self._pending = []
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        if self._output is not None:
            self._output.close()
            self._output = None


def start_semgrep(root: Path, paths: Sequence[str], options: ScanOptions) -> SemgrepHandle:
    """Launch Semgrep on ``paths`` (relative to ``root``) and return without waiting."""
    return SemgrepHandle(root, paths, options)


def run_semgrep(root: Path, paths: Sequence[str], options: ScanOptions) -> SemgrepRun:
    """Run Semgrep with our rule pack on ``paths`` (relative to ``root``); never raises."""
    return start_semgrep(root, paths, options).wait()


def describe_errors(errors: Sequence[Any]) -> list[str]:
    """One readable warning per Semgrep error (timeouts, parse errors, rule problems)."""
    warnings: list[str] = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        kind = str(error.get("type") or "error")
        if isinstance(error.get("type"), list):
            kind = str(error["type"][0])
        where = str(error.get("path") or "")
        spans = error.get("spans") or []
        if where and spans and isinstance(spans[0], dict):
            where += f":{spans[0].get('start', {}).get('line', '?')}"
        rule = f" (rule {_rule_id(str(error['rule_id']))})" if error.get("rule_id") else ""
        message = " ".join(str(error.get("message") or "").split())[:300]
        warnings.append(f"{kind}{rule}" + (f" in {where}" if where else "") + f": {message}")
    return warnings


def _rule_id(check_id: str) -> str:
    # Semgrep prefixes ids with the config directory path ("scanners.semgrep.rules.async.x").
    return check_id.rsplit(".", 1)[-1]


def _severity(metadata: Mapping[str, Any], semgrep_severity: str, category_id: str) -> Severity:
    declared = metadata.get("severity")
    if isinstance(declared, str):
        try:
            return Severity.parse(declared)
        except ValueError:
            pass
    if category_id in CATEGORIES:
        return CATEGORIES[category_id].severity
    return _SEMGREP_SEVERITY.get(semgrep_severity.upper(), Severity.MEDIUM)


class _SourceCache:
    """Lines and enclosing-scope indexes of the files that have results, read once each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str]] = {}
        self._scopes: dict[str, EnclosingIndex] = {}

    def lines(self, path: str) -> list[str]:
        if path not in self._lines:
            try:
                text = (self.root / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines[path] = text.splitlines()
        return self._lines[path]

    def enclosing(self, path: str, line: int) -> str:
        if path not in self._scopes:
            self._scopes[path] = EnclosingIndex.from_source("\n".join(self.lines(path)))
        return self._scopes[path].qualname_at(line)


def findings_from_json(root: Path, results: Sequence[Any]) -> list[Finding]:
    """Map Semgrep JSON results to ``Finding``s using our rule metadata.

    Results of rules marked ``service_code_only`` are dropped in off-loop files (tests, scripts,
    migrations): the service never runs that code (the engine skips it the same way).
    """
    sources = _SourceCache(root)
    findings: list[Finding] = []
    for result in results:
        if not isinstance(result, dict):
            continue
        extra = result.get("extra") or {}
        metadata = extra.get("metadata") or {}
        start, end = result.get("start") or {}, result.get("end") or {}
        path = Path(str(result.get("path", ""))).as_posix()
        if Path(path).is_absolute():
            with contextlib.suppress(ValueError):
                path = Path(path).relative_to(root).as_posix()
        if metadata.get("service_code_only") and is_offloop_path(path):
            # Tests, scripts and migrations never run on the service's loop (the catalog's
            # definition, shared with the engine through is_offloop_path).
            continue
        line = int(start.get("line") or 1)
        rule_id = _rule_id(str(result.get("check_id", "semgrep")))
        category_id = str(metadata.get("category") or rule_id)
        lines = sources.lines(path)
        snippet = lines[line - 1] if 0 < line <= len(lines) else ""
        references = metadata.get("references") or []
        remediation = str(metadata.get("remediation") or "")
        if not remediation and category_id in CATEGORIES:
            remediation = CATEGORIES[category_id].remediation
        message = " ".join(str(extra.get("message") or "").split())
        findings.append(
            Finding(
                rule_id=rule_id,
                category=category_id,
                severity=_severity(metadata, str(extra.get("severity") or ""), category_id),
                title=str(metadata.get("title") or message.split(". ")[0][:120]),
                message=message,
                path=path,
                start_line=line,
                start_col=int(start.get("col") or 1),
                end_line=int(end.get("line") or line),
                end_col=int(end.get("col") or 0),
                enclosing=sources.enclosing(path, line),
                snippet=snippet,
                remediation=remediation,
                confidence=str(metadata.get("confidence") or "medium").lower(),
                source="semgrep",
                properties={"references": [str(r) for r in references]} if references else {},
            )
        )
    return findings
