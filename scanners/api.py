"""The engine's entry point: ``scan(root, options) -> ScanResult``.

Stages: build the project model (discover, summarize in a process pool, link), run the
registered detectors, run Semgrep when enabled and available, merge, rank by blast radius and
fingerprint.
"""

from __future__ import annotations

import importlib
import platform
import time
from pathlib import Path

from scanners.detectors.registry import run_detectors
from scanners.findings import Finding, ScanOptions, ScanResult
from scanners.fingerprint import assign_fingerprints
from scanners.project.build import build_project, gc_paused
from scanners.ranking import rank

ENGINE_VERSION = "0.2.0"

# Share of the progress bar per stage.
_PROGRESS = {"parse": (0.0, 60.0), "analyse": (60.0, 85.0), "semgrep": (85.0, 98.0)}


def _run_semgrep(
    root: Path, paths: list[str], options: ScanOptions, result: ScanResult
) -> list[Finding]:
    """Semgrep with our rule pack, when its runner is installed; its problems are warnings."""
    try:
        runner = importlib.import_module("scanners.semgrep.runner")
    except ImportError:
        result.warnings.append("semgrep: runner not available in this build; skipped")
        return []
    run = runner.run_semgrep(root, paths, options)
    result.warnings.extend(f"semgrep: {warning}" for warning in run.warnings)
    if run.version:
        result.versions["semgrep"] = run.version
    result.timings["semgrep"] = run.seconds
    findings: list[Finding] = list(run.findings)
    return findings


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

    outcome = build_project(root, options, report)
    project = outcome.project
    result.skipped = outcome.skipped
    result.timings.update(outcome.timings)

    stage_started = time.perf_counter()
    with gc_paused():
        findings, failures = run_detectors(project)
    result.warnings.extend(f"detector {f.rule_id} failed: {f.error}" for f in failures)
    result.timings["detectors"] = time.perf_counter() - stage_started
    report("analyse", 1.0)

    semgrep: list[Finding] = []
    if options.semgrep:
        paths = sorted(module.path for module in project.modules.values())
        semgrep = _run_semgrep(root, paths, options, result)
        report("semgrep", 1.0)
    findings = _merge(findings, semgrep)

    result.findings = rank(findings)
    assign_fingerprints(result.findings)
    result.stats = {
        "files": len(project.modules),
        "lines": outcome.lines,
        "skipped": len(result.skipped),
        **project.stats(),
        "findings": len(result.findings),
    }
    result.timings["total"] = time.perf_counter() - started
    options.report("done", 100.0)
    return result
