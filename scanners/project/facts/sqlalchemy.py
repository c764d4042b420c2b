"""Per-file facts: where database sessions and connections are opened, and whether they are closed.

``"db_sessions"``: a ``SessionFacts`` with

- ``factories``: module-level names bound to ``sessionmaker(...)``, ``async_sessionmaker(...)`` or
  ``scoped_session(...)`` (calling one opens a session);
- ``openings``: every ``name = <opener>(...)`` inside a function whose result is neither a
  ``with``/``async with`` item, closed in a ``finally``, wrapped in ``closing(...)``, handed to
  ``enter_context`` nor returned -- that is, nothing guarantees its close. The opener's dotted
  text is kept; whether it is really a session factory is decided across modules by the detector;
- ``per_request``: ``sessionmaker``/``async_sessionmaker``/``create_engine``/
  ``create_async_engine`` calls inside route handlers (a decorator ``@<router>.get(...)`` & co.);
- ``background_sessions``: ``<tasks>.add_task(fn, session, ...)`` inside a function where
  ``session`` is a parameter annotated as a SQLAlchemy/SQLModel session and injected with
  ``Depends(...)`` (its dependency closes it when the response is sent).

Files that import neither ``sqlalchemy``, ``sqlmodel`` nor a DB-API driver are skipped.
"""

from __future__ import annotations

import ast
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


@dataclass(frozen=True, slots=True)
class PerRequestBuild:
    call: str
    line: int
    col: int
    handler: str


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


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def _imports_database(summary: ModuleSummary) -> bool:
    return any(
        binding.target.partition(".")[0] in DB_IMPORT_ROOTS for binding in summary.imports.values()
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


def _own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.AST]:
    """The nodes of ``function``'s body, without those of nested functions and classes."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ):
                continue
            pending.append(child)
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
    return guarded


def _opening_call(value: ast.expr) -> ast.Call | None:
    if isinstance(value, ast.Await):
        value = value.value
    return value if isinstance(value, ast.Call) else None


def _session_parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
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
        if injected and annotation is not None and _last(dotted(annotation)) in SESSION_ANNOTATIONS:
            found.add(argument.arg)
    return found


def _scan_function(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    openings: list[Opening],
    per_request: list[PerRequestBuild],
    background: list[BackgroundSession],
) -> None:
    nodes = _own_nodes(function)
    guarded = _guarded_names(nodes)
    is_generator = any(isinstance(node, ast.Yield | ast.YieldFrom) for node in nodes)
    is_route = _is_route(function)
    sessions = _session_parameters(function)
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            call = _opening_call(node.value)
            if isinstance(target, ast.Name) and call is not None and target.id not in guarded:
                opener = dotted(call.func)
                if opener:
                    openings.append(
                        Opening(opener, target.id, call.lineno, call.col_offset + 1, is_generator)
                    )
        if not isinstance(node, ast.Call):
            continue
        name = dotted(node.func)
        if is_route and _last(name) in PER_REQUEST_CALLS:
            per_request.append(
                PerRequestBuild(name, node.lineno, node.col_offset + 1, function.name)
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
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign | ast.AnnAssign)
            and isinstance(statement.value, ast.Call)
            and _last(dotted(statement.value.func)) in FACTORY_CALLS
        ):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            factories.update(target.id for target in targets if isinstance(target, ast.Name))
    openings: list[Opening] = []
    per_request: list[PerRequestBuild] = []
    background: list[BackgroundSession] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _scan_function(node, openings, per_request, background)
    if not (factories or openings or per_request or background):
        return None
    return SessionFacts(
        frozenset(factories), tuple(openings), tuple(per_request), tuple(background)
    )
