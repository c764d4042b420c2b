"""Generated fixes: ``Finding.suggested_fix`` as a unified diff against the scanned file.

After detection, ``attach_fixes(findings, root)`` runs the fixer registered for each finding's
category (``scanners.fixes.registry``) on the file's text. A fix is kept only when it changes the
file and the result still parses, so every diff applies with ``git apply`` (paths ``a/<rel>`` and
``b/<rel>``, relative to the scan root) and leaves valid Python. Each diff is made against the
original file: two fixes of one file are alternatives to apply one at a time, rescanning between.
A fixer that cannot fix a case returns nothing; one that raises is ignored.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from scanners.findings import Finding
from scanners.fixes import async_fixes, pydantic_fixes, response_leak  # noqa: F401 (registers)
from scanners.fixes.edits import unified_diff
from scanners.fixes.registry import FIXERS, FixRequest

__all__ = ["attach_fixes", "fix_text"]


def fix_text(
    finding: Finding,
    source: str,
    siblings: Sequence[Finding] = (),
    tree: ast.Module | None = None,
    everywhere: Sequence[Finding] = (),
) -> str | None:
    """The fixed text of the finding's file, or ``None`` when no fixer can fix it.

    ``tree`` is ``source`` parsed, when the caller has it (fixers never modify it).
    """
    fixer = FIXERS.get(finding.category)
    if fixer is None:
        return None
    try:
        if tree is None:
            tree = ast.parse(source)
        request = FixRequest(
            finding, source, tree, tuple(siblings) or (finding,), tuple(everywhere) or (finding,)
        )
        fixed = fixer(request)
        if fixed is None or fixed == source:
            return None
        ast.parse(fixed)
    except (SyntaxError, ValueError, RecursionError):
        return None
    except Exception:  # a broken fixer loses its fix, never the scan
        return None
    return fixed


def attach_fixes(findings: Sequence[Finding], root: Path) -> int:
    """Fill ``suggested_fix`` of the findings a fixer can fix; returns how many got one."""
    wanted: dict[str, list[Finding]] = defaultdict(list)
    by_category: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_category[finding.category].append(finding)
    for finding in findings:
        if (
            not finding.suggested_fix
            and finding.category in FIXERS
            and finding.path.endswith(".py")
        ):
            wanted[finding.path].append(finding)
    attached = 0
    for path, in_file in wanted.items():
        try:
            source = (root / path).read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue
        for finding in in_file:
            siblings = [f for f in in_file if f.category == finding.category]
            fixed = fix_text(finding, source, siblings, tree, by_category[finding.category])
            if fixed is not None:
                finding.suggested_fix = unified_diff(path, source, fixed)
                attached += 1
    return attached
