"""Detector for DB-MISSING-INDEX."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from scanners.catalog import category
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.facts.orm_queries import ColumnUse
from scanners.project.model import Project
from scanners.project.orm_models import Column, OrmModel, is_migration_module, orm_models

CATEGORY = "DB-MISSING-INDEX"
RULE_ID = "query-on-unindexed-column"
SHOWN_USES = 3


@dataclass(frozen=True)
class _Use:
    path: str
    line: int
    method: str


@detector(RULE_ID, CATEGORY, confidence="medium")
def query_on_unindexed_column(project: Project) -> Iterator[Finding]:
    """ORM column used to filter or sort with no index.

    ## What it does
    Finds columns of SQLAlchemy / SQLModel models that the service's queries use in
    `filter`, `filter_by`, `where`, `having` or `order_by` and that have no index: not a primary
    key, not `unique=True` or `index=True`, in no `Index(...)` / `UniqueConstraint(...)` of
    `__table_args__` or at module level, and in no Alembic `op.create_index`. Columns of
    project base classes and mixins count; queries in tests, scripts and migrations do not.
    Reported once per column, on its declaration, with the queries that use it.

    ## Why is this bad?
    Without an index the database reads the whole table for every such query: fine with a
    hundred rows in development, seconds per request and a saturated database once the table
    grows. A foreign key is no index in PostgreSQL either.

    ## Example
    ```python
    class Order(Base):
        payment_ref: Mapped[str] = mapped_column(String(64))

    await session.scalar(select(Order).where(Order.payment_ref == ref))
    ```

    ## Use instead
    ```python
    class Order(Base):
        payment_ref: Mapped[str] = mapped_column(String(64), index=True)
    # plus a migration: op.create_index("ix_orders_payment_ref", "orders", ["payment_ref"])
    ```
    """
    models = orm_models(project)
    if not models:
        return
    uses: dict[tuple[str, str], list[_Use]] = {}
    columns: dict[tuple[str, str], tuple[OrmModel, Column]] = {}
    for module_name, found in project.facts("orm_column_uses").items():
        module = project.modules[module_name]
        if is_migration_module(module):
            continue
        use: ColumnUse
        for use in found:
            model = _model_of(project, module_name, use.base, models)
            if model is None:
                continue
            column = model.columns.get(use.column)
            if column is None or column.indexed:
                continue
            key = (column.path, f"{column.owner}.{column.name}")
            columns.setdefault(key, (model, column))
            uses.setdefault(key, []).append(_Use(module.path, use.line, use.method))
    entry = category(CATEGORY)
    for key in sorted(columns, key=lambda k: (columns[k][1].path, columns[k][1].line)):
        model, column = columns[key]
        sites = sorted(set(uses[key]), key=lambda u: (u.path, u.line))
        methods = sorted({u.method for u in sites})
        where = ", ".join(f"{u.path}:{u.line}" for u in sites[:SHOWN_USES])
        more = f" and {len(sites) - SHOWN_USES} more" if len(sites) > SHOWN_USES else ""
        yield Finding(
            rule_id=RULE_ID,
            category=entry.id,
            severity=entry.severity,
            title=entry.summary,
            message=(
                f"`{model.name}.{column.name}` (table `{model.table}`) is used in"
                f" {'/'.join(f'`{m}`' for m in methods)} ({where}{more}) but has no index: each"
                f" query scans the table. Add `index=True` (or an `Index(...)` in"
                f" `__table_args__`) and a migration creating it"
            ),
            path=column.path,
            start_line=column.line,
            enclosing=column.owner.partition(":")[2],
            snippet=project.source_line(column.path, column.line).rstrip(),
            remediation=entry.remediation,
            confidence="medium",
            properties={"table": model.table, "column": column.name, "uses": len(sites)},
        )


def _model_of(
    project: Project, module_name: str, base: str, models: dict[str, OrmModel]
) -> OrmModel | None:
    first, *rest = base.split(".")
    value = project.resolver.lookup_module_name(module_name, first)
    for part in rest:
        if value is None:
            return None
        value = project.resolver.attribute(value, part)
    if value is None or value[0] != "class":
        return None
    return models.get(value[1])
