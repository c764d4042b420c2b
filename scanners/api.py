"""The engine's entry point: ``scan(root, options) -> ScanResult``.

Stages: discover the files; start Semgrep on them in the background (when enabled and
installed); build the project model (summarize in a process pool, link); run the registered
detectors; wait for Semgrep and merge; ingest uploaded artifacts (runtime findings, evidence,
traffic and heat); rank by blast radius; fingerprint.
"""

from __future__ import annotations

import importlib
import platform
import time
from pathlib import Path
from typing import Protocol

from scanners.context import attach_code_context
from scanners.detectors.registry import run_detectors
from scanners.findings import Finding, ScanOptions, ScanResult
from scanners.fingerprint import assign_fingerprints
from scanners.fixes import attach_fixes
from scanners.project.build import build_project, discover_sources, gc_paused
from scanners.project.pydantic_models import pinned_to_pydantic_v1
from scanners.ranking import RuntimeSignals, rank
from scanners.runtime.stage import run_ingest_stage

ENGINE_VERSION = "0.2.0"

# Share of the progress bar per stage.
_PROGRESS = {"parse": (0.0, 60.0), "analyse": (60.0, 85.0), "semgrep": (85.0, 98.0)}


class _SemgrepRun(Protocol):
    findings: list[Finding]
    warnings: list[str]
    version: str
    seconds: float


class _SemgrepHandle(Protocol):
    def wait(self) -> _SemgrepRun: ...

    def cancel(self) -> None: ...


def _start_semgrep(
    root: Path, paths: list[str], options: ScanOptions, result: ScanResult
) -> _SemgrepHandle | None:
    """Launch Semgrep with our rule pack in the background, when its runner is installed."""
    try:
        runner = importlib.import_module("scanners.semgrep.runner")
    except ImportError:
        result.warnings.append("semgrep: runner not available in this build; skipped")
        return None
    handle: _SemgrepHandle = runner.start_semgrep(root, paths, options)
    return handle


def _finish_semgrep(handle: _SemgrepHandle | None, result: ScanResult) -> list[Finding]:
    """Wait for Semgrep; its problems become warnings, never failures."""
    if handle is None:
        return []
    run = handle.wait()
    result.warnings.extend(f"semgrep: {warning}" for warning in run.warnings)
    if run.version:
        result.versions["semgrep"] = run.version
    result.timings["semgrep"] = run.seconds
    return list(run.findings)


def _merge(engine: list[Finding], semgrep: list[Finding]) -> list[Finding]:
    if not semgrep:
        return engine
    try:
        merge = importlib.import_module("scanners.merge")
    except ImportError:
        return [*engine, *semgrep]
    merged: list[Finding] = merge.merge_findings(engine, semgrep)
    return merged


def scan(root: Path, options: ScanOptions | None = None) -> ScanResult:
    """Scan the Python service under ``root``. Bad files are skipped, never fatal."""
    options = options or ScanOptions()
    root = root.resolve()
    started = time.perf_counter()
    result = ScanResult(
        root=root,
        versions={"engine": ENGINE_VERSION, "python": platform.python_version()},
    )
    if not root.is_dir():
        result.warnings.append(f"{root} is not a directory; nothing scanned")
        return result

    def report(stage: str, fraction: float) -> None:
        low, high = _PROGRESS[stage]
        options.report(stage, low + (high - low) * fraction)

    stage_started = time.perf_counter()
    discovered = discover_sources(root, options)
    result.timings["discover"] = time.perf_counter() - stage_started
    # Semgrep runs in its own processes while the engine builds the model and runs detectors.
    handle = None
    if options.semgrep:
        handle = _start_semgrep(root, [f.rel for f in discovered[0]], options, result)
    try:
        outcome = build_project(root, options, report, discovered)
        project = outcome.project
        stage_started = time.perf_counter()
        with gc_paused():
            findings, failures = run_detectors(project)
    except BaseException:
        if handle is not None:
            handle.cancel()
        raise
    result.skipped = outcome.skipped
    result.timings.update(outcome.timings)
    result.warnings.extend(f"detector {f.rule_id} failed: {f.error}" for f in failures)
    result.timings["detectors"] = time.perf_counter() - stage_started
    report("analyse", 1.0)

    # Generated patches (suggested_fix) for the engine's findings while Semgrep still runs; the
    # second call below only fixes what Semgrep adds.
    stage_started = time.perf_counter()
    attach_fixes(findings, root)
    result.timings["fixes"] = time.perf_counter() - stage_started
    semgrep = _finish_semgrep(handle, result)
    if any(f.category == "PYD-V1-API" for f in semgrep) and pinned_to_pydantic_v1(root):
        # Pydantic 1.x is the project's pin: its v1 API is the current API there (the engine's
        # own PYD-V1-API checks stay quiet too); a rule pack cannot read the pin.
        semgrep = [f for f in semgrep if f.category != "PYD-V1-API"]
    if options.semgrep:
        report("semgrep", 1.0)
    findings = _merge(findings, semgrep)

    # Artifacts (profiles, load tests, logs): runtime findings, evidence on static findings at
    # the same place, and the traffic/heat signals of the ranking. A bad artifact only fails
    # itself (its outcome carries the error).
    runtime = run_ingest_stage(project, options, findings, result)
    signals = RuntimeSignals(runtime.route_traffic, runtime.function_heat) if runtime else None

    attach_code_context(root, findings)
    stage_started = time.perf_counter()
    attach_fixes(findings, root)
    result.timings["fixes"] += time.perf_counter() - stage_started
    result.findings = rank(findings, signals)
    assign_fingerprints(result.findings)
    result.stats = {
        "files": len(project.modules),
        "lines": outcome.lines,
        "skipped": len(result.skipped),
        **project.stats(),
        "findings": len(result.findings),
        "confirmed_at_runtime": sum(1 for f in result.findings if f.confirmed_at_runtime),
    }
    result.timings["total"] = time.perf_counter() - started
    options.report("done", 100.0)
    return result
