"""Per-file facts: where database sessions and connections are opened, and whether they are closed.

``"db_sessions"``: a ``SessionFacts`` with

- ``factories``: module-level names bound to ``sessionmaker(...)``, ``async_sessionmaker(...)`` or
  ``scoped_session(...)`` (calling one opens a session);
- ``openings``: every ``name = <opener>(...)`` inside a function whose result is neither a
  ``with``/``async with`` item, closed in a ``finally``, wrapped in ``closing(...)``, handed to
  ``enter_context`` nor returned -- that is, nothing guarantees its close. The opener's dotted
  text is kept; whether it is really a session factory is decided across modules by the detector;
- ``engines``: module-level names bound to ``create_engine(...)``/``create_async_engine(...)``
  (their ``connect()``/``raw_connection()`` opens a connection);
- ``wrappers``: module-level functions that return what a call opens (``return SessionLocal()``),
  with the opener's dotted text: calling one opens a session too (and used as a dependency,
  nothing ever closes it); a module-level name bound to a call of a local function returning
  ``sessionmaker(...)`` is a factory too;
- ``openings`` also covers ``request.state.<name> = <opener>(...)`` (a middleware or route parks
  the session on the request) and ``<engine>.connect()`` / ``raw_connection()``;
- ``yielders``: module-level generators yielding a session they open (``get_db``): an opening
  ``db = next(get_db())`` takes a session whose ``finally`` never runs;
- ``per_request``: ``sessionmaker``/``async_sessionmaker``/``create_engine``/
  ``create_async_engine`` calls inside functions (route handlers are marked), except those
  cached (``@lru_cache``/``@cache``) or kept in a ``global``/attribute (a lazy singleton): the
  detector reports those a request reaches;
- ``background_sessions``: ``<tasks>.add_task(fn, session, ...)`` inside a function where
  ``session`` is a parameter annotated as a SQLAlchemy/SQLModel session and injected with
  ``Depends(...)``, or annotated with an ``Annotated[Session, Depends(...)]`` alias
  (``SessionDep``) -- its dependency closes it when the response is sent.

Files that import neither ``sqlalchemy``, ``sqlmodel``, a DB-API driver nor a project module or
name that looks like the database layer (``app.db``, ``SessionLocal``, ``get_session``) are
skipped.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from scanners.project.facts import fact_extractor
from scanners.project.summary import ModuleSummary

DB_IMPORT_ROOTS = frozenset(
    {"sqlalchemy", "sqlmodel", "sqlite3", "psycopg", "psycopg2", "asyncpg", "aiosqlite", "pymysql"}
)
FACTORY_CALLS = frozenset({"sessionmaker", "async_sessionmaker", "scoped_session"})
PER_REQUEST_CALLS = frozenset(
    {"sessionmaker", "async_sessionmaker", "create_engine", "create_async_engine"}
)
# Constructors and driver calls that open a session or connection by themselves.
DIRECT_OPENERS = frozenset(
    {
        "Session",
        "AsyncSession",
        "sqlite3.connect",
        "psycopg.connect",
        "psycopg2.connect",
        "asyncpg.connect",
        "aiosqlite.connect",
        "pymysql.connect",
    }
)
ENGINE_CALLS = frozenset({"create_engine", "create_async_engine"})
# Modules imported whole whose attributes build engines (``sa.create_engine(...)``).
ENGINE_MODULES = frozenset({"sqlalchemy", "sqlalchemy.ext.asyncio", "sqlmodel"})
ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket"}
)
SESSION_ANNOTATIONS = frozenset({"Session", "AsyncSession"})


@dataclass(frozen=True, slots=True)
class Opening:
    opener: str  # dotted text of the called factory: "SessionLocal", "db.Session"
    variable: str
    line: int
    col: int
    in_generator: bool
    via_next: bool = False  # ``next(get_db())``: ``opener`` is the generator function


@dataclass(frozen=True, slots=True)
class PerRequestBuild:
    call: str
    line: int
    col: int
    handler: str
    in_route: bool = True  # inside a function decorated as a route
    # ``return create_engine(...)``: a factory; whether it runs per request is its callers' call
    returned: bool = False


@dataclass(frozen=True, slots=True)
class BackgroundSession:
    parameter: str
    task: str
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class SessionFacts:
    factories: frozenset[str]
    openings: tuple[Opening, ...]
    per_request: tuple[PerRequestBuild, ...]
    background_sessions: tuple[BackgroundSession, ...]
    engines: frozenset[str] = frozenset()
    # (function name, opener it returns, line, col of the returned call, called with arguments)
    wrappers: tuple[tuple[str, str, int, int, bool], ...] = ()
    # (generator function name, opener of the session it yields): ``get_db`` dependencies
    yielders: tuple[tuple[str, str], ...] = ()
    # Lines of calls whose result outlives the function that made it (see ``_kept_builds``).
    kept_call_lines: frozenset[int] = frozenset()


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _last(name: str) -> str:
    return name.rpartition(".")[2]


DB_IMPORT_HINTS = ("session", "engine", "database", "db", "sql", "repositor", "crud")


def _imports_database(summary: ModuleSummary) -> bool:
    """Imports a database library, or something of the project's database layer (a session
    factory from ``app.db``, ``get_session``...) -- a cheap pre-filter."""
    return any(
        binding.target.partition(".")[0] in DB_IMPORT_ROOTS
        or any(hint in binding.target.lower() for hint in DB_IMPORT_HINTS)
        for binding in summary.imports.values()
    )


def _is_route(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in ROUTE_METHODS
        ):
            return True
    return False


_STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")


def _definitions(
    tree: ast.Module,
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, str]]:
    """Every function and class with its dotted qualname. Only statements can hold definitions,
    so expressions are never visited (a fraction of a full ``ast.walk``)."""
    pending: list[tuple[list[ast.AST], str]] = [(list(tree.body), "")]
    while pending:
        statements, prefix = pending.pop()
        for statement in statements:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qualname = f"{prefix}{statement.name}"
                yield statement, qualname
                pending.append((list(statement.body), f"{qualname}."))
                continue
            for name in _STATEMENT_LISTS:
                inner = getattr(statement, name, None)
                if inner:
                    pending.append((list(inner), prefix))


_OWN_NODES = "_audit_own_nodes"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of ``function``'s body, without those of nested functions and classes.

    Kept on the node: the session and loop extractors both ask for every function of the same
    tree, several times each (the tree lives only while its file's facts are extracted)."""
    cached: list[ast.AST] | None = getattr(function, _OWN_NODES, None)
    if cached is not None:
        return cached
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(
            child for child in ast.iter_child_nodes(node) if not isinstance(child, _SCOPES)
        )
    setattr(function, _OWN_NODES, found)
    return found


def _guarded_names(nodes: list[ast.AST]) -> set[str]:
    """Names whose close something guarantees: closed in a ``finally``, used as a ``with`` item,
    wrapped in ``closing(...)``/``enter_context(...)``, or returned to the caller."""
    guarded: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Try | ast.TryStar):
            for statement in node.finalbody:
                for inner in ast.walk(statement):
                    if (
                        isinstance(inner, ast.Call)
                        and isinstance(inner.func, ast.Attribute)
                        and inner.func.attr in {"close", "aclose", "dispose", "remove"}
                    ):
                        guarded.add(dotted(inner.func.value))
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                guarded.add(dotted(item.context_expr))
        elif isinstance(node, ast.Call) and _last(dotted(node.func)) in {
            "closing",
            "aclosing",
            "enter_context",
            "enter_async_context",
            "push_async_callback",
            "callback",
        }:
            guarded.update(dotted(argument) for argument in node.args)
            guarded.update(
                dotted(argument.value)
                for argument in node.args
                if isinstance(argument, ast.Attribute)
            )
        elif isinstance(node, ast.Return) and node.value is not None:
            # The caller owns what is returned (itself, or inside a tuple/list).
            returned = (
                node.value.elts if isinstance(node.value, ast.Tuple | ast.List) else [node.value]
            )
            guarded.update(dotted(part) for part in returned)
            # ``return Repository(session)``: the returned object owns it now.
            guarded.update(
                dotted(argument)
                for part in returned
                if isinstance(part, ast.Call)
                for argument in [*part.args, *(keyword.value for keyword in part.keywords)]
            )
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Attribute | ast.Subscript) for target in node.targets
        ):
            # ``self.session = session`` / ``registry[key] = session``: stored for a later close.
            guarded.add(dotted(node.value))
    return guarded


CACHE_DECORATORS = frozenset({"lru_cache", "cache", "cached", "cached_property", "alru_cache"})
REQUEST_ANNOTATIONS = frozenset({"Request", "HTTPConnection", "WebSocket"})


def _request_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Parameters holding the request: annotated ``Request`` (& co.) or named ``request``."""
    arguments = function.args
    return {
        argument.arg
        for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        if argument.arg in {"request", "req"}
        or (
            argument.annotation is not None
            and _last(dotted(argument.annotation)) in REQUEST_ANNOTATIONS
        )
    }


def _opening_target(target: ast.expr, requests: set[str]) -> str:
    """The name an opened session is bound to: a plain name, or ``request.state.<name>``."""
    if isinstance(target, ast.Name):
        return target.id
    name = dotted(target)
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in requests and parts[1] == "state":
        return name
    return ""


def _is_cached(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        func = decorator.func if isinstance(decorator, ast.Call) else decorator
        if _last(dotted(func)) in CACHE_DECORATORS:
            return True
    return False


def _kept_builds(nodes: list[ast.AST]) -> set[int]:
    """ids of calls whose result outlives the call: stored in a ``global`` name or on an
    attribute/subscript (a lazy singleton, ``app.state.engine = ...``), directly or through a
    local name (``engine = make(); runtime.engine = engine``)."""
    globals_ = {name for node in nodes if isinstance(node, ast.Global) for name in node.names}
    assignments = [
        node
        for node in nodes
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
    ]
    stored_names: set[str] = set()
    kept: set[int] = set()
    for node in assignments:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(
            isinstance(target, ast.Attribute | ast.Subscript)
            or (isinstance(target, ast.Name) and target.id in globals_)
            for target in targets
        ):
            assert node.value is not None
            kept.update(id(inner) for inner in ast.walk(node.value))
            # The name itself is stored (`holder.engine = built`), not merely passed along
            # (`session.tag = track(session)`).
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            stored_names.update(value.id for value in values if isinstance(value, ast.Name))
    for node in assignments:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if any(isinstance(target, ast.Name) and target.id in stored_names for target in targets):
            assert node.value is not None
            kept.update(id(inner) for inner in ast.walk(node.value))
    return kept


def _opening_call(value: ast.expr) -> ast.Call | None:
    if isinstance(value, ast.Await):
        value = value.value
    return value if isinstance(value, ast.Call) else None


SESSION_DEP_ALIAS = re.compile(r"(?i)(session|db).*dep(endency)?$")


def _session_aliases(tree: ast.Module, summary: ModuleSummary) -> frozenset[str]:
    """Names of ``Annotated[Session, Depends(...)]`` aliases: declared here
    (``SessionDep = Annotated[AsyncSession, Depends(get_session)]``) or imported under such a
    name (``from app.deps import SessionDep``)."""
    found = {name for name in summary.imports if SESSION_DEP_ALIAS.search(name)}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if (
            isinstance(target, ast.Name)
            and isinstance(value, ast.Subscript)
            and _last(dotted(value.value)) == "Annotated"
            and isinstance(value.slice, ast.Tuple)
            and value.slice.elts
            and _last(dotted(value.slice.elts[0])) in SESSION_ANNOTATIONS
            and any(
                isinstance(extra, ast.Call) and _last(dotted(extra.func)) == "Depends"
                for extra in value.slice.elts[1:]
            )
        ):
            found.add(target.id)
    return frozenset(found)


def _session_parameters(
    function: ast.FunctionDef | ast.AsyncFunctionDef, aliases: frozenset[str] = frozenset()
) -> set[str]:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(arguments.defaults))
    defaults.extend(arguments.defaults)
    pairs = list(zip(positional, defaults, strict=True))
    pairs.extend(zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True))
    found: set[str] = set()
    for argument, default in pairs:
        annotation = argument.annotation
        injected = isinstance(default, ast.Call) and _last(dotted(default.func)) == "Depends"
        if isinstance(annotation, ast.Subscript) and _last(dotted(annotation.value)) == "Annotated":
            elements = (
                annotation.slice.elts
                if isinstance(annotation.slice, ast.Tuple)
                else [annotation.slice]
            )
            annotation = elements[0]
            injected = injected or any(
                isinstance(extra, ast.Call) and _last(dotted(extra.func)) == "Depends"
                for extra in elements[1:]
            )
        if (
            injected and annotation is not None and _last(dotted(annotation)) in SESSION_ANNOTATIONS
        ) or (isinstance(annotation, ast.Name) and annotation.id in aliases):
            found.add(argument.arg)
    return found


def _local_names(
    function: ast.FunctionDef | ast.AsyncFunctionDef, nodes: list[ast.AST]
) -> set[str]:
    """Parameters and names the function binds itself: ``sessionmaker()`` on a local named
    ``sessionmaker`` (one read from ``request.state``, say) calls that object, not SQLAlchemy."""
    arguments = function.args
    found = {
        argument.arg
        for argument in [
            *arguments.posonlyargs,
            *arguments.args,
            *arguments.kwonlyargs,
            *(a for a in (arguments.vararg, arguments.kwarg) if a is not None),
        ]
    }
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
    return found


def _scan_function(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    openings: list[Opening],
    per_request: list[PerRequestBuild],
    background: list[BackgroundSession],
    aliases: frozenset[str] = frozenset(),
    *,
    kept_call_lines: set[int] | None = None,
) -> None:
    nodes = _own_nodes(function)
    guarded = _guarded_names(nodes)
    is_generator = any(isinstance(node, ast.Yield | ast.YieldFrom) for node in nodes)
    is_route = _is_route(function)
    sessions = _session_parameters(function, aliases)
    requests = _request_parameters(function)
    cached = _is_cached(function)
    kept = _kept_builds(nodes) if not cached else set()
    local_names = _local_names(function, nodes)
    if kept_call_lines is not None:
        kept_call_lines.update(
            node.lineno for node in nodes if isinstance(node, ast.Call) and id(node) in kept
        )
    returned = {
        id(node.value) for node in nodes if isinstance(node, ast.Return) and node.value is not None
    }
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            variable = _opening_target(node.targets[0], requests)
            call = _opening_call(node.value)
            if variable and call is not None and variable not in guarded:
                opener = dotted(call.func)
                via_next = opener in {"next", "anext"} and bool(call.args)
                if via_next:
                    inner = _opening_call(call.args[0])
                    opener = dotted(inner.func) if inner is not None else ""
                if opener:
                    openings.append(
                        Opening(
                            opener,
                            variable,
                            call.lineno,
                            call.col_offset + 1,
                            is_generator,
                            via_next,
                        )
                    )
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        shadowed = isinstance(node.func, ast.Name) and node.func.id in local_names
        if (
            _last(name) in PER_REQUEST_CALLS
            and not cached
            and not shadowed
            and id(node) not in kept
        ):
            per_request.append(
                PerRequestBuild(
                    name,
                    node.lineno,
                    node.col_offset + 1,
                    function.name,
                    is_route,
                    id(node) in returned,
                )
            )
        if sessions and _last(name) == "add_task":
            for argument in [*node.args[1:], *(keyword.value for keyword in node.keywords)]:
                if isinstance(argument, ast.Name) and argument.id in sessions:
                    task = dotted(node.args[0]) if node.args else ""
                    background.append(
                        BackgroundSession(argument.id, task, node.lineno, node.col_offset + 1)
                    )
                    break


@fact_extractor("db_sessions")
def extract_sessions(tree: ast.Module, summary: ModuleSummary) -> SessionFacts | None:
    if not _imports_database(summary):
        return None
    factories: set[str] = set()
    engines: set[str] = set()
    wrappers: list[tuple[str, str, int, int, bool]] = []
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            returned = _returned_opener(statement)
            if returned is not None:
                wrappers.append(
                    (
                        statement.name,
                        dotted(returned.func),
                        *_position(returned),
                        bool(returned.args or returned.keywords),
                    )
                )
    builders = {name for name, opener, *_ in wrappers if _last(opener) in FACTORY_CALLS}
    yielders = [
        (statement.name, opener)
        for statement in tree.body
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
        and (opener := _yielded_opener(statement))
    ]
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign | ast.AnnAssign)
            and isinstance(statement.value, ast.Call)
        ):
            continue
        called = _last(dotted(statement.value.func))
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = {target.id for target in targets if isinstance(target, ast.Name)}
        if called in FACTORY_CALLS or called in builders:
            factories.update(names)
        elif called in ENGINE_CALLS:
            engines.update(names)
    openings: list[Opening] = []
    per_request: list[PerRequestBuild] = []
    background: list[BackgroundSession] = []
    aliases = _session_aliases(tree, summary)
    kept_call_lines: set[int] = set()
    for node, _qualname in _definitions(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _scan_function(
                node, openings, per_request, background, aliases, kept_call_lines=kept_call_lines
            )
    if not (factories or openings or per_request or background or engines or wrappers or yielders):
        return None
    return SessionFacts(
        frozenset(factories),
        tuple(openings),
        tuple(per_request),
        tuple(background),
        frozenset(engines),
        tuple(wrappers),
        tuple(yielders),
        frozenset(kept_call_lines),
    )


def _name_bindings(nodes: list[ast.AST]) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) for ``name = value`` and ``with value as name`` among ``nodes``."""
    for node in nodes:
        if isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    yield item.optional_vars.id, item.context_expr
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            yield node.targets[0].id, node.value


def _yielded_opener(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """``def get_db(): db = SessionLocal(); try: yield db ...`` (or ``with SessionLocal() as
    db: yield db``): the dotted text of the call whose result the generator yields."""
    nodes = _own_nodes(function)
    yielded = {
        node.value.id
        for node in nodes
        if isinstance(node, ast.Yield) and isinstance(node.value, ast.Name)
    }
    if not yielded:
        return ""
    for name, value in _name_bindings(nodes):
        call = _opening_call(value)
        if name in yielded and call is not None:
            return dotted(call.func)
    return ""


def _position(call: ast.Call) -> tuple[int, int]:
    return call.lineno, call.col_offset + 1


def _returned_opener(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Call | None:
    """``def new_session(): return SessionLocal()``: the call a plain (non-generator, uncached)
    function returns as is, else None."""
    if _is_cached(function):
        return None
    nodes = _own_nodes(function)
    if any(isinstance(node, ast.Yield | ast.YieldFrom) for node in nodes):
        return None
    returned = [node.value for node in nodes if isinstance(node, ast.Return) and node.value]
    if len(returned) != 1:
        return None
    call = _opening_call(returned[0])
    return call if call is not None and dotted(call.func) else None


# -- queries and lazy loads inside loops (DB-N-PLUS-ONE) ------------------------------------------

QUERY_METHODS = frozenset(
    {
        "execute",
        "scalars",
        "scalar",
        "query",
        "exec",
        "get",
        "get_one",
        "stream",
        "stream_scalars",
        "refresh",
    }
)
SESSION_NAMES = frozenset({"session", "db", "db_session", "dbsession"})
SESSION_TYPES = frozenset({"Session", "AsyncSession", "Connection", "AsyncConnection"})
EAGER_LOADERS = frozenset(
    {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"}
)
RELATIONSHIP_CALLS = frozenset({"relationship", "Relationship"})
# lazy= values that do not issue one query per parent on attribute access.
EAGER_LAZY_VALUES = frozenset(
    {"selectin", "joined", "subquery", "immediate", "raise", "raise_on_sql", "noload"}
)


@dataclass(frozen=True, slots=True)
class LoopFact:
    function: str  # dotted qualname of the enclosing function
    line: int
    source_is_query: bool  # iterates over rows a query of this function returned
    source_call: str  # or over what this call returns ("crud.list_notes"), "" otherwise
    query_line: int  # first query executed in the body, 0 if none
    query_col: int
    # (attribute, line, col, row) read on a row: the loop target (row = True) or an object
    # reached from it through an attribute (``for item in order.items``; row = False).
    lazy_accesses: tuple[tuple[str, int, int, bool], ...]
    entity: str = ""  # class name of the queried entity (``select(Order)``), "" if unknown
    # Calls in the body handed the session, or methods of an object built here
    # (``count_open(db, row.id)``, ``repo.count(row.id)``): (callee text, line, col); the
    # detector reports those that run a query.
    helper_calls: tuple[tuple[str, int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class QueryFunction:
    returns_query: bool  # returns rows of a query it runs
    eager_attributes: frozenset[str]  # relationships it loads with selectinload/joinedload
    entity: str = ""  # class name of the entity whose rows it returns, "" if unknown
    runs_query: bool = False  # executes a query on a session it is handed or holds


@dataclass(frozen=True, slots=True)
class LoopFacts:
    # (class name, attribute, loaded eagerly by its lazy=)
    relationships: tuple[tuple[str, str, bool], ...]
    functions: dict[str, QueryFunction]  # dotted qualname -> how it queries
    loops: tuple[LoopFact, ...]
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (class name, base names)


def _session_receivers(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    receivers = set(SESSION_NAMES) | {f"self.{name}" for name in SESSION_NAMES}
    arguments = function.args
    for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
        annotation = argument.annotation
        if isinstance(annotation, ast.Subscript) and _last(dotted(annotation.value)) == "Annotated":
            slice_ = annotation.slice
            annotation = slice_.elts[0] if isinstance(slice_, ast.Tuple) else slice_
        if annotation is not None and _last(dotted(annotation)) in SESSION_TYPES:
            receivers.add(argument.arg)
    return receivers


HTTP_LIBRARIES = frozenset({"requests", "aiohttp", "httpx", "niquests", "boto3", "botocore"})
# Receivers named after another kind of store or an HTTP client: not a database session.
HTTP_WORDS = ("http", "client", "aio", "web", "request", "redis", "mongo", "cache", "s3")


def _opens_a_session(call: ast.expr, http_names: frozenset[str]) -> bool:
    """``SessionLocal()``, ``Session(engine)``, ``async_session()``, ``get_session()``,
    ``engine.connect()``/``engine.begin()``: a call whose result runs queries."""
    if isinstance(call, ast.Await):
        call = call.value
    if not isinstance(call, ast.Call):
        return False
    name = dotted(call.func)
    receiver, _, last = name.rpartition(".")
    root = name.partition(".")[0]
    if root in HTTP_LIBRARIES or root in http_names or any(w in last.lower() for w in HTTP_WORDS):
        return False  # requests.Session(), aiohttp.ClientSession(): HTTP, not SQL
    if "session" in last.lower():
        return True
    return last in {"connect", "begin"} and receiver.rpartition(".")[2].lower().endswith("engine")


def _http_clients(nodes: list[ast.AST], http_names: frozenset[str]) -> set[str]:
    """Names bound to an HTTP client (``with requests.Session() as session``): never a
    database session, whatever they are called."""
    found: set[str] = set()
    for target, bound_value in _name_bindings(nodes):
        value = bound_value.value if isinstance(bound_value, ast.Await) else bound_value
        if not isinstance(value, ast.Call):
            continue
        name = dotted(value.func)
        root = name.partition(".")[0]
        if root in HTTP_LIBRARIES or root in http_names or "client" in _last(name).lower():
            found.add(target)
    return found


def _opened_receivers(nodes: list[ast.AST], http_names: frozenset[str]) -> set[str]:
    """Names bound to a session or connection the function opens itself
    (``with SessionLocal() as s``, ``conn = engine.connect()``)."""
    return {name for name, value in _name_bindings(nodes) if _opens_a_session(value, http_names)}


ENTITY_CALLS = frozenset({"select", "query"})


def _entity(expression: ast.AST, known: dict[str, str]) -> str:
    """The class name of the entity a query selects: ``select(Order)`` -> ``Order``,
    ``db.query(models.Order)`` -> ``Order``; through names bound to statements or rows."""
    for node in ast.walk(expression):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else dotted(func)
            if name in ENTITY_CALLS and node.args:
                first = node.args[0]
                last = _last(dotted(first))
                return last if last[:1].isupper() else ""
        elif isinstance(node, ast.Name) and node.id in known:
            return known[node.id]
    return ""


def _is_query_call(node: ast.AST, receivers: set[str]) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in QUERY_METHODS
        and dotted(node.func.value) in receivers
    )


def _eager_attributes(nodes: list[ast.AST]) -> set[str]:
    found: set[str] = set()
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        # ``selectinload(A.b).joinedload(B.c)``: chained loaders have no dotted name.
        called = func.attr if isinstance(func, ast.Attribute) else dotted(func)
        if called in EAGER_LOADERS:
            for argument in node.args:
                if isinstance(argument, ast.Attribute):
                    found.add(argument.attr)
                elif isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.add(argument.value)
        elif called == "refresh":
            # ``session.refresh(row, attribute_names=["items"])`` loads those attributes.
            for argument in [*node.args[1:], *(k.value for k in node.keywords)]:
                if isinstance(argument, ast.List | ast.Tuple | ast.Set):
                    found.update(
                        element.value
                        for element in argument.elts
                        if isinstance(element, ast.Constant) and isinstance(element.value, str)
                    )
    return found


def _target_names(target: ast.expr) -> set[str]:
    return {node.id for node in ast.walk(target) if isinstance(node, ast.Name)}


def _subtree(roots: list[ast.AST]) -> list[ast.AST]:
    found: list[ast.AST] = []
    pending = list(roots)
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(
            child
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        )
    return found


ROW_WRAPPERS = frozenset({"list", "tuple", "sorted", "enumerate", "set", "reversed"})
# Methods of results and legacy queries that still stand for the rows of the same query.
ROW_METHODS = frozenset(
    {
        "all",
        "scalars",
        "fetchall",
        "unique",
        "mappings",
        "tuples",
        "yield_per",
        "partitions",
        "filter",
        "filter_by",
        "where",
        "order_by",
        "limit",
        "offset",
        "options",
        "join",
        "outerjoin",
        "distinct",
        "group_by",
    }
)


def _session_like(receiver: str) -> bool:
    """``session``, ``async_session``, ``self._session``, ``read_db``: a receiver named like a
    database session (and not like an HTTP one)."""
    last = receiver.rpartition(".")[2].lstrip("_").lower()
    if any(word in last for word in HTTP_WORDS):
        return False
    return last in SESSION_NAMES or last.endswith(("session", "_db"))


def _named_receivers(nodes: list[ast.AST]) -> set[str]:
    """Receivers of query-method calls named like a session (``self._session.execute``)."""
    return {
        receiver
        for node in nodes
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in QUERY_METHODS
        and (receiver := dotted(node.func.value))
        and _session_like(receiver)
    }


def _is_rows(expression: ast.expr, receivers: set[str], query_names: set[str]) -> bool:
    """Whether ``expression`` is the rows of a query: ``(await s.scalars(q)).all()``,
    ``list(db.scalars(q))``, ``db.query(M).filter(...).all()``, ``result.scalars()``..."""
    while True:
        if isinstance(expression, ast.Await | ast.Subscript):
            expression = expression.value
        elif isinstance(expression, ast.Name):
            return expression.id in query_names
        elif isinstance(expression, ast.Call):
            if _is_query_call(expression, receivers):
                return True
            function = expression.func
            if isinstance(function, ast.Name) and function.id in ROW_WRAPPERS and expression.args:
                expression = expression.args[0]
            elif isinstance(function, ast.Attribute) and function.attr in ROW_METHODS:
                expression = function.value
            else:
                return False
        else:
            return False


def _loops_of(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    qualname: str,
    loops: list[LoopFact],
    http_names: frozenset[str] = frozenset(),
) -> QueryFunction:
    nodes = _own_nodes(function)
    receivers = (
        _session_receivers(function)
        | _opened_receivers(nodes, http_names)
        | _named_receivers(nodes)
    ) - _http_clients(nodes, http_names)
    # Names holding query rows, followed through assignments (in any order, twice), and the
    # entity of the statements and rows names hold.
    query_names: set[str] = set()
    entities: dict[str, str] = {}
    assignments = [node for node in nodes if isinstance(node, ast.Assign)]
    for _ in range(2):
        before = (len(query_names), len(entities))
        for assignment in assignments:
            targets = [target.id for target in assignment.targets if isinstance(target, ast.Name)]
            if _is_rows(assignment.value, receivers, query_names):
                query_names.update(targets)
            entity = _entity(assignment.value, entities)
            if entity:
                entities.update(dict.fromkeys(targets, entity))
        if (len(query_names), len(entities)) == before:
            break  # nothing learnt: a second pass would read the same

    def from_query(expression: ast.expr) -> bool:
        return _is_rows(expression, receivers, query_names)

    # ``repo = CustomerRepository(db)``: calls on ``repo`` are calls of the class's methods.
    instances = {
        target.id: dotted(assignment.value.func)
        for assignment in assignments
        if isinstance(assignment.value, ast.Call)
        and _last(dotted(assignment.value.func))[:1].isupper()
        for target in assignment.targets
        if isinstance(target, ast.Name)
    }

    def callee_text(call: ast.Call) -> str:
        head, _, rest = dotted(call.func).partition(".")
        if rest and head in instances:
            return f"{instances[head]}.{rest}"
        return dotted(call.func)

    def source_of(expression: ast.expr) -> str:
        """``f(...)``, ``await f(...)``, ``list(f(...))``: the callee whose result is iterated."""
        while (
            isinstance(expression, ast.Call)
            and isinstance(expression.func, ast.Name)
            and expression.func.id in {"list", "tuple", "enumerate", "sorted"}
            and expression.args
        ):
            expression = expression.args[0]
        if isinstance(expression, ast.Await):
            expression = expression.value
        return callee_text(expression) if isinstance(expression, ast.Call) else ""

    # ``customers = await crud.newest(db)``: names bound to what a call returns.
    call_names = {
        target.id: source
        for assignment in assignments
        if (source := source_of(assignment.value))
        for target in assignment.targets
        if isinstance(target, ast.Name)
    }

    for node in nodes:
        if isinstance(node, ast.For | ast.AsyncFor):
            headers: list[tuple[ast.expr, ast.expr, list[ast.AST]]] = [
                (node.target, node.iter, list(node.body))
            ]
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            element: list[ast.AST] = (
                [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            )
            headers = [
                (generator.target, generator.iter, [*element, *generator.ifs])
                for generator in node.generators
            ]
        else:
            continue
        for target, iterable, body in headers:
            # Rows of a query, or a collection of an object a query returned
            # (``user = await session.get(User, id)`` ... ``for order in user.orders``).
            collection = (
                isinstance(iterable, ast.Attribute)
                and isinstance(iterable.value, ast.Name)
                and iterable.value.id in query_names
            )
            source_is_query = collection or from_query(iterable)
            source_call = ""
            if not source_is_query:
                source_call = source_of(iterable)
                if not source_call and isinstance(iterable, ast.Name):
                    source_call = call_names.get(iterable.id, "")
            if not (source_is_query or source_call):
                continue
            names = _target_names(target)
            inner = _subtree(body)
            reached = _reached_names(inner, names)
            query_calls = [part for part in inner if _is_query_call(part, receivers)]
            first = min(query_calls, key=lambda part: getattr(part, "lineno", 0), default=None)
            lazy = tuple(sorted(_row_attributes(inner, names, reached)))
            queries = {id(part) for part in query_calls}
            helpers = tuple(
                (callee_text(part), part.lineno, part.col_offset + 1)
                for part in inner
                if isinstance(part, ast.Call)
                and id(part) not in queries
                and _hands_session(part, receivers, instances)
            )
            if first is None and not lazy and not helpers:
                continue
            loops.append(
                LoopFact(
                    qualname,
                    node.lineno,
                    source_is_query,
                    source_call,
                    getattr(first, "lineno", 0),
                    getattr(first, "col_offset", -1) + 1,
                    lazy,
                    # Tuple targets (``for order, customer in ...``) mix entities.
                    _entity(iterable, entities)
                    if source_is_query and not collection and isinstance(target, ast.Name)
                    else "",
                    helpers,
                )
            )
    returned = [
        node.value
        for node in nodes
        if isinstance(node, ast.Return) and node.value is not None and from_query(node.value)
    ]
    entity = _entity(returned[0], entities) if returned else ""
    runs_query = any(_is_query_call(node, receivers) for node in nodes)
    return QueryFunction(bool(returned), frozenset(_eager_attributes(nodes)), entity, runs_query)


def _row_attributes(
    inner: list[ast.AST], rows: set[str], reached: set[str]
) -> Iterator[tuple[str, int, int, bool]]:
    """Attributes read on the rows or on objects reached from them: ``row.customer``, and the
    explicit async lazy load ``await row.awaitable_attrs.customer``."""
    for part in inner:
        if not isinstance(part, ast.Attribute):
            continue
        value = part.value
        if isinstance(value, ast.Attribute) and value.attr == "awaitable_attrs":
            value = value.value
        if isinstance(value, ast.Name) and (value.id in rows or value.id in reached):
            yield part.attr, part.lineno, part.col_offset + 1, value.id in rows


def _hands_session(call: ast.Call, receivers: set[str], instances: dict[str, str]) -> bool:
    """A call given the session (``count_open(db, row.id)``) or a method of an object built in
    the function (``repo.count(row.id)``, ``repo = Repository(db)``)."""
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    if any(dotted(argument) in receivers for argument in arguments):
        return True
    func = call.func
    return isinstance(func, ast.Attribute) and dotted(func.value) in instances


def _reached_names(inner: list[ast.AST], rows: set[str]) -> set[str]:
    """Names bound, inside a loop body, to objects reached from the rows through an attribute:
    ``for item in order.items``, ``[i for i in order.items]``, ``customer = order.customer``."""

    def from_row(expression: ast.expr, known: set[str]) -> bool:
        while (
            isinstance(expression, ast.Call)
            and isinstance(expression.func, ast.Name)
            and expression.func.id in ROW_WRAPPERS
            and expression.args
        ):
            expression = expression.args[0]
        return (
            isinstance(expression, ast.Attribute)
            and isinstance(expression.value, ast.Name)
            and expression.value.id in known
        )

    reached: set[str] = set()
    for _ in range(2):
        known = rows | reached
        for node in inner:
            if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                if from_row(node.iter, known):
                    reached |= _target_names(node.target)
            elif (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and from_row(node.value, known)
            ):
                reached.add(node.targets[0].id)
    return reached - rows


def _relationships(classes: list[ast.ClassDef]) -> list[tuple[str, str, bool]]:
    found: list[tuple[str, str, bool]] = []
    for node in classes:
        for statement in node.body:
            if not isinstance(statement, ast.Assign | ast.AnnAssign):
                continue
            value = statement.value
            if not (
                isinstance(value, ast.Call) and _last(dotted(value.func)) in RELATIONSHIP_CALLS
            ):
                continue
            eager = any(
                keyword.arg == "lazy"
                and isinstance(keyword.value, ast.Constant)
                and keyword.value.value in EAGER_LAZY_VALUES
                for keyword in value.keywords
            ) or any(keyword.arg == "sa_relationship_kwargs" for keyword in value.keywords)
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            found.extend(
                (node.name, target.id, eager) for target in targets if isinstance(target, ast.Name)
            )
    return found


@fact_extractor("db_loops")
def extract_loops(tree: ast.Module, summary: ModuleSummary) -> LoopFacts | None:
    if not _imports_database(summary):
        return None
    functions: dict[str, QueryFunction] = {}
    loops: list[LoopFact] = []
    # Names imported from HTTP libraries (``from requests import Session``): not DB sessions.
    http_names = frozenset(
        name
        for name, binding in summary.imports.items()
        if binding.target.partition(".")[0] in HTTP_LIBRARIES
    )
    classes: list[ast.ClassDef] = []
    for node, qualname in _definitions(tree):
        if isinstance(node, ast.ClassDef):
            classes.append(node)
        else:
            functions[qualname] = _loops_of(node, qualname, loops, http_names)
    relationships = _relationships(classes)
    if not (relationships or loops or any(f.returns_query for f in functions.values())):
        return None
    bases = tuple(
        (node.name, tuple(_last(dotted(base)) for base in node.bases)) for node in classes
    )
    return LoopFacts(tuple(relationships), functions, tuple(loops), bases)


# -- literal beginnings of engine URLs built with f-strings (DB-POOL-CONFIG) ----------------------


def _fstring_prefix(node: ast.expr) -> str | None:
    """The literal text an f-string starts with (``f"sqlite:///{path}"`` -> ``"sqlite:///"``);
    also through ``+`` (``"sqlite:///" + str(path)``). None when it is no such string."""
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        return ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
            return node.left.value
        return _fstring_prefix(node.left)
    return None


@fact_extractor("db_engine_url_prefixes")
def engine_url_prefixes(tree: ast.Module, summary: ModuleSummary) -> dict[int, str] | None:
    """``{line: prefix}`` for every ``create_engine(...)``/``create_async_engine(...)`` whose URL
    is an f-string or a concatenation (directly, or through a name bound to one in this file):
    the summary keeps no f-string text, and the scheme decides whether a pool matters."""
    if not any(
        binding.target.rpartition(".")[2] in ENGINE_CALLS or binding.target in ENGINE_MODULES
        for binding in summary.imports.values()
    ):
        return None  # no engine builder in reach: skip walking the whole tree
    built: dict[str, str] = {}
    calls: list[ast.Call] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            prefix = _fstring_prefix(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if prefix is not None:
                built.update((t.id, prefix) for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Call) and _last(dotted(node.func)) in ENGINE_CALLS:
            calls.append(node)
    found: dict[int, str] = {}
    for call in calls:
        url = (
            call.args[0]
            if call.args
            else next((k.value for k in call.keywords if k.arg == "url"), None)
        )
        if url is None:
            continue
        prefix = built.get(url.id) if isinstance(url, ast.Name) else _fstring_prefix(url)
        if prefix:
            found[call.lineno] = prefix
    return found or None
