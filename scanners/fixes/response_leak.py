"""Fixer of API-RESPONSE-LEAK: a response model without the sensitive fields.

For a sensitive field of a response model (the finding's ``properties`` name the field and the
``response_model``), the fix adds ``<Model>Out`` (``<Name>PublicOut`` for a ``<Name>Out``) —
the model's own bases and body minus every sensitive field — right after the model, and points
the routes that answer with the model (``response_model=Model``, ``list[Model]``, ...) at it:
those of the same file, and those of other files that import the model by name with
``from <its module> import Model`` (the new name joins that import). When a sensitive field is
inherited, the model is imported another way (alias, relative import), or no route uses it,
there is no fix.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from scanners.detectors.contracts.common import is_sensitive
from scanners.fixes.edits import (
    Edit,
    LineIndex,
    apply_edits,
    defined_names,
    from_import_edits,
    module_bindings,
)
from scanners.fixes.registry import FixRequest, fixer


def _out_name(model: str) -> str:
    return f"{model[:-3]}PublicOut" if model.endswith("Out") else f"{model}Out"


def _field_name(statement: ast.stmt) -> str:
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    return ""


def _response_model_uses(tree: ast.Module, model: str) -> list[ast.Name]:
    """``model`` names inside ``response_model=`` of route decorators."""
    uses: list[ast.Name] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            for keyword in decorator.keywords:
                if keyword.arg != "response_model":
                    continue
                uses.extend(
                    n for n in ast.walk(keyword.value) if isinstance(n, ast.Name) and n.id == model
                )
    return uses


@fixer("API-RESPONSE-LEAK")
def fix_response_leak(request: FixRequest) -> str | dict[str, str] | None:
    """A ``<Model>Out`` without the sensitive fields, used by the same file's routes."""
    model = request.finding.properties.get("response_model")
    if not isinstance(model, str) or not model:
        return None
    tree = request.tree
    cls = next(
        (s for s in tree.body if isinstance(s, ast.ClassDef) and s.name == model),
        None,
    )
    if cls is None or not cls.lineno <= request.finding.start_line <= (cls.end_lineno or 0):
        # The field is inherited (or the model lives elsewhere): a copy would keep it.
        return None
    out_name = _out_name(model)
    if out_name in defined_names(tree):
        return None
    uses = _response_model_uses(tree, model)
    elsewhere = _other_files(request.project_files(), request.finding.path, model, out_name)
    if elsewhere is None or not (uses or elsewhere):
        return None
    index = LineIndex(request.source)
    body_start = index.line_start(cls.body[0].lineno)
    header = request.source[index.line_start(cls.lineno) : body_start]
    if any(s.lineno == cls.lineno for s in cls.body) or cls.decorator_list:
        return None
    after_class = index.line_start((cls.end_lineno or cls.lineno) + 1)
    removals: list[Edit] = []
    kept: list[ast.stmt] = []
    for statement in cls.body:
        if is_sensitive(_field_name(statement)):
            start = index.line_start(statement.lineno) - body_start
            end = index.line_start((statement.end_lineno or statement.lineno) + 1) - body_start
            removals.append(Edit(start, end, ""))
        else:
            kept.append(statement)
    body = apply_edits(request.source[body_start:after_class], removals)
    if not removals or body is None:
        return None
    # Blank lines the removed fields leave at the end of the body go with them.
    body = body.rstrip("\n") + "\n"
    is_docstring_only = all(
        isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) for s in kept
    )
    if is_docstring_only:
        body += f"{index.indent_of(cls.body[0].lineno)}pass\n"
    new_header = header.replace(f"class {model}", f"class {out_name}", 1)
    if new_header == header:
        return None
    out_class = f"\n\n{new_header}{body}"
    edits = [Edit(after_class, after_class, out_class)]
    edits.extend(Edit(index.start(use), index.end(use), out_name) for use in uses)
    fixed = apply_edits(request.source, edits)
    if fixed is None:
        return None
    return {request.finding.path: fixed, **elsewhere}


def _module_names(path: str) -> set[str]:
    """The dotted names a file may be imported as: every suffix of its path (src layouts)."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts))}


def _other_files(
    files: Mapping[str, str], model_path: str, model: str, out_name: str
) -> dict[str, str] | None:
    """Other files' routes pointed at ``out_name``; ``None`` when one cannot be rewritten."""
    modules = _module_names(model_path)
    changed: dict[str, str] = {}
    for path, source in files.items():
        if path == model_path or model not in source or "response_model" not in source:
            continue
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError):
            continue
        statement = next(
            (
                s
                for s in tree.body
                if isinstance(s, ast.ImportFrom)
                and not s.level
                and s.module in modules
                and any(a.name == model for a in s.names)
            ),
            None,
        )
        if statement is None or module_bindings(tree).get(model) != f"{statement.module}.{model}":
            continue
        uses = _response_model_uses(tree, model)
        if not uses:
            continue
        if out_name in defined_names(tree):
            return None
        index = LineIndex(source)
        # The old name leaves the import when these routes were its only users.
        named = sum(1 for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == model)
        spelled = len(re.findall(rf"(?<![\w.]){re.escape(model)}(?!\w)", source))
        unused = [model] if named == len(uses) and spelled == named + 1 else []
        imports = from_import_edits(tree, index, statement.module or "", [out_name], unused)
        if not imports:
            return None
        edits = [*imports, *(Edit(index.start(u), index.end(u), out_name) for u in uses)]
        fixed = apply_edits(source, edits)
        if fixed is None:
            return None
        changed[path] = fixed
    return changed
