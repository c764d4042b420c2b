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
    returned by a project function that runs it) whose body executes another query on the
    session (`session.execute/scalars/scalar/get/query/exec`), or reads a relationship of the
    row that loads lazily: declared without `lazy="selectin"`/`"joined"`/... and not loaded
    with `selectinload`/`joinedload`/`subqueryload`/`contains_eager` by the query. Loops over
    request data (not query results) are not reported.

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
    relationship_eagerness: dict[str, set[bool]] = {}
    for facts in facts_by_module.values():
        for attribute, eager in facts.relationships:
            relationship_eagerness.setdefault(attribute, set()).add(eager)
    # A name every relationship of which loads lazily (one attribute name, one behaviour).
    lazy_relationships = {
        name for name, eagerness in relationship_eagerness.items() if eagerness == {False}
    }
    reported: set[tuple[str, int]] = set()
    for module_name, facts in sorted(facts_by_module.items()):
        summary = project.modules[module_name]
        module_info = enclosing_function(summary, 1)
        if project.is_offloop(module_info) or is_migration_module(summary):
            continue
        for loop in facts.loops:
            loaded = _source_eager_attributes(project, summary, facts, loop, facts_by_module)
            if loaded is None:
                continue
            if loop.query_line:
                line, col = loop.query_line, loop.query_col
                message = "query executed once per row of the query result this loop iterates"
            else:
                access = next(
                    (
                        (attribute, line, col)
                        for attribute, line, col in loop.lazy_accesses
                        if attribute in lazy_relationships and attribute not in loaded
                    ),
                    None,
                )
                if access is None:
                    continue
                attribute, line, col = access
                message = (
                    f"relationship `{attribute}` lazy-loads once per row of the query result: "
                    f"load it with `selectinload(...)`/`joinedload(...)`"
                )
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


def _source_eager_attributes(
    project: Project,
    summary: ModuleSummary,
    facts: LoopFacts,
    loop: LoopFact,
    facts_by_module: dict[str, LoopFacts],
) -> frozenset[str] | None:
    """The relationships the rows of ``loop`` come with, or None when they are not query rows."""
    own = facts.functions.get(loop.function, QueryFunction(False, frozenset()))
    if loop.source_is_query:
        return own.eager_attributes
    source = _resolve_function(project, summary, loop.source_call, facts_by_module)
    if source is None or not source.returns_query:
        return None
    return own.eager_attributes | source.eager_attributes


def _resolve_function(
    project: Project,
    summary: ModuleSummary,
    call: str,
    facts_by_module: dict[str, LoopFacts],
) -> QueryFunction | None:
    """The project function ``call`` (dotted text written in ``summary``) names, if known."""
    head, _, rest = call.partition(".")
    binding = summary.imports.get(head)
    if binding is None:
        local = facts_by_module.get(summary.module)
        return local.functions.get(call) if local is not None else None
    target = f"{binding.target}.{rest}" if rest else binding.target
    module_name, _, name = target.rpartition(".")
    module = project.resolver.find_module(module_name, summary.module) if module_name else None
    if module is None or module not in facts_by_module:
        return None
    return facts_by_module[module].functions.get(name)
