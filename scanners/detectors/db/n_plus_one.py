"""Detector for DB-N-PLUS-ONE."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.db.session_leak import enclosing_function
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.facts.sqlalchemy import LoopFact, LoopFacts, QueryFunction
from scanners.project.model import Project
from scanners.project.orm_models import is_migration_module
from scanners.project.summary import ModuleSummary

CATEGORY = "DB-N-PLUS-ONE"
RULE_ID = "db-n-plus-one"


@detector(RULE_ID, CATEGORY)
def n_plus_one(project: Project) -> Iterator[Finding]:
    """One query per row of a query result.

    ## What it does
    Finds loops and comprehensions over the rows of a query (run in the same function, or
    returned by a project function or repository method that runs it), or over a relationship
    collection of an object a query returned, whose body executes another query on the session
    (`session.execute/scalars/scalar/get/query/exec/refresh`, directly or through a project
    helper handed the session), or reads a relationship that loads lazily on the row or on an
    object reached from it (`for item in order.items: item.product`, also
    `await row.awaitable_attrs.rel`): declared on the queried model (by attribute name when the
    model is unknown) without `lazy="selectin"`/`"joined"`/... and not loaded with
    `selectinload`/`joinedload`/`subqueryload`/`contains_eager` by the query. Sessions are
    parameters typed or named as such and sessions the function opens; HTTP clients never are.
    Loops over request data (not query results) are not reported.

    ## Why is this bad?
    Each iteration is one more round trip to the database: a page of 100 rows costs 101
    queries, and latency grows with the data instead of staying flat.

    ## Example
    ```python
    orders = (await session.scalars(select(Order))).all()
    for order in orders:
        items = await session.scalars(select(Item).where(Item.order_id == order.id))
    ```

    ## Use instead
    ```python
    stmt = select(Order).options(selectinload(Order.items))
    orders = (await session.scalars(stmt)).all()
    ```
    """
    facts_by_module: dict[str, LoopFacts] = project.facts("db_loops")
    relationships = _Relationships(facts_by_module)
    reported: set[tuple[str, int]] = set()
    for module_name, facts in sorted(facts_by_module.items()):
        summary = project.modules[module_name]
        module_info = enclosing_function(summary, 1)
        if project.is_offloop(module_info) or is_migration_module(summary):
            continue
        for loop in facts.loops:
            source = _source(project, summary, facts, loop, facts_by_module)
            if source is None:
                continue
            loaded, entity = source
            sites: list[tuple[int, int, str]] = []
            if loop.query_line:
                sites.append(
                    (
                        loop.query_line,
                        loop.query_col,
                        "query executed once per row of the query result this loop iterates",
                    )
                )
            else:
                helper = next(
                    (
                        (callee, line, col)
                        for callee, line, col in loop.helper_calls
                        if _runs_query(project, summary, callee, facts_by_module)
                    ),
                    None,
                )
                if helper is not None:
                    callee, line, col = helper
                    sites.append(
                        (
                            line,
                            col,
                            f"`{callee}(...)` runs a query once per row of the query result "
                            "this loop iterates",
                        )
                    )
            # Each lazy relationship once per loop, where it is first read.
            seen: set[str] = set()
            for attribute, line, col, on_row in loop.lazy_accesses:
                if attribute in seen or attribute in loaded:
                    continue
                if not relationships.lazy(entity if on_row else "", attribute):
                    continue
                seen.add(attribute)
                sites.append(
                    (
                        line,
                        col,
                        f"relationship `{attribute}` lazy-loads once per row of the query "
                        "result: load it with `selectinload(...)`/`joinedload(...)`",
                    )
                )
            for line, col, message in sites:
                if (summary.path, line) in reported:
                    continue
                reported.add((summary.path, line))
                yield make_finding(
                    project,
                    enclosing_function(summary, line),
                    rule_id=RULE_ID,
                    category_id=CATEGORY,
                    line=line,
                    col=col,
                    message=message,
                )


class _Relationships:
    """The project's relationships: by model class (with its bases) and by attribute name."""

    def __init__(self, facts_by_module: dict[str, LoopFacts]) -> None:
        self.by_class: dict[tuple[str, str], set[bool]] = {}
        by_name: dict[str, set[bool]] = {}
        self.bases: dict[str, set[str]] = {}
        for facts in facts_by_module.values():
            for owner, attribute, eager in facts.relationships:
                self.by_class.setdefault((owner, attribute), set()).add(eager)
                by_name.setdefault(attribute, set()).add(eager)
            for name, bases in facts.classes:
                self.bases.setdefault(name, set()).update(bases)
        # A name every relationship of which loads lazily (one attribute name, one behaviour).
        self.lazy_names = {name for name, eagerness in by_name.items() if eagerness == {False}}

    def lazy(self, entity: str, attribute: str) -> bool:
        """Whether reading ``attribute`` on a row of ``entity`` (a class name, "" if unknown)
        loads lazily. A known class answers by its own relationships and its bases'."""
        if not entity or entity not in self.bases:
            return attribute in self.lazy_names
        pending, seen = [entity], set()
        while pending:
            owner = pending.pop()
            if owner in seen:
                continue
            seen.add(owner)
            eagerness = self.by_class.get((owner, attribute))
            if eagerness is not None:
                return eagerness == {False}
            pending.extend(self.bases.get(owner, ()))
        return False


def _source(
    project: Project,
    summary: ModuleSummary,
    facts: LoopFacts,
    loop: LoopFact,
    facts_by_module: dict[str, LoopFacts],
) -> tuple[frozenset[str], str] | None:
    """The relationships the rows of ``loop`` come with and their entity (class name, "" if
    unknown), or None when they are not query rows."""
    own = facts.functions.get(loop.function, QueryFunction(False, frozenset()))
    if loop.source_is_query:
        return own.eager_attributes, loop.entity
    source = _resolve_function(project, summary, loop.source_call, facts_by_module)
    if source is None or not source.returns_query:
        return None
    return own.eager_attributes | source.eager_attributes, source.entity


def _runs_query(
    project: Project, summary: ModuleSummary, call: str, facts_by_module: dict[str, LoopFacts]
) -> bool:
    function = _resolve_function(project, summary, call, facts_by_module)
    return function is not None and function.runs_query


def _resolve_function(
    project: Project,
    summary: ModuleSummary,
    call: str,
    facts_by_module: dict[str, LoopFacts],
) -> QueryFunction | None:
    """The project function or method ``call`` (dotted text written in ``summary``: ``f``,
    ``crud.f``, ``Repository.method``) names, if known."""
    head, _, rest = call.partition(".")
    binding = summary.imports.get(head)
    if binding is None:
        local = facts_by_module.get(summary.module)
        return local.functions.get(call) if local is not None else None
    target = f"{binding.target}.{rest}" if rest else binding.target
    parts = target.split(".")
    # The module is a prefix of the target, the rest a qualname (``pkg.repos.Repo.method``).
    for split in range(len(parts) - 1, max(len(parts) - 3, 0), -1):
        module = project.resolver.find_module(".".join(parts[:split]), summary.module)
        if module is not None and module in facts_by_module:
            found = facts_by_module[module].functions.get(".".join(parts[split:]))
            if found is not None:
                return found
    return None
