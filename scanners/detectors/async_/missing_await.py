"""Detector for ASYNC-MISSING-AWAIT."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import NamedTuple

from scanners.detectors.base import make_call_finding, render
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.parsing import parse_python
from scanners.project.infer import infer_callee
from scanners.project.model import FunctionInfo, Project
from scanners.project.resolve import Value
from scanners.project.summary import (
    USAGE_ARG,
    USAGE_ASSIGN,
    USAGE_ELEMENT,
    USAGE_RECEIVER,
    USAGE_RETURN,
    USAGE_STMT,
    USAGE_VALUE,
    CallSite,
    Expr,
)

RULE_ID = "missing-await"
CATEGORY = "ASYNC-MISSING-AWAIT"

# Coroutine methods of third-party async types.
_ASYNC_CLIENT_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "aclose"}
)
COROUTINE_METHODS: dict[str, frozenset[str]] = {
    "sqlalchemy.ext.asyncio.AsyncSession": frozenset(
        {
            "commit",
            "execute",
            "flush",
            "refresh",
            "close",
            "rollback",
            "scalars",
            "scalar",
            "get",
            "get_one",
            "delete",
            "merge",
            "stream",
            "stream_scalars",
            "connection",
            "run_sync",
            "invalidate",
        }
    ),
    "sqlalchemy.ext.asyncio.AsyncEngine": frozenset({"dispose"}),
    "sqlalchemy.ext.asyncio.AsyncConnection": frozenset(
        {
            "execute",
            "scalar",
            "scalars",
            "commit",
            "rollback",
            "close",
            "run_sync",
            "exec_driver_sql",
            "stream",
        }
    ),
    "httpx.AsyncClient": _ASYNC_CLIENT_VERBS,
    "aiohttp.ClientSession": frozenset(
        {
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "request",
            "close",
            "ws_connect",
        }
    ),
    "redis.asyncio.Redis": frozenset(
        {
            "get",
            "set",
            "setex",
            "delete",
            "incr",
            "decr",
            "expire",
            "hget",
            "hset",
            "hgetall",
            "publish",
            "exists",
            "aclose",
            "lpush",
            "rpush",
            "lpop",
            "rpop",
            "sadd",
            "srem",
        }
    ),
}
# Starlette's request, upload and websocket objects (as FastAPI re-exports them too).
_REQUEST_METHODS = frozenset({"json", "body", "form", "is_disconnected", "close"})
_UPLOAD_METHODS = frozenset({"read", "write", "seek", "close"})
_WEBSOCKET_METHODS = frozenset(
    {
        "accept",
        "close",
        "receive",
        "send",
        "receive_text",
        "receive_bytes",
        "receive_json",
        "send_text",
        "send_bytes",
        "send_json",
        "send_denial_response",
    }
)
for _module in ("fastapi", "fastapi.requests", "starlette.requests"):
    COROUTINE_METHODS[f"{_module}.Request"] = _REQUEST_METHODS
for _module in ("fastapi", "fastapi.datastructures", "starlette.datastructures"):
    COROUTINE_METHODS[f"{_module}.UploadFile"] = _UPLOAD_METHODS
for _module in ("fastapi", "fastapi.websockets", "starlette.websockets"):
    COROUTINE_METHODS[f"{_module}.WebSocket"] = _WEBSOCKET_METHODS
# anyio's async path: its I/O methods are coroutines (the pure path methods are not).
COROUTINE_METHODS["anyio.Path"] = frozenset(
    {
        "read_text",
        "read_bytes",
        "write_text",
        "write_bytes",
        "open",
        "exists",
        "is_file",
        "is_dir",
        "mkdir",
        "unlink",
        "rename",
        "replace",
        "rmdir",
        "stat",
        "touch",
        "resolve",
        "absolute",
        "chmod",
        "samefile",
    }
)
COROUTINE_FUNCTIONS = frozenset(
    {
        "asyncio.sleep",
        "asyncio.wait_for",
        "asyncio.wait",
        "asyncio.open_connection",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "anyio.sleep",
        # Hand-offs to a thread are coroutines too: without `await` the job never runs.
        "asyncio.to_thread",
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
        "anyio.to_thread.run_sync",
    }
)


def _coroutine_name(project: Project, callee: Value | None, site: CallSite) -> str:
    """The name of the coroutine function this call creates a coroutine of, or ""."""
    if callee is None:
        return ""
    kind = callee[0]
    if kind == "func":
        target = project.function(callee[1])
        if target is not None and target.summary.is_async and not target.summary.has_yield:
            return f"{target.display}()"
        return ""
    if kind == "bound":
        methods = COROUTINE_METHODS.get(callee[1])
        if methods is not None and callee[2] in methods:
            return f"{callee[1].rsplit('.', 1)[-1]}.{callee[2]}() ({render(site.func)})"
        return ""
    if kind == "ext" and callee[1] in COROUTINE_FUNCTIONS:
        return f"{callee[1]}()"
    return ""


# Displays a value can sit in and still be the value an `async def` returns as is.
_DISPLAYS = (ast.Dict, ast.List, ast.Tuple, ast.Set, ast.Starred)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class _FunctionTree(NamedTuple):
    """A function's syntax tree, each node's parent and its calls by (line, col)."""

    node: _FunctionNode
    parents: dict[ast.AST, ast.AST]
    calls: dict[tuple[int, int], ast.Call]


def _module_functions(project: Project, path: str) -> dict[tuple[str, int], _FunctionNode]:
    """The file's functions by (name, line), parsed again once per file (the summaries keep no
    syntax trees)."""

    def parse() -> dict[tuple[str, int], _FunctionNode]:
        try:
            text = (project.root / path).read_text(encoding="utf-8", errors="replace")
            tree = parse_python(text, path)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return {}
        return {
            (node.name, node.lineno): node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    return project.memo(f"async.missing_await.functions:{path}", parse)


def _function_tree(project: Project, info: FunctionInfo) -> _FunctionTree | None:
    def compute() -> _FunctionTree | None:
        fs = info.summary
        node = _module_functions(project, info.path).get((fs.name, fs.line))
        if node is None:
            return None
        parents: dict[ast.AST, ast.AST] = {}
        calls: dict[tuple[int, int], ast.Call] = {}
        for parent in ast.walk(node):
            if isinstance(parent, ast.Call):
                calls.setdefault((parent.lineno, parent.col_offset + 1), parent)
            for child in ast.iter_child_nodes(parent):
                parents[child] = parent
        return _FunctionTree(node, parents, calls)

    return project.memo(f"async.missing_await.tree:{info.fid}", compute)


def _returned_as_is(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Is this expression (alone or inside list/dict/tuple displays) what a `return` returns?"""
    current = node
    while True:
        parent = parents.get(current)
        if isinstance(parent, ast.Return):
            return True
        if not isinstance(parent, _DISPLAYS):
            return False
        current = parent


def _only_lost(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    name: str,
    lost: Callable[[ast.Name], bool],
) -> bool:
    """Does every read of ``name`` in the function's own scope lose the coroutine (``lost``)?
    A read in a nested function or lambda may await it there."""
    reads = 0
    stack: list[ast.AST] = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            if any(isinstance(inner, ast.Name) and inner.id == name for inner in ast.walk(node)):
                return False
            continue
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load):
            if not lost(node):
                return False
            reads += 1
        stack.extend(ast.iter_child_nodes(node))
    return reads > 0


def _read_in_closure(project: Project, info: FunctionInfo, name: str) -> bool:
    """Does a nested function or lambda read ``name`` (and may await it there)?"""
    found = _function_tree(project, info)
    if found is None:
        return False
    function = found.node
    return any(
        isinstance(inner, ast.Name) and inner.id == name and isinstance(inner.ctx, ast.Load)
        for node in ast.walk(function)
        if node is not function and isinstance(node, _SCOPES)
        for inner in ast.walk(node)
    )


def _returned_unawaited(project: Project, info: FunctionInfo, site: CallSite) -> str:
    """A coroutine kept in a variable or a display that is never awaited: an `async def` hands
    it back inside its return value (`rows = repo.latest()` ... `return {"rows": rows}`: a
    route's return value is serialized, a helper's caller awaits the helper, not what it
    returns), or it only reaches built-ins (`str(data)`, `len(rows)`)."""
    found = _function_tree(project, info)
    if found is None:
        return ""
    function, parents, calls = found
    is_async = info.summary.is_async

    def lost(node: ast.AST) -> bool:
        if is_async and _returned_as_is(node, parents):
            return True
        parent = parents.get(node)
        return (
            isinstance(parent, ast.Call)
            and node in parent.args
            and isinstance(parent.func, ast.Name)
            and bool(_builtin_name(project, info, ("name", parent.func.id)))
        )

    if site.usage == USAGE_ASSIGN and site.target:
        if _only_lost(function, site.target, lost):
            return f"it is assigned to {site.target!r}, which is never awaited"
        return ""
    if site.usage == USAGE_ELEMENT and is_async:
        call = calls.get((site.line, site.col))
        if call is None:
            return ""
        if _returned_as_is(call, parents):
            return "an async def returns it unawaited inside its return value"
        holder = parents.get(call)
        while isinstance(holder, _DISPLAYS):
            holder = parents.get(holder)
        if (
            isinstance(holder, ast.Assign)
            and len(holder.targets) == 1
            and isinstance(holder.targets[0], ast.Name)
            and _only_lost(function, holder.targets[0].id, lost)
        ):
            return f"it is stored in {holder.targets[0].id!r}, which is never awaited"
    return ""


def _builtin_name(project: Project, info: FunctionInfo, expr: Expr) -> str:
    """The built-in (``len``, ``str``) ``expr`` names inside ``info``, else ""."""
    value = project.resolve(info, expr)
    if value is None or value[0] != "ext" or not str(value[1]).startswith("builtins."):
        return ""
    return str(value[1]).removeprefix("builtins.")


def _dropped(project: Project, info: FunctionInfo, site: CallSite) -> str:
    """How the coroutine is lost, or "" when it is awaited, scheduled or passed on."""
    usage = site.usage
    if usage == USAGE_STMT:
        return "its result is dropped"
    if usage in (USAGE_VALUE, USAGE_RECEIVER):
        return "the coroutine object is used as a value"
    if usage == USAGE_ASSIGN and site.target and site.target not in info.summary.escaped_names:
        if _read_in_closure(project, info, site.target):
            return ""
        return f"it is assigned to {site.target!r}, which is never awaited"
    if usage == USAGE_RETURN and info.summary.is_async:
        return "an async def returns it unawaited (the caller gets a coroutine)"
    if usage in (USAGE_ASSIGN, USAGE_ELEMENT):
        return _returned_unawaited(project, info, site)
    if usage == USAGE_ARG and site.arg_of is not None:
        builtin = _builtin_name(project, info, site.arg_of)
        if builtin:
            return f"it is passed to {builtin}()"
    return ""


@detector(RULE_ID, CATEGORY)
def missing_await(project: Project) -> Iterator[Finding]:
    """A coroutine function called without `await`.

    ## What it does
    Finds calls of coroutine functions whose coroutine is never awaited: the project's own
    `async def` functions (from any module), `AsyncSession` methods (`commit`, `execute`,
    `flush`, `refresh`, ...), `httpx.AsyncClient`/`aiohttp` requests, `asyncio.sleep` and
    Starlette's `Request.json/body/form`, `UploadFile.read/write` and `WebSocket` I/O,
    `anyio.Path` I/O, and the
    thread hand-offs `asyncio.to_thread`/`run_in_threadpool` (the job never runs). A call
    counts when its result is dropped, used as a value, returned from an `async def` (directly,
    through a variable or inside a list/dict it returns), or assigned to a variable that is
    never awaited or passed on (handing it to a built-in such as `str()` or `len()` does not
    count as passing it on). Coroutines handed to
    `asyncio.create_task`, `gather`, `BackgroundTasks` or another call are not reported.

    ## Why is this bad?
    Calling a coroutine function only creates a coroutine object: nothing runs. The commit
    never happens, the notification is never sent, the sleep never pauses, and Python prints
    "coroutine ... was never awaited" once per location, at best.

    ## Example
    ```python
    async def create_order(session: AsyncSession = Depends(get_session)):
        session.add(order)
        session.commit()
    ```

    ## Use instead
    ```python
    async def create_order(session: AsyncSession = Depends(get_session)):
        session.add(order)
        await session.commit()
    ```
    """
    for info, site, resolved in project.app_calls():
        callee = infer_callee(project, info, site, resolved)
        name = _coroutine_name(project, callee, site)
        if not name:
            continue
        how = _dropped(project, info, site)
        if not how:
            continue
        yield make_call_finding(
            project,
            info,
            site,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            message=f"{name} is called without await: {how}.",
            reach=project.reach_labels(info.fid),
        )
