"""File discovery, module names, and the per-file job that the process pool runs."""

from __future__ import annotations

import fnmatch
import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scanners.findings import SkippedFile
from scanners.parsing import parse_python
from scanners.project.extract import summarize_module
from scanners.project.summary import ModuleSummary

# Directories that never hold the service's own code.
SKIP_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        "env",
        ".env",
        "virtualenv",
        ".tox",
        ".nox",
        "node_modules",
        "site-packages",
        "dist-packages",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cache",
        "build",
        "dist",
        ".eggs",
        ".idea",
        ".vscode",
        "htmlcov",
        ".pybuild",
        ".direnv",
    }
)


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # posix, relative to the scanned root
    module: str
    is_package: bool
    size: int


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def _excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    pure = PurePosixPath(rel)
    for pattern in patterns:
        if fnmatch.fnmatch(rel, pattern) or pure.match(pattern):
            return True
        # "legacy/**" and "legacy/" exclude the whole folder.
        stripped = pattern.rstrip("/").removesuffix("/**")
        if stripped and (rel == stripped or rel.startswith(stripped + "/")):
            return True
    return False


def module_name(rel: str, package_dirs: set[str]) -> tuple[str, bool]:
    """Dotted module name for a file, as the service imports it.

    ``package_dirs`` holds the posix dirs (relative to the root) that contain ``__init__.py``.
    Inside a regular package the name runs from the top of the package chain, so
    ``src/app/x.py`` in package ``app`` is ``app.x``. A file whose folder is not a package
    (namespace packages, scripts) is named by its whole path, without a leading ``src``.
    """
    parts = rel[:-3].split("/")  # strip .py
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    dirs = parts if is_package else parts[:-1]
    start = package_top(dirs, package_dirs)
    if start == len(dirs) and not is_package:
        name_parts = parts[1:] if parts[0] == "src" and len(parts) > 1 else parts
    else:
        name_parts = parts[start:]
    return ".".join(name_parts), is_package


def package_top(dirs: list[str], package_dirs: set[str]) -> int:
    """Index of the outermost folder of the chain of regular packages holding ``dirs[-1]``."""
    start = len(dirs)
    while start > 0 and "/".join(dirs[:start]) in package_dirs:
        start -= 1
    return start


def walk_project(root: Path, exclude: tuple[str, ...]) -> Iterator[tuple[Path, str, list[str]]]:
    """``(folder, its posix path relative to root, its file names)`` for every folder a scan
    looks into: tool, cache and virtualenv folders and ``exclude`` globs are pruned."""
    for dirpath, dirnames, filenames in os.walk(root):
        directory = Path(dirpath)
        rel_dir = directory.relative_to(root).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        kept = []
        for name in sorted(dirnames):
            child_rel = f"{rel_dir}/{name}" if rel_dir else name
            if name in SKIP_DIR_NAMES or name.endswith(".egg-info"):
                continue
            if _is_virtualenv(directory / name) or _excluded(child_rel, exclude):
                continue
            kept.append(name)
        dirnames[:] = kept
        yield directory, rel_dir, filenames


def discover(
    root: Path, exclude: tuple[str, ...], max_bytes: int
) -> tuple[list[SourceFile], list[SkippedFile]]:
    """All ``.py`` files under ``root`` except tool, cache and virtualenv folders."""
    found: list[tuple[Path, str, int]] = []
    skipped: list[SkippedFile] = []
    package_dirs: set[str] = set()
    for directory, rel_dir, filenames in walk_project(root, exclude):
        if "__init__.py" in filenames and rel_dir:
            package_dirs.add(rel_dir)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if _excluded(rel, exclude):
                continue
            path = directory / name
            try:
                size = path.stat().st_size
            except OSError as exc:
                skipped.append(SkippedFile(rel, f"unreadable: {exc.strerror or exc}"))
                continue
            if size > max_bytes:
                skipped.append(SkippedFile(rel, f"larger than {max_bytes} bytes ({size} bytes)"))
                continue
            found.append((path, rel, size))
    files = []
    for path, rel, size in found:
        module, is_package = module_name(rel, package_dirs)
        files.append(SourceFile(path, rel, module, is_package, size))
    return files, skipped


def summarize_file(source_file: SourceFile) -> ModuleSummary | SkippedFile:
    """The per-file job: read, parse, summarize. Never raises for bad input."""
    try:
        data = source_file.path.read_bytes()
    except OSError as exc:
        return SkippedFile(source_file.rel, f"unreadable: {exc.strerror or exc}")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SkippedFile(source_file.rel, f"not UTF-8 (byte {exc.start})")
    if "\x00" in source:
        return SkippedFile(source_file.rel, "binary content (NUL byte)")
    try:
        tree = parse_python(source, source_file.rel)
    except SyntaxError as exc:
        return SkippedFile(source_file.rel, f"syntax error at line {exc.lineno}: {exc.msg}")
    except (ValueError, RecursionError, MemoryError) as exc:
        return SkippedFile(source_file.rel, f"cannot parse: {type(exc).__name__}")
    lines = source.count("\n") + (0 if source.endswith("\n") or not source else 1)
    try:
        return summarize_module(
            tree, source_file.rel, source_file.module, source_file.is_package, lines
        )
    except RecursionError:
        return SkippedFile(source_file.rel, "too deeply nested to analyse")


def summarize_batch(batch: list[SourceFile]) -> list[ModuleSummary | SkippedFile]:
    """A worker's job. The cyclic GC is off: ASTs and summaries hold no reference cycles, and
    collections that walk every live node cost more than the parse itself."""
    gc.disable()
    return [summarize_file(source_file) for source_file in batch]
