"""Dependency manifests of a project: requirements files, ``pyproject.toml`` and ``Pipfile``.

Reads each file into the requirements it declares (name, version specifier, line), so a check can
tell pinned from floating ones. Parsing follows pip's requirements-file format and PEP 508/621
(through ``packaging``), PEP 735 dependency groups, uv's and Poetry's tables and Pipfile. A file
that cannot be read or parsed is reported as such, never fatal.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from scanners.project.discovery import walk_project
from scanners.project.model import Project

REQUIREMENTS_NAME = re.compile(r"^(?:.*[-_.])?requirements(?:[-_.][\w.-]*)?\.(?:txt|in)$|^.*\.pip$")
MANIFEST_NAMES = frozenset({"pyproject.toml", "Pipfile"})
# A lock file next to a manifest (or in a folder above it, for workspaces) pins the resolution.
LOCK_FILE_NAMES = frozenset(
    {
        "uv.lock",
        "poetry.lock",
        "pdm.lock",
        "Pipfile.lock",
        "pylock.toml",
        "conda-lock.yml",
        "requirements.lock",  # rye
        "requirements-dev.lock",
    }
)
# `requirements/base.txt`, `requirements/prod.in`: every requirements file of such a folder.
REQUIREMENTS_FOLDERS = frozenset({"requirements", "reqs"})
_REQUIREMENTS_SUFFIXES = (".txt", ".in")
_COMMENT = re.compile(r"(^|\s)#.*$")
_POETRY_EXACT = re.compile(r"^\s*=?=?\s*\d[\w.+!-]*\s*$")  # Poetry: "1.2.3" or "==1.2.3" is exact


@dataclass(frozen=True)
class Declared:
    """One declared requirement: ``text`` as written, its line, and whether it is pinned."""

    name: str
    text: str
    line: int
    pinned: bool


@dataclass
class Manifest:
    path: str  # posix, relative to the scan root
    requirements: list[Declared] = field(default_factory=list)
    constrained: bool = False  # `-c constraints.txt` or `--hash`: pip installs fixed versions
    error: str = ""

    @property
    def unpinned(self) -> list[Declared]:
        return [r for r in self.requirements if not r.pinned]


def project_manifests(project: Project) -> tuple[list[Manifest], set[str]]:
    """The project's manifests and the folders (posix, relative) holding a lock file."""
    return project.memo("dependency-manifests", lambda: _collect(project))


def _collect(project: Project) -> tuple[list[Manifest], set[str]]:
    manifests: list[Manifest] = []
    locked_dirs: set[str] = set()
    for directory, rel_dir, filenames in walk_project(project.root, project.exclude):
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name in LOCK_FILE_NAMES:
                locked_dirs.add(rel_dir)
            elif name in MANIFEST_NAMES or _is_requirements_file(rel_dir, name):
                manifests.append(read_manifest(directory / name, rel))
    return manifests, locked_dirs


def _is_requirements_file(rel_dir: str, name: str) -> bool:
    if REQUIREMENTS_NAME.match(name):
        return True
    folder = rel_dir.rpartition("/")[2]
    return folder in REQUIREMENTS_FOLDERS and name.endswith(_REQUIREMENTS_SUFFIXES)


def read_manifest(path: Path, rel: str) -> Manifest:
    manifest = Manifest(rel)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        manifest.error = f"unreadable: {exc}"
        return manifest
    name = path.name
    try:
        if name == "pyproject.toml":
            _read_pyproject(text, manifest)
        elif name == "Pipfile":
            _read_pipfile(text, manifest)
        else:
            _read_requirements(text, manifest)
    except tomllib.TOMLDecodeError as exc:
        manifest.error = f"invalid TOML: {exc}"
    return manifest


# -- requirements files (pip's format) ------------------------------------------------------------
def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with comments removed and backslash continuations joined, with their first line."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield start, (pending + line).strip()
        pending = ""
    if pending.strip():
        yield start, pending.strip()


def _read_requirements(text: str, manifest: Manifest) -> None:
    for number, line in _logical_lines(text):
        if not line:
            continue
        if "--hash" in line or line.startswith(("-c", "--constraint", "--require-hashes")):
            manifest.constrained = True
        if line.startswith("-"):  # -r other.txt, -e ., --index-url ...: not a requirement
            continue
        requirement_text = line.split(" --", 1)[0].split(";", 1)[0].strip()
        declared = _declared(requirement_text, number)
        if declared is not None:
            manifest.requirements.append(declared)


def _declared(text: str, line: int) -> Declared | None:
    """A PEP 508 requirement; URLs and local paths name one artifact, so they count as pinned."""
    if "://" in text or text.startswith((".", "/")):
        return Declared(text, text, line, pinned=True)
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    if requirement.url:
        return Declared(requirement.name, text, line, pinned=True)
    specifiers = list(requirement.specifier)
    pinned = any(s.operator in {"==", "==="} and "*" not in s.version for s in specifiers)
    return Declared(requirement.name, text, line, pinned)


# -- pyproject.toml ------------------------------------------------------------------------------
def _read_pyproject(text: str, manifest: Manifest) -> None:
    data = tomllib.loads(text)
    lines = text.splitlines()
    strings: list[str] = []
    project = _table(data.get("project"))
    strings += _string_list(project.get("dependencies"))
    for group in _table(project.get("optional-dependencies")).values():
        strings += _string_list(group)
    for group in _table(data.get("dependency-groups")).values():
        strings += _string_list(group)  # {include-group = ...} entries are not strings
    uv = _table(_table(data.get("tool")).get("uv"))
    strings += _string_list(uv.get("dev-dependencies"))
    for text_requirement in strings:
        declared = _declared(text_requirement, _line_of_string(lines, text_requirement))
        if declared is not None:
            manifest.requirements.append(declared)
    poetry = _table(_table(data.get("tool")).get("poetry"))
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    tables += [_table(g).get("dependencies") for g in _table(poetry.get("group")).values()]
    for table in tables:
        for name, spec in _table(table).items():
            if name.lower() == "python":
                continue
            manifest.requirements.append(_poetry_declared(name, spec, lines))


def _poetry_declared(name: str, spec: Any, lines: list[str]) -> Declared:
    line = _line_of_key(lines, name)
    if isinstance(spec, dict):
        if any(key in spec for key in ("git", "path", "url")):
            pinned = "path" in spec or "url" in spec or any(k in spec for k in ("rev", "tag"))
            return Declared(name, f"{name} = {spec}", line, pinned)
        spec = spec.get("version", "*")
    version = str(spec)
    return Declared(name, f"{name} = {version!r}", line, bool(_POETRY_EXACT.match(version)))


# -- Pipfile --------------------------------------------------------------------------------------
def _read_pipfile(text: str, manifest: Manifest) -> None:
    data = tomllib.loads(text)
    lines = text.splitlines()
    for section in ("packages", "dev-packages"):
        for name, spec in _table(data.get(section)).items():
            version = spec.get("version", "*") if isinstance(spec, dict) else spec
            if isinstance(spec, dict) and any(k in spec for k in ("git", "path", "file")):
                pinned = "ref" in spec or "path" in spec or "file" in spec
            else:
                pinned = str(version).strip().startswith("==") and "*" not in str(version)
            manifest.requirements.append(
                Declared(name, f"{name} = {version!r}", _line_of_key(lines, name), pinned)
            )


# -- helpers ---------------------------------------------------------------------------------------
def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string_list(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _line_of_string(lines: list[str], value: str) -> int:
    for quoted in (f'"{value}"', f"'{value}'"):
        for number, line in enumerate(lines, start=1):
            if quoted in line:
                return number
    return 1


def _line_of_key(lines: list[str], key: str) -> int:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return 1
