"""Pack the working tree into a tar.gz: the files git tracks, or, outside a git checkout, the
directory minus what ``.gitignore`` ignores and the usual virtualenv/cache folders."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Never worth uploading, whether or not a .gitignore says so.
ALWAYS_SKIPPED_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", "env", ".env", "node_modules", "__pycache__",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", ".cache", "site-packages",
        ".idea", ".vscode", "dist", "build",
    }
)  # fmt: skip


@dataclass(frozen=True)
class PackedArchive:
    path: Path
    files: int
    bytes: int  # size of the compressed archive


@dataclass(frozen=True)
class _IgnoreRule:
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


def _glob_to_regex(pattern: str) -> str:
    """Translate one gitignore glob (``**`` aware) into a regex over posix relative paths."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif pattern.startswith("/**", index) and index + 3 == len(pattern):
            out.append("/.*")
            index += 3
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end == -1:
                out.append(re.escape(char))
                index += 1
            else:
                out.append(fnmatch.translate(pattern[index : end + 1])[4:-3])
                index = end + 1
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def parse_gitignore(text: str) -> list[_IgnoreRule]:
    rules: list[_IgnoreRule] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:]
        directory_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _glob_to_regex(line)
        regex = f"^{body}$" if anchored else f"^(?:.*/)?{body}$"
        rules.append(_IgnoreRule(re.compile(regex), negated, directory_only))
    return rules


def is_ignored(rules: list[_IgnoreRule], rel_path: str, is_dir: bool) -> bool:
    """Last matching rule wins, as in git."""
    ignored = False
    for rule in rules:
        if rule.directory_only and not is_dir:
            continue
        if rule.regex.match(rel_path):
            ignored = not rule.negated
    return ignored


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files; None when ``root`` is not in a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    names = [name for name in completed.stdout.decode("utf-8", "replace").split("\0") if name]
    return [name for name in names if (root / name).is_file() and not (root / name).is_symlink()]


def _walk_files(root: Path) -> list[str]:
    rules = []
    gitignore = root / ".gitignore"
    if gitignore.is_file():
        rules = parse_gitignore(gitignore.read_text(encoding="utf-8", errors="replace"))
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        folder = Path(dirpath)
        rel_dir = folder.relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        dirnames[:] = sorted(
            name
            for name in dirnames
            if name not in ALWAYS_SKIPPED_DIRS
            and not (folder / name).is_symlink()
            and not is_ignored(rules, prefix + name, is_dir=True)
        )
        for name in sorted(filenames):
            full = folder / name
            if full.is_symlink() or not full.is_file():
                continue
            if not is_ignored(rules, prefix + name, is_dir=False):
                found.append(prefix + name)
    return found


def list_files(root: Path) -> list[str]:
    files = _git_files(root)
    if files is None:
        files = _walk_files(root)
    return sorted(name for name in files if not set(name.split("/")[:-1]) & ALWAYS_SKIPPED_DIRS)


def pack(root: Path, destination_dir: Path | None = None) -> PackedArchive:
    """Write ``source.tar.gz`` of ``root``'s files into a temp dir; the caller removes it."""
    root = root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    files = list_files(root)
    if not files:
        raise ValueError(f"nothing to upload: no files found under {root}")
    folder = destination_dir or Path(tempfile.mkdtemp(prefix="audit-ci-"))
    archive = folder / "source.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        for name in files:
            tar.add(root / name, arcname=name, recursive=False)
    return PackedArchive(path=archive, files=len(files), bytes=archive.stat().st_size)
