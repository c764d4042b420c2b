"""Scan a directory and print files, lines, seconds, lines/second and peak memory per mode.

Usage: python benchmarks/scan_benchmark.py PATH [--jobs N] [--modes floor,engine,semgrep,whole]

Modes (each runs in a fresh process, so its peak memory is its own):
- floor:   bare ``ast.parse`` of every discovered file on one core (the parsing floor);
- engine:  the custom engine alone, end to end (``scan(..., semgrep=False)``);
- semgrep: Semgrep alone with our rule pack on the same files;
- whole:   the whole scan: engine and Semgrep (concurrently, as ``scan`` runs them).

Peak memory is the peak RSS of the measuring process plus the largest peak RSS among its child
processes (``resource.getrusage`` of self and children): an upper bound of the tree's peak when
children run one at a time, and a close estimate when they overlap. The target checked at the
end: whole scan <= Semgrep alone + 25%.
"""

from __future__ import annotations

import argparse
import ast
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# The repository must be on sys.path before these imports.
from scanners.api import scan  # noqa: E402
from scanners.findings import ScanOptions  # noqa: E402
from scanners.project.build import discover_sources  # noqa: E402
from scanners.semgrep.runner import run_semgrep  # noqa: E402

MODES = ("floor", "engine", "semgrep", "whole")
WHOLE_OVER_SEMGREP_TARGET = 1.25


def _peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024.0  # ru_maxrss is in KiB on Linux


def _discover(root: Path, options: ScanOptions) -> list[str]:
    files, _ = discover_sources(root, options)
    return [f.rel for f in files]


def _count_lines(root: Path, paths: list[str]) -> int:
    total = 0
    for rel in paths:
        with (root / rel).open("rb") as handle:
            total += sum(1 for _ in handle)
    return total


def measure(mode: str, root: Path, jobs: int) -> dict[str, Any]:
    """Run one mode in this process and return its figures."""
    started = time.perf_counter()
    warnings: list[str] = []
    findings = 0
    if mode == "floor":
        paths = _discover(root, ScanOptions(jobs=jobs))
        lines = _count_lines(root, paths)
        parse_started = time.perf_counter()
        for rel in paths:
            source = (root / rel).read_text(encoding="utf-8", errors="replace")
            try:
                ast.parse(source)
            except SyntaxError:
                warnings.append(f"{rel}: not Python 3.11 syntax")
        started = parse_started
        files = len(paths)
    elif mode == "semgrep":
        options = ScanOptions(jobs=jobs)
        paths = _discover(root, options)
        started = time.perf_counter()
        run = run_semgrep(root, paths, options)
        files, lines, findings = len(paths), _count_lines(root, paths), len(run.findings)
        warnings = run.warnings
    else:
        result = scan(root, ScanOptions(jobs=jobs, semgrep=(mode == "whole")))
        files, lines = result.stats.get("files", 0), result.stats.get("lines", 0)
        findings, warnings = len(result.findings), result.warnings
    seconds = time.perf_counter() - started
    return {
        "mode": mode,
        "files": files,
        "lines": lines,
        "seconds": round(seconds, 3),
        "lines_per_second": round(lines / seconds) if seconds > 0 else 0,
        "peak_mib": round(_peak_mib(), 1),
        "findings": findings,
        "warnings": len(warnings),
    }


def run_mode_in_child(mode: str, root: Path, jobs: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, __file__, str(root), "--jobs", str(jobs), "--child", mode],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"mode {mode} failed:\n{completed.stderr}")
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--jobs", type=int, default=0, help="worker processes (0 = CPUs)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    root = args.path.resolve()
    if not root.is_dir():
        parser.error(f"{root} is not a directory")
    if args.child:
        print(json.dumps(measure(args.child, root, args.jobs)))
        return 0
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    rows = [run_mode_in_child(mode, root, args.jobs) for mode in modes]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{root}  (jobs={args.jobs or 'CPUs'})")
    header = f"{'mode':<8} {'files':>6} {'lines':>9} {'seconds':>8} {'lines/s':>9} "
    print(header + f"{'peak MiB':>9} {'findings':>8} {'warnings':>8}")
    for row in rows:
        print(
            f"{row['mode']:<8} {row['files']:>6} {row['lines']:>9} {row['seconds']:>8.2f} "
            f"{row['lines_per_second']:>9} {row['peak_mib']:>9.1f} {row['findings']:>8} "
            f"{row['warnings']:>8}"
        )
    by_mode = {row["mode"]: row for row in rows}
    if "whole" in by_mode and "semgrep" in by_mode and by_mode["semgrep"]["seconds"] > 0:
        ratio = by_mode["whole"]["seconds"] / by_mode["semgrep"]["seconds"]
        verdict = "meets" if ratio <= WHOLE_OVER_SEMGREP_TARGET else "misses"
        print(
            f"whole / semgrep alone = {ratio:.2f} ({verdict} the target of "
            f"<= {WHOLE_OVER_SEMGREP_TARGET:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
