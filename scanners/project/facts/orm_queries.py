"""Per-file facts: which model attributes a file's queries filter, join or sort on.

``"orm_column_uses"``: a tuple of ``ColumnUse`` for every ``Model.column`` (or
``module.Model.column``) read inside the arguments of ``.filter()``, ``.where()``,
``.order_by()``, ``.having()`` and friends, and every keyword of ``.filter_by(column=...)`` with
the entity of the query it refines (``select(Model)``, ``session.query(Model)``). Whether
``Model`` is an ORM class and ``column`` one of its columns is decided across modules later
(``scanners.project.orm_models``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from scanners.project.facts import fact_extractor
from scanners.project.summary import ModuleSummary

FILTER_METHODS = frozenset({"filter", "where", "having", "order_by"})
FILTER_BY = "filter_by"
ENTITY_CALLS = frozenset({"select", "query", "exec"})
JOIN_CALLS = frozenset({"join", "outerjoin"})
INDEX_KEYWORDS = frozenset({"primary_key", "unique", "index"})


@dataclass(frozen=True, slots=True)
class ColumnUse:
    base: str  # dotted text of what the column is read from: "Feed", "models.Feed"
    column: str
    line: int
    method: str  # filter / where / having / order_by / filter_by


@fact_extractor("orm_column_uses")
def column_uses(tree: ast.Module, summary: ModuleSummary) -> tuple[ColumnUse, ...] | None:
    if not _may_query(summary):
        return None
    uses: list[ColumnUse] = []
    nodes = list(ast.walk(tree))
    queries = _query_names(nodes)
    for node in nodes:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        method = node.func.attr
        if method in FILTER_METHODS:
            for argument in (*node.args, *(k.value for k in node.keywords)):
                uses.extend(_attribute_reads(argument, method))
        elif method == FILTER_BY and node.keywords:
            entity = _query_entity(node.func.value, queries)
            if entity:
                uses.extend(
                    ColumnUse(entity, k.arg, node.lineno, method)
                    for k in node.keywords
                    if k.arg is not None
                )
    return tuple(uses) or None


def _may_query(summary: ModuleSummary) -> bool:
    """Cheap pre-check on the summary: some call is one of the query-refining methods."""
    wanted = FILTER_METHODS | {FILTER_BY}
    for function in summary.functions.values():
        for site in function.calls:
            func = site.call[1]
            if func[0] == "attr" and func[2] in wanted:
                return True
    return False


def _attribute_reads(node: ast.AST, method: str) -> list[ColumnUse]:
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute):
            base = _dotted(child.value)
            if base:
                found.append(ColumnUse(base, child.attr, child.lineno, method))
    return found


def _query_names(nodes: list[ast.AST]) -> dict[str, str]:
    """Names bound to a query of one entity in this file (``query = db.query(Order)``, later
    ``query = query.filter_by(...)``); a name bound to queries of different entities is left out."""
    found: dict[str, set[str]] = {}
    assignments = [
        (node.targets[0].id, node.value)
        for node in nodes
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ]
    for _ in range(2):
        known = {name: min(entities) for name, entities in found.items() if len(entities) == 1}
        for name, value in assignments:
            entity = _query_entity(value, known)
            if entity:
                found.setdefault(name, set()).add(entity)
    return {name: min(entities) for name, entities in found.items() if len(entities) == 1}


def _query_entity(node: ast.AST, queries: dict[str, str] | None = None) -> str:
    """The first entity of the query a ``filter_by`` refines: walks back the method chain
    (``select(M).where(...).filter_by``, ``session.query(M).filter_by``), through a name bound
    to a query (``q = db.query(M)`` ... ``q.filter_by``)."""
    current = node
    if isinstance(current, ast.Await):
        current = current.value
    while isinstance(current, ast.Call):
        func = current.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in JOIN_CALLS and current.args:
            # ``filter_by`` refines the entity joined last (unknown through a relationship).
            joined = _dotted(current.args[0])
            return joined if joined.rpartition(".")[2][:1].isupper() else ""
        if name in ENTITY_CALLS and current.args:
            return _entity_name(current.args[0])
        if not isinstance(func, ast.Attribute):
            return ""
        current = func.value
    if isinstance(current, ast.Name) and queries:
        return queries.get(current.id, "")
    return ""


def _entity_name(node: ast.AST) -> str:
    """``Model`` / ``models.Model``; ``Model.column`` (a column select) stands for ``Model``."""
    text = _dotted(node)
    head, _, last = text.rpartition(".")
    return head if head and last[:1].islower() and head.rpartition(".")[2][:1].isupper() else text


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))


@fact_extractor("orm_indexed_aliases")
def indexed_aliases(tree: ast.Module, summary: ModuleSummary) -> frozenset[str] | None:
    """Module-level ``Annotated`` aliases whose ``mapped_column(...)`` makes a column a primary
    key, unique or indexed (``id_key = Annotated[int, mapped_column(primary_key=True)]``); the
    summary keeps too little of such nested calls."""
    found = set()
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and node.targets else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(target, ast.Name) or not isinstance(value, ast.Subscript):
            continue
        if _dotted(value.value).rpartition(".")[2] != "Annotated":
            continue
        items = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        # `mapped_column(...) if settings.X else mapped_column(...)` picks one at import time.
        candidates = [
            branch
            for item in items[1:]
            for branch in ((item.body, item.orelse) if isinstance(item, ast.IfExp) else (item,))
        ]
        for item in candidates:
            if isinstance(item, ast.Call) and any(
                k.arg in INDEX_KEYWORDS
                and isinstance(k.value, ast.Constant)
                and k.value.value is True
                for k in item.keywords
            ):
                found.add(target.id)
    return frozenset(found) or None
