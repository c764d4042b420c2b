"""Detector for DB-POOL-CONFIG."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_call_finding, render
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.orm_models import is_migration_module
from scanners.project.summary import Expr

CATEGORY = "DB-POOL-CONFIG"
RULE_ID = "engine-without-pool-settings"
ENGINE_FACTORIES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
        "sqlmodel.create_engine",
    }
)
POOL_SETTINGS = frozenset(
    {"pool_size", "max_overflow", "pool_pre_ping", "pool_recycle", "pool_timeout", "poolclass"}
)
# Embedded databases have no server connections to pool.
EMBEDDED_SCHEMES = ("sqlite", "duckdb")
SERVER_SCHEMES = ("postgres", "mysql", "mariadb", "oracle", "mssql", "cockroach", "redshift")


@detector(RULE_ID, CATEGORY)
def engine_without_pool_settings(project: Project) -> Iterator[Finding]:
    """Server database engine with the default connection pool.

    ## What it does
    Finds `create_engine(...)` / `create_async_engine(...)` (SQLAlchemy, SQLModel) for a server
    database that sets none of `pool_size`, `max_overflow`, `pool_pre_ping`, `pool_recycle`,
    `pool_timeout` (or an explicit `poolclass`). The URL is followed through module constants,
    `os.getenv` defaults, settings-class defaults and the literal start of f-strings; SQLite
    and DuckDB URLs are not reported, nor are engines built in tests, scripts and migrations
    (Alembic's `env.py` included).

    ## Why is this bad?
    The defaults (5 connections plus 10 overflow, no liveness check, no recycling) fit nobody:
    under load requests queue for a connection and time out after 30 s, and connections the
    database or a proxy closed while idle fail the first request that picks them up.

    ## Example
    ```python
    engine = create_async_engine(settings.database_url)
    ```

    ## Use instead
    ```python
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=10,
        pool_pre_ping=True,
        pool_recycle=1800,
    )
    ```
    """
    for info, site, callee in project.app_calls():
        if callee is None or callee[0] != "ext" or callee[1] not in ENGINE_FACTORIES:
            continue
        if is_migration_module(info.module):
            continue  # Alembic's env.py connects once per migration run
        keywords = [name for name, _value in site.kwargs]
        if None in keywords or POOL_SETTINGS.intersection(k for k in keywords if k):
            continue  # **options may carry the settings; any explicit pool choice is a decision
        url = site.args[0] if site.args else dict(site.kwargs).get("url")
        urls = _url_strings(project, info, url)
        prefix = info.module.facts.get("db_engine_url_prefixes", {}).get(site.line)
        if prefix:
            urls.add(prefix)  # f"sqlite:///{path}": the scheme is in the literal part
        if any(u.lower().startswith(EMBEDDED_SCHEMES) for u in urls):
            continue
        server = next((u for u in urls if u.lower().startswith(SERVER_SCHEMES)), "")
        database = server.split(":", 1)[0] if server else "the database"
        yield make_call_finding(
            project,
            info,
            site,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            message=(
                f"`{render(site.func)}({render(url, 40)})` connects to {database} with the default"
                " pool (5 + 10 overflow, no pre-ping, no recycle): set `pool_size`,"
                " `max_overflow`, `pool_pre_ping=True` and `pool_recycle` from settings"
            ),
            confidence="high" if server else "medium",
        )


def _url_strings(
    project: Project, info: FunctionInfo, expr: Expr | None, depth: int = 0
) -> set[str]:
    """String constants the URL expression may take: literals, constants of this module or an
    imported one (with ``os.getenv`` defaults), and defaults of settings-class attributes."""
    if expr is None or depth > 3:
        return set()
    kind = expr[0]
    if kind == "const":
        return {expr[1]} if isinstance(expr[1], str) else set()
    if kind == "call":
        found: set[str] = set()
        for arg in (*expr[2], *(value for _key, value in expr[3])):
            found |= _url_strings(project, info, arg, depth + 1)
        return found
    if kind == "binop":
        return _url_strings(project, info, expr[2], depth + 1)
    if kind == "name":
        return _name_strings(project, info, expr[1], depth)
    if kind == "attr":
        found = set()
        for module in project.modules.values():
            for cls in module.classes.values():
                value = cls.attr_values.get(expr[2])
                if value is not None:
                    found |= _url_strings(project, info, value, depth + 1)
        return found
    return set()


def _name_strings(project: Project, info: FunctionInfo, name: str, depth: int) -> set[str]:
    values = [*info.summary.assigns.get(name, ()), *project.module_values(info.module, name)]
    found: set[str] = set()
    for value in values:
        found |= _url_strings(project, info, value, depth + 1)
    return found
