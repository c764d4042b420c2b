"""Build the project model: discover files, summarize them in a process pool, then link."""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from scanners.findings import ScanOptions, SkippedFile
from scanners.project.discovery import SourceFile, discover, summarize_batch, summarize_file
from scanners.project.model import Project
from scanners.project.summary import ModuleSummary

# Below this many bytes of source the pool's start-up costs more than it saves.
_POOL_MIN_BYTES = 400_000
_BATCH_BYTES = 200_000


@dataclass
class BuildOutcome:
    project: Project
    skipped: list[SkippedFile] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    lines: int = 0


def _batches(files: list[SourceFile]) -> list[list[SourceFile]]:
    # Largest files first so one big file does not finish last on its own.
    ordered = sorted(files, key=lambda f: -f.size)
    batches: list[list[SourceFile]] = []
    current: list[SourceFile] = []
    size = 0
    for source_file in ordered:
        current.append(source_file)
        size += source_file.size
        if size >= _BATCH_BYTES:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _summarize_all(
    files: list[SourceFile], jobs: int, progress: Callable[[float], None]
) -> list[ModuleSummary | SkippedFile]:
    total_bytes = sum(f.size for f in files)
    results: list[ModuleSummary | SkippedFile] = []
    if jobs <= 1 or total_bytes < _POOL_MIN_BYTES or len(files) < 4:
        for index, source_file in enumerate(files):
            results.append(summarize_file(source_file))
            if index % 50 == 0:
                progress(index / max(1, len(files)))
        return results
    batches = _batches(files)
    done = 0
    # fork keeps start-up cheap (the parsing modules are already imported).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        for batch_result in pool.map(summarize_batch, batches):
            results.extend(batch_result)
            done += len(batch_result)
            progress(done / max(1, len(files)))
    return results


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC: the model is millions of small acyclic objects, and generation-2
    collections that walk all of them again and again cost more than building them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_project(
    root: Path,
    options: ScanOptions,
    progress: Callable[[str, float], None] | None = None,
    discovered: tuple[list[SourceFile], list[SkippedFile]] | None = None,
) -> BuildOutcome:
    """Discover and summarize every Python file under ``root`` and link them into a Project.

    ``discovered`` passes the result of ``discover(...)`` when the caller already has it (the
    scan starts Semgrep on the same files before building)."""
    with gc_paused():
        return _build(root, options, progress, discovered)


def discover_sources(
    root: Path, options: ScanOptions
) -> tuple[list[SourceFile], list[SkippedFile]]:
    """The Python files a scan analyses, and those skipped before reading (size, excludes)."""
    return discover(root, options.exclude, options.max_file_bytes)


def _build(
    root: Path,
    options: ScanOptions,
    progress: Callable[[str, float], None] | None,
    discovered: tuple[list[SourceFile], list[SkippedFile]] | None,
) -> BuildOutcome:
    report = progress or (lambda stage, fraction: None)
    timings: dict[str, float] = {}
    if discovered is None:
        started = time.perf_counter()
        discovered = discover_sources(root, options)
        timings["discover"] = time.perf_counter() - started
    files, skipped = discovered[0], list(discovered[1])

    started = time.perf_counter()
    jobs = options.jobs if options.jobs > 0 else (os.cpu_count() or 1)
    results = _summarize_all(files, jobs, lambda fraction: report("parse", fraction))
    modules: list[ModuleSummary] = []
    for result in results:
        if isinstance(result, SkippedFile):
            skipped.append(result)
        else:
            modules.append(result)
    timings["parse"] = time.perf_counter() - started

    started = time.perf_counter()
    project = Project(root, modules)
    project.exclude = options.exclude  # detectors reading non-Python files honour it too
    timings["link"] = time.perf_counter() - started
    skipped.sort(key=lambda s: s.path)
    return BuildOutcome(project, skipped, timings, sum(m.lines for m in modules))
