"""Detector for DB-SESSION-LEAK."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.facts.sqlalchemy import SessionFacts
from scanners.project.model import FunctionInfo, Project
from scanners.project.orm_models import is_migration_module
from scanners.project.summary import MODULE_BODY, ModuleSummary

CATEGORY = "DB-SESSION-LEAK"
RULE_ID = "db-session-leak"
SESSION_CLASSES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.Session",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
DRIVER_CONNECTS = frozenset(
    {
        "sqlite3.connect",
        "psycopg.connect",
        "psycopg2.connect",
        "asyncpg.connect",
        "aiosqlite.connect",
        "pymysql.connect",
    }
)
ENGINE_BUILDERS = frozenset({"create_engine", "create_async_engine"})


@detector(RULE_ID, CATEGORY)
def session_leak(project: Project) -> Iterator[Finding]:
    """Database session or connection without a guaranteed close.

    ## What it does
    Finds sessions and connections (a `sessionmaker` product, `Session(...)`, `AsyncSession(...)`,
    `sqlite3.connect(...)` and other DB-API drivers) assigned inside a function with no `with` /
    `async with`, no `try/finally` close, no `contextlib.closing` and not returned to the caller;
    generator dependencies that close their session after `yield` without `finally`;
    `sessionmaker`/`async_sessionmaker`/engines built inside a route handler (on every
    request); and a session injected with `Depends(...)` handed to `BackgroundTasks.add_task`
    (the dependency closes it before the task runs). Tests, scripts and migrations are skipped.

    ## Why is this bad?
    An exception between open and close leaks the connection: the pool runs dry and every
    request then waits `pool_timeout` and fails. An engine or session factory built per request
    opens a new pool each time. A background task gets a session that is already closed, or
    shares it with the request while it is still in use.

    ## Example
    ```python
    async def import_rows(rows):
        session = Session()
        await session.execute(insert(Row), rows)
        await session.commit()
    ```

    ## Use instead
    ```python
    async def import_rows(rows):
        async with Session() as session:
            await session.execute(insert(Row), rows)
            await session.commit()
    ```
    """
    facts_by_module: dict[str, SessionFacts] = project.facts("db_sessions")
    for module_name, facts in sorted(facts_by_module.items()):
        summary = project.modules[module_name]
        if project.is_offloop(enclosing_function(summary, 1)) or is_migration_module(summary):
            continue
        for opening in facts.openings:
            if not _opens_session(project, summary, opening.opener, facts_by_module):
                continue
            info = enclosing_function(summary, opening.line)
            if info.summary.is_module_body:
                continue
            if opening.in_generator:
                message = (
                    f"generator dependency opens `{opening.variable} = {opening.opener}()` and "
                    "closes it without `try/finally`: an exception leaks the session"
                )
            else:
                message = (
                    f"`{opening.variable} = {opening.opener}()` is never closed for sure: "
                    "no `with`/`async with`, no `try/finally` close"
                )
            yield make_finding(
                project,
                info,
                rule_id=RULE_ID,
                category_id=CATEGORY,
                line=opening.line,
                col=opening.col,
                message=message,
            )
        for build in facts.per_request:
            info = enclosing_function(summary, build.line)
            kind = (
                "an engine"
                if build.call.rpartition(".")[2] in ENGINE_BUILDERS
                else "a session factory"
            )
            yield make_finding(
                project,
                info,
                rule_id=RULE_ID,
                category_id=CATEGORY,
                line=build.line,
                col=build.col,
                message=(
                    f"route `{build.handler}` builds {kind} (`{build.call}(...)`) on every "
                    "request: create it once at module level or in the lifespan"
                ),
            )
        for handoff in facts.background_sessions:
            info = enclosing_function(summary, handoff.line)
            yield make_finding(
                project,
                info,
                rule_id=RULE_ID,
                category_id=CATEGORY,
                line=handoff.line,
                col=handoff.col,
                message=(
                    f"request-scoped session `{handoff.parameter}` is handed to background task "
                    f"`{handoff.task}`: the dependency closes it when the response is sent; "
                    "pass ids and open a session in the task"
                ),
            )


def enclosing_function(summary: ModuleSummary, line: int) -> FunctionInfo:
    """The innermost function of ``summary`` whose lines contain ``line`` (else the module body)."""
    best_qualname = MODULE_BODY
    best_start = -1
    for qualname, function in summary.functions.items():
        if function.is_module_body or "<lambda>" in qualname:
            continue
        if function.line <= line <= function.end_line and function.line > best_start:
            best_qualname, best_start = qualname, function.line
    return FunctionInfo(
        f"{summary.module}:{best_qualname}", summary, summary.functions[best_qualname]
    )


def _opens_session(
    project: Project,
    summary: ModuleSummary,
    opener: str,
    facts_by_module: dict[str, SessionFacts],
) -> bool:
    """Whether calling ``opener`` (dotted text in ``summary``) opens a session or connection."""
    head, _, rest = opener.partition(".")
    if not rest and head in facts_by_module.get(summary.module, _EMPTY).factories:
        return True
    binding = summary.imports.get(head)
    if binding is None:
        return False
    target = f"{binding.target}.{rest}" if rest else binding.target
    if target in SESSION_CLASSES or target in DRIVER_CONNECTS:
        return True
    module_name, _, name = target.rpartition(".")
    module = project.resolver.find_module(module_name, summary.module) if module_name else None
    if module is None:
        return False
    return name in facts_by_module.get(module, _EMPTY).factories


_EMPTY = SessionFacts(frozenset(), (), (), ())
