"""Fixers: functions that turn a finding and its file's text into the fixed text.

A fixer is registered for a catalog category with ``@fixer(CATEGORY)``. It receives a
``FixRequest`` (the finding, the file's text and parsed tree, and the other findings of the same
category in that file and in the whole scan, and the scan's other files on demand) and returns
the whole new text of the file (or of each file it changes), or ``None`` when it cannot fix this
case. ``scanners.fixes.attach_fixes`` turns the new text into
a unified diff, and keeps it only when the result still parses.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from scanners.findings import Finding


@dataclass(frozen=True)
class FixRequest:
    finding: Finding
    source: str
    tree: ast.Module
    # Findings of the same category in the same file (the finding itself included).
    siblings: Sequence[Finding]
    # Findings of the same category anywhere in the scan (the finding itself included).
    everywhere: Sequence[Finding] = ()
    # The scan's Python files (path relative to the root -> text), read on first call.
    project_files: Callable[[], Mapping[str, str]] = field(default=lambda: {})


# The new text of the finding's file, or of several files ({relative path: new text}).
Fixer = Callable[[FixRequest], str | dict[str, str] | None]

FIXERS: dict[str, Fixer] = {}


def fixer(category: str) -> Callable[[Fixer], Fixer]:
    """Register ``function`` as the fixer of ``category`` (one fixer per category)."""

    def register(function: Fixer) -> Fixer:
        if category in FIXERS:
            raise ValueError(f"fixer for {category} registered twice")
        FIXERS[category] = function
        return function

    return register
