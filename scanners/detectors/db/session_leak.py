"""Detector for DB-SESSION-LEAK."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.facts.sqlalchemy import SessionFacts
from scanners.project.model import FunctionInfo, Project
from scanners.project.orm_models import is_migration_module
from scanners.project.resolve import fid_of
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
# Engine methods that check a connection out of the pool.
ENGINE_CONNECTS = frozenset({"connect", "raw_connection", "begin"})


@detector(RULE_ID, CATEGORY)
def session_leak(project: Project) -> Iterator[Finding]:
    """Database session or connection without a guaranteed close.

    ## What it does
    Finds sessions and connections (a `sessionmaker` product, `Session(...)`, `AsyncSession(...)`,
    `sqlite3.connect(...)` and other DB-API drivers) assigned inside a function with no `with` /
    `async with`, no `try/finally` close, no `contextlib.closing` and not returned to the caller;
    generator dependencies that close their session after `yield` without `finally`;
    dependencies that `return` a new session (nothing closes it); `request.state.<name>` sessions
    of a middleware closed without `finally`; `engine.connect()`/`begin()` results left open;
    `next(get_db())` out of a session-yielding dependency (its `finally` never runs);
    `sessionmaker`/`async_sessionmaker`/engines built inside a route handler or in a dependency
    or helper a request reaches (on every request; not when cached with `@lru_cache` or kept in
    a `global`/attribute); and a session injected with `Depends(...)` (or an
    `Annotated[Session, Depends(...)]` alias) handed to `BackgroundTasks.add_task` (the
    dependency closes it before the task runs). Tests, scripts
    and migrations are skipped.

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
    per_request = _request_scoped_functions(project)
    for module_name, facts in sorted(facts_by_module.items()):
        summary = project.modules[module_name]
        if project.is_offloop(enclosing_function(summary, 1)) or is_migration_module(summary):
            continue
        for opening in facts.openings:
            if opening.via_next:
                if not _yields_session(project, summary, opening.opener, facts_by_module):
                    continue
            elif not _opens_session(project, summary, opening.opener, facts_by_module):
                continue
            info = enclosing_function(summary, opening.line)
            if info.summary.is_module_body:
                continue
            if opening.in_generator:
                message = (
                    f"generator dependency opens `{opening.variable} = {opening.opener}()` and "
                    "closes it without `try/finally`: an exception leaks the session"
                )
            elif opening.via_next:
                message = (
                    f"`{opening.variable} = next({opening.opener}())` takes a session out of a "
                    "dependency generator that is never closed: its `finally` never runs"
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
            if not build.in_route and info.fid not in per_request:
                continue
            if build.returned and not _built_per_request(project, info.fid, facts_by_module):
                continue
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
                    f"{'route' if build.in_route else 'function'} `{build.handler}` builds "
                    f"{kind} (`{build.call}(...)`) on every request: create it once at module "
                    "level or in the lifespan"
                ),
            )
        for name, opener, line, col, has_arguments in facts.wrappers:
            if not project.is_dependency(fid_of(module_name, name)):
                continue
            if not _opens_session(project, summary, opener, facts_by_module):
                continue
            if not has_arguments and _session_class(summary, opener):
                continue  # a bare `Session()` is bound to nothing: it never connects
            yield make_finding(
                project,
                enclosing_function(summary, line),
                rule_id=RULE_ID,
                category_id=CATEGORY,
                line=line,
                col=col,
                message=(
                    f"dependency `{name}` returns `{opener}()` instead of yielding it: FastAPI "
                    "never closes a returned session; `yield` it inside `try/finally`"
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


def _built_per_request(
    project: Project, factory: str, facts_by_module: dict[str, SessionFacts]
) -> bool:
    """Whether a function returning a new engine/session factory runs for a request without its
    result being kept: a dependency or route does, and so does a helper a request reaches when
    one of its request-scoped callers drops the result (``engine = get_engine()`` in a route),
    but not one whose callers store it (``runtime.engine = create_db_engine()``, a lazy
    singleton)."""
    if factory in project.route_handlers or project.is_dependency(factory):
        return True
    scoped = _request_scoped_functions(project)
    for edge in project.edges_in.get(factory, ()):
        if edge.caller not in scoped or edge.site is None:
            continue
        caller = project.function(edge.caller)
        caller_facts = facts_by_module.get(caller.module.module) if caller is not None else None
        if caller_facts is None or edge.site.line not in caller_facts.kept_call_lines:
            return True
    return False


def _request_scoped_functions(project: Project) -> set[str]:
    """Functions that run on every request: route handlers, their dependencies and what they
    call (transitively, along the call graph and ``Depends`` edges)."""

    def compute() -> set[str]:
        pending = [*project.route_handlers, *project.fastapi.dependency_fids]
        for route in project.routes:
            pending.extend(route.dependencies)
        seen: set[str] = set()
        while pending:
            fid = pending.pop()
            if fid in seen:
                continue
            seen.add(fid)
            pending.extend(edge.callee for edge in project.edges_out.get(fid, ()))
        return seen

    return project.memo("db-request-scoped-functions", compute)


def _opens_session(
    project: Project,
    summary: ModuleSummary,
    opener: str,
    facts_by_module: dict[str, SessionFacts],
    depth: int = 0,
) -> bool:
    """Whether calling ``opener`` (dotted text in ``summary``) opens a session or connection:
    a session factory or class, a DB-API ``connect``, ``<engine>.connect()`` or a project
    function returning one of these."""
    own = facts_by_module.get(summary.module, _EMPTY)
    receiver, _, method = opener.rpartition(".")
    if (
        method in ENGINE_CONNECTS
        and receiver
        and _is_engine(project, summary, receiver, facts_by_module)
    ):
        return True
    head, _, rest = opener.partition(".")
    if not rest and head in own.factories:
        return True
    if not rest and depth < 3:
        wrapped = _wrapped(own, head)
        if wrapped is not None and wrapped != opener:
            return _opens_session(project, summary, wrapped, facts_by_module, depth + 1)
    target = _imported_target(summary, opener)
    if target in SESSION_CLASSES or target in DRIVER_CONNECTS:
        return True
    defined = _defined_in(project, summary, opener)
    if defined is None:
        return False
    module, name = defined
    facts = facts_by_module.get(module, _EMPTY)
    if name in facts.factories:
        return True
    wrapped = _wrapped(facts, name)
    if wrapped is None or depth >= 3:
        return False
    return _opens_session(project, project.modules[module], wrapped, facts_by_module, depth + 1)


def _yields_session(
    project: Project,
    summary: ModuleSummary,
    generator: str,
    facts_by_module: dict[str, SessionFacts],
) -> bool:
    """Whether the generator function ``generator`` (dotted text in ``summary``) yields a
    session it opens (``get_db``)."""
    module, name = summary, generator
    if _imported_target(summary, generator) is not None:
        defined = _defined_in(project, summary, generator)
        if defined is None:
            return False
        module, name = project.modules[defined[0]], defined[1]
    facts = facts_by_module.get(module.module, _EMPTY)
    opener = next((o for n, o in facts.yielders if n == name), None)
    return opener is not None and _opens_session(project, module, opener, facts_by_module)


def _imported_target(summary: ModuleSummary, dotted: str) -> str | None:
    """The qualified name ``dotted`` (text in ``summary``) stands for through an import
    (``orm.Session`` -> ``sqlalchemy.orm.Session``), None when its head is not imported."""
    head, _, rest = dotted.partition(".")
    binding = summary.imports.get(head)
    if binding is None:
        return None
    return f"{binding.target}.{rest}" if rest else binding.target


def _defined_in(project: Project, summary: ModuleSummary, dotted: str) -> tuple[str, str] | None:
    """(project module, name) an imported ``dotted`` refers to, None outside the project."""
    target = _imported_target(summary, dotted)
    if target is None:
        return None
    module_name, _, name = target.rpartition(".")
    module = project.resolver.find_module(module_name, summary.module) if module_name else None
    return (module, name) if module is not None else None


def _session_class(summary: ModuleSummary, opener: str) -> bool:
    return _imported_target(summary, opener) in SESSION_CLASSES


def _wrapped(facts: SessionFacts, function: str) -> str | None:
    """The opener ``function`` returns, if it is one of the module's wrappers."""
    return next((opener for name, opener, *_ in facts.wrappers if name == function), None)


def _is_engine(
    project: Project,
    summary: ModuleSummary,
    receiver: str,
    facts_by_module: dict[str, SessionFacts],
) -> bool:
    """``receiver`` names an engine: a module-level ``create_engine(...)`` here or imported,
    or a name spelled like one (``engine``, ``legacy_engine``, ``self.engine``)."""
    if receiver.rpartition(".")[2].lower().endswith("engine"):
        return True
    head, _, rest = receiver.partition(".")
    if not rest and head in facts_by_module.get(summary.module, _EMPTY).engines:
        return True
    defined = _defined_in(project, summary, receiver)
    return defined is not None and defined[1] in facts_by_module.get(defined[0], _EMPTY).engines


_EMPTY = SessionFacts(frozenset(), (), (), ())
