"""Detector for DEP-UNPINNED."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from scanners.catalog import category
from scanners.detectors.dependencies.manifests import (
    REQUIREMENTS_FOLDERS,
    Manifest,
    project_manifests,
)
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import Project

CATEGORY = "DEP-UNPINNED"
RULE_ID = "unpinned-dependencies"
SHOWN = 5


@detector(RULE_ID, CATEGORY)
def unpinned_dependencies(project: Project) -> Iterator[Finding]:
    """Dependency file with floating versions and no lock file.

    ## What it does
    Reads `requirements*.txt` (and `.in`, and every `.txt`/`.in` of a `requirements/` folder),
    `pyproject.toml` (`[project]` dependencies and extras, `[dependency-groups]`, uv's
    `dev-dependencies`, Poetry's tables) and `Pipfile`, and reports a file whose requirements
    are not pinned to one version (`==`) when no lock file (`uv.lock`, `poetry.lock`,
    `pdm.lock`, `Pipfile.lock`, `pylock.toml`, rye's `requirements.lock`) sits next to it (or,
    for `pyproject.toml`, in a folder above it: a workspace lock; for a `requirements/` folder,
    next to that folder). Constraint files (`-c`) and hash-checked requirements count as
    pinned, and so does a pip-tools `X.in` compiled into a fully pinned `X.txt`. One finding
    per file, on the first unpinned line.

    ## Why is this bad?
    Every install resolves the newest versions that match: a deploy can pick up a new major
    release of FastAPI, Pydantic or SQLAlchemy that nobody tested, and two machines built a day
    apart run different code. Bugs appear without any commit to explain them.

    ## Example
    ```text
    # requirements.txt
    fastapi
    sqlalchemy>=2.0
    ```

    ## Use instead
    ```text
    # requirements.txt (or keep ranges in pyproject.toml and commit uv.lock / poetry.lock)
    fastapi==0.115.6
    sqlalchemy==2.0.36
    ```
    """
    manifests, locked_dirs = project_manifests(project)
    # fully pinned files: a pip-tools `X.in` compiled into one of them is locked
    compiled = {
        m.path
        for m in manifests
        if m.constrained or (not m.error and m.requirements and not m.unpinned)
    }
    for manifest in manifests:
        if manifest.error or manifest.constrained or not manifest.unpinned:
            continue
        if _locked(manifest, locked_dirs) or _compiled(manifest, compiled):
            continue
        yield _finding(project, manifest)


def _compiled(manifest: Manifest, pinned_paths: set[str]) -> bool:
    """pip-tools: `requirements.in` is compiled into a fully pinned `requirements.txt`, which is
    its lock file."""
    if not manifest.path.endswith(".in"):
        return False
    return manifest.path.removesuffix(".in") + ".txt" in pinned_paths


def _locked(manifest: Manifest, locked_dirs: set[str]) -> bool:
    folder = PurePosixPath(manifest.path).parent
    if _posix(folder) in locked_dirs:
        return True
    if folder.name in REQUIREMENTS_FOLDERS and _posix(folder.parent) in locked_dirs:
        return True  # requirements/base.txt next to the project's lock file
    if PurePosixPath(manifest.path).name != "pyproject.toml":
        return False
    return any(_posix(parent) in locked_dirs for parent in folder.parents)


def _posix(path: PurePosixPath) -> str:
    text = path.as_posix()
    return "" if text == "." else text


def _finding(project: Project, manifest: Manifest) -> Finding:
    unpinned = sorted(manifest.unpinned, key=lambda r: r.line)
    first = unpinned[0]
    names = ", ".join(f"`{r.text}`" for r in unpinned[:SHOWN])
    more = f" and {len(unpinned) - SHOWN} more" if len(unpinned) > SHOWN else ""
    entry = category(CATEGORY)
    total = len(manifest.requirements)
    return Finding(
        rule_id=RULE_ID,
        category=entry.id,
        severity=entry.severity,
        title=entry.summary,
        message=(
            f"{len(unpinned)} of {total} requirements in `{manifest.path}` float ({names}{more})"
            " and no lock file pins them: every install may resolve different versions. Pin"
            " them with `==`, or commit a lock file (`uv lock`, `poetry lock`)"
        ),
        path=manifest.path,
        start_line=first.line,
        snippet=project.source_line(manifest.path, first.line).rstrip(),
        remediation=entry.remediation,
        properties={"unpinned": [r.name for r in unpinned]},
    )
