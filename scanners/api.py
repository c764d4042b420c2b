"""The engine's entry point: ``scan(root, options) -> ScanResult``.

Minimal first cut (the call boundary): discovers Python files, parses them, and reports
``time.sleep`` written directly inside an ``async def``. The project model, the detector
registry, Semgrep and artifact ingestion plug in here.
"""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path

from scanners.catalog import category
from scanners.findings import Finding, ScanOptions, ScanResult, SkippedFile
from scanners.fingerprint import assign_fingerprints

ENGINE_VERSION = "0.1.0"
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages", "build", "dist"}


def _discover(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        found.extend(Path(dirpath) / name for name in sorted(filenames) if name.endswith(".py"))
    return found


def scan(root: Path, options: ScanOptions | None = None) -> ScanResult:
    options = options or ScanOptions()
    root = root.resolve()
    started = time.perf_counter()
    result = ScanResult(root=root, versions={"engine": ENGINE_VERSION})
    sleep = category("ASYNC-BLOCKING-SLEEP")
    lines = 0
    files = _discover(root)
    for index, file in enumerate(files):
        rel = file.relative_to(root).as_posix()
        try:
            source = file.read_text(encoding="utf-8")
            tree = ast.parse(source, filename=rel)
        except UnicodeDecodeError:
            result.skipped.append(SkippedFile(rel, "not UTF-8"))
            continue
        except SyntaxError as exc:
            result.skipped.append(SkippedFile(rel, f"syntax error at line {exc.lineno}: {exc.msg}"))
            continue
        source_lines = source.splitlines()
        lines += len(source_lines)
        for func in ast.walk(tree):
            if not isinstance(func, ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "sleep"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "time"
                ):
                    result.findings.append(
                        Finding(
                            rule_id="blocking-sleep-in-async",
                            category=sleep.id,
                            severity=sleep.severity,
                            title="time.sleep blocks the event loop",
                            message=f"time.sleep() inside async def {func.name}() blocks the loop.",
                            path=rel,
                            start_line=node.lineno,
                            start_col=node.col_offset + 1,
                            enclosing=func.name,
                            snippet=source_lines[node.lineno - 1],
                            remediation=sleep.remediation,
                        )
                    )
        options.report("analyse", 100.0 * (index + 1) / max(1, len(files)))
    assign_fingerprints(result.findings)
    result.stats = {"files": len(files) - len(result.skipped), "lines": lines}
    result.timings["total"] = time.perf_counter() - started
    return result
