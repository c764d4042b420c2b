"""Build a project model from a dict of files written under a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

from scanners.findings import ScanOptions
from scanners.project import Project, build_project


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def make_project(root: Path, files: dict[str, str], **options: object) -> Project:
    write_tree(root, files)
    return build_project(root, ScanOptions(jobs=1, **options)).project  # type: ignore[arg-type]
