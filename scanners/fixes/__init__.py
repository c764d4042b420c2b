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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from scanners.findings import Finding
from scanners.fixes import async_fixes, pydantic_fixes, response_leak  # noqa: F401 (registers)
from scanners.fixes.edits import unified_diff
from scanners.fixes.registry import FIXERS, FixRequest

__all__ = ["attach_fixes", "fix_files", "fix_text"]


def fix_files(
    finding: Finding,
    source: str,
    siblings: Sequence[Finding] = (),
    tree: ast.Module | None = None,
    *,
    everywhere: Sequence[Finding] = (),
    project_files: Callable[[], Mapping[str, str]] = dict,
) -> dict[str, str] | None:
    """The new text of every file the fix changes (the finding's file first), or ``None``.

    ``tree`` is ``source`` parsed, when the caller has it (fixers never modify it).
    """
    fixer = FIXERS.get(finding.category)
    if fixer is None:
        return None
    try:
        if tree is None:
            tree = ast.parse(source)
        request = FixRequest(
            finding,
            source,
            tree,
            tuple(siblings) or (finding,),
            tuple(everywhere) or (finding,),
            project_files,
        )
        fixed = fixer(request)
        if fixed is None:
            return None
        changed = {finding.path: fixed} if isinstance(fixed, str) else fixed
        originals = project_files() if set(changed) - {finding.path} else {}
        changed = {
            path: text
            for path, text in changed.items()
            if text != (source if path == finding.path else originals.get(path))
        }
        if finding.path not in changed or any(
            path != finding.path and path not in originals for path in changed
        ):
            return None
        for text in changed.values():
            ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return None
    except Exception:  # a broken fixer loses its fix, never the scan
        return None
    return changed


def fix_text(
    finding: Finding,
    source: str,
    siblings: Sequence[Finding] = (),
    tree: ast.Module | None = None,
    *,
    everywhere: Sequence[Finding] = (),
) -> str | None:
    """The fixed text of the finding's file, or ``None`` when no fixer can fix it."""
    changed = fix_files(finding, source, siblings, tree, everywhere=everywhere)
    return None if changed is None else changed[finding.path]


# Folders no service code lives in.
_SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".tox"})
_MAX_FILE_BYTES = 1024 * 1024


def _python_files(root: Path) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(part in _SKIPPED_DIRS for part in relative.parts[:-1]):
            continue
        try:
            if path.stat().st_size > _MAX_FILE_BYTES:
                continue
            files[relative.as_posix()] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
    return files


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
    cache: list[dict[str, str]] = []

    def project_files() -> Mapping[str, str]:
        # Read once, and only when a fixer looks beyond the finding's file.
        if not cache:
            cache.append(_python_files(root))
        return cache[0]

    attached = 0
    for path, in_file in wanted.items():
        try:
            source = (root / path).read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue
        for finding in in_file:
            siblings = [f for f in in_file if f.category == finding.category]
            everywhere = by_category[finding.category]
            changed = fix_files(
                finding, source, siblings, tree, everywhere=everywhere, project_files=project_files
            )
            if changed is None:
                continue
            originals = {path: source}
            if len(changed) > 1:
                originals.update(project_files())
            finding.suggested_fix = "".join(
                unified_diff(changed_path, originals[changed_path], text)
                for changed_path, text in changed.items()
            )
            attached += 1
    return attached
