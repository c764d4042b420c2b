"""Text edits located by AST positions, import insertion, and the unified diff of a fix."""

from __future__ import annotations

import ast
import difflib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` with ``text`` (character offsets)."""

    start: int
    end: int
    text: str


# AST nodes with a source span.
Located = ast.expr | ast.stmt | ast.keyword | ast.arg


class LineIndex:
    """Maps AST positions (1-based line, UTF-8 byte column) to character offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts: list[int] = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line)
        self.starts.append(offset)

    def offset(self, lineno: int, col_bytes: int) -> int:
        if lineno - 1 >= len(self.lines):
            return len(self.source)
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col_bytes].decode("utf-8"))

    def line_start(self, lineno: int) -> int:
        return self.starts[min(lineno - 1, len(self.starts) - 1)]

    def line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else ""

    def start(self, node: Located) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: Located) -> int:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.offset(node.end_lineno, node.end_col_offset)

    def text(self, node: Located) -> str:
        return self.source[self.start(node) : self.end(node)]

    def indent_of(self, lineno: int) -> str:
        line = self.line_text(lineno)
        return line[: len(line) - len(line.lstrip())]


def apply_edits(source: str, edits: Iterable[Edit]) -> str | None:
    """The source with every edit applied; ``None`` when two edits overlap."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    parts: list[str] = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor:
            return None
        parts.append(source[cursor : edit.start])
        parts.append(edit.text)
        cursor = edit.end
    parts.append(source[cursor:])
    return "".join(parts)


def unified_diff(path: str, old: str, new: str) -> str:
    """A ``git apply``-able diff of ``path`` (relative to the scan root) from ``old`` to ``new``."""
    lines: list[str] = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            # The last line of a file without a final newline.
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def module_bindings(tree: ast.Module) -> dict[str, str]:
    """Top-level imported names and what they are bound to (``"pydantic.Field"``, ``"time"``)."""
    bound: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = top
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            for alias in statement.names:
                bound[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
    return bound


def defined_names(tree: ast.Module) -> set[str]:
    """Every name the module binds at top level (imports, defs, classes, assignments)."""
    names = set(module_bindings(tree))
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(statement, ast.ImportFrom) and statement.level:
            names.update(alias.asname or alias.name for alias in statement.names)
    return names


def _import_anchor(tree: ast.Module, index: LineIndex) -> int:
    """Where a new import line goes: before the first import that is not ``__future__``,
    else after the docstring and ``__future__`` imports."""
    after = 0
    for position, statement in enumerate(tree.body):
        is_docstring = (
            position == 0
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        if (
            isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        ) or is_docstring:
            after = index.line_start((statement.end_lineno or statement.lineno) + 1)
        elif isinstance(statement, ast.Import | ast.ImportFrom):
            return index.line_start(statement.lineno)
        else:
            break
    return after


def import_edits(
    tree: ast.Module, index: LineIndex, wanted: Iterable[tuple[str, str]]
) -> list[Edit] | None:
    """Edits importing each ``(module, name)`` not bound yet (``name`` empty: ``import module``).

    A name already imported from its module is left alone. A name the module binds to something
    else cannot be imported without shadowing it: ``None``.
    """
    bindings = module_bindings(tree)
    names = defined_names(tree)
    new_lines: list[str] = []
    for module, name in wanted:
        if not name:
            if bindings.get(module) == module:
                continue
            if module in names:
                return None
            new_lines.append(f"import {module}\n")
            continue
        target = f"{module}.{name}"
        if bindings.get(name) == target:
            continue
        if name in names:
            return None
        new_lines.append(f"from {module} import {name}\n")
    if not new_lines:
        return []
    anchor = _import_anchor(tree, index)
    # isort order: plain imports first, then by module; stdlib ones above third-party ones.
    ordered = sorted(dict.fromkeys(new_lines), key=lambda t: (t.startswith("from "), t.split()[1]))
    text = "".join(ordered)
    following = next(
        (
            s
            for s in tree.body
            if isinstance(s, ast.Import | ast.ImportFrom) and index.start(s) >= anchor
        ),
        None,
    )
    if following is not None and index.start(following) == anchor:
        module = (
            following.names[0].name
            if isinstance(following, ast.Import)
            else (following.module or "")
            if not following.level
            else "."
        )
        if module.split(".")[0] not in sys.stdlib_module_names:
            text += "\n"
    if anchor and anchor == len(index.source) and not index.source.endswith("\n"):
        text = "\n" + text
    return [Edit(anchor, anchor, text)]


def enclosing_chain(tree: ast.Module, line: int) -> list[ast.AST]:
    """The nodes whose span holds ``line``, outermost first (module excluded)."""
    chain: list[ast.AST] = []
    node: ast.AST = tree
    while True:
        inner = None
        for child in ast.iter_child_nodes(node):
            start = getattr(child, "lineno", None)
            end = getattr(child, "end_lineno", None)
            if start is None or end is None:
                continue
            first = start
            decorators = getattr(child, "decorator_list", None)
            if decorators:
                first = min(first, *(d.lineno for d in decorators))
            if first <= line <= end:
                inner = child
                break
        if inner is None:
            return chain
        chain.append(inner)
        node = inner


def _import_sort_key(name: str) -> tuple[int, str]:
    # isort's order-by-type: CONSTANTS, then Classes, then functions and modules.
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def from_import_edits(
    tree: ast.Module, index: LineIndex, module: str, add: Iterable[str], remove: Iterable[str] = ()
) -> list[Edit] | None:
    """Import ``add`` from ``module`` and drop ``remove`` from its imports.

    Rewrites the first plain ``from module import ...`` statement (no aliases, no comments);
    without one, adds a new import line. ``None`` when a name to add is bound to something else.
    """
    bindings = module_bindings(tree)
    names = defined_names(tree)
    to_add = [n for n in dict.fromkeys(add) if bindings.get(n) != f"{module}.{n}"]
    if any(n in names for n in to_add):
        return None
    to_remove = set(remove) - set(add)
    statement = next(
        (
            s
            for s in tree.body
            if isinstance(s, ast.ImportFrom)
            and s.module == module
            and not s.level
            and all(a.asname is None and a.name != "*" for a in s.names)
            and "#" not in index.text(s)
        ),
        None,
    )
    if statement is None:
        if not to_add:
            return []
        return import_edits(tree, index, [(module, n) for n in to_add])
    current = [a.name for a in statement.names]
    wanted = sorted(
        {*current, *to_add} - to_remove,
        key=_import_sort_key,
    )
    if set(wanted) == set(current):
        return []
    if not wanted:
        start = index.line_start(statement.lineno)
        return [Edit(start, index.line_start((statement.end_lineno or statement.lineno) + 1), "")]
    text = f"from {module} import {', '.join(wanted)}"
    indent = index.indent_of(statement.lineno)
    if "\n" in index.text(statement) or len(indent) + len(text) > 100:
        body = "".join(f"{indent}    {name},\n" for name in wanted)
        text = f"from {module} import (\n{body}{indent})"
    return [Edit(index.start(statement), index.end(statement), text)]


def unused_once_replaced(tree: ast.Module, source: str, replaced: ast.AST) -> set[str]:
    """Imported names whose only use is inside ``replaced`` (their import can go with it).

    A name also spelled elsewhere in the text (a string annotation, a comment, ``__all__``)
    is kept: the AST alone cannot prove it unused.
    """
    inside: dict[str, int] = {}
    for node in ast.walk(replaced):
        if isinstance(node, ast.Name):
            inside[node.id] = inside.get(node.id, 0) + 1
    bindings = module_bindings(tree)
    total: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in inside:
            total[node.id] = total.get(node.id, 0) + 1
    unused: set[str] = set()
    for name, count in inside.items():
        if name not in bindings or total.get(name) != count:
            continue
        spelled = len(re.findall(rf"(?<![\w.]){re.escape(name)}(?!\w)", source))
        # The uses being replaced plus the import itself.
        if spelled == count + 1:
            unused.add(name)
    return unused


def drop_module_import(tree: ast.Module, index: LineIndex, name: str) -> list[Edit]:
    """Remove ``import name`` when it is a statement of its own; nothing otherwise."""
    for statement in tree.body:
        if (
            isinstance(statement, ast.Import)
            and len(statement.names) == 1
            and statement.names[0].asname is None
            and statement.names[0].name == name
            and index.line_text(statement.lineno).strip() == f"import {name}"
        ):
            start = index.line_start(statement.lineno)
            return [Edit(start, index.line_start(statement.lineno + 1), "")]
    return []
