"""Detector for ASYNC-MISSING-AWAIT."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_call_finding, render
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.resolve import Value
from scanners.project.summary import (
    USAGE_ARG,
    USAGE_ASSIGN,
    USAGE_RECEIVER,
    USAGE_RETURN,
    USAGE_STMT,
    USAGE_VALUE,
    CallSite,
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
COROUTINE_FUNCTIONS = frozenset(
    {
        "asyncio.sleep",
        "asyncio.wait_for",
        "asyncio.wait",
        "asyncio.open_connection",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
        "anyio.sleep",
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


def _dropped(project: Project, info: FunctionInfo, site: CallSite) -> str:
    """How the coroutine is lost, or "" when it is awaited, scheduled or passed on."""
    usage = site.usage
    if usage == USAGE_STMT:
        return "its result is dropped"
    if usage in (USAGE_VALUE, USAGE_RECEIVER):
        return "the coroutine object is used as a value"
    if usage == USAGE_ASSIGN and site.target and site.target not in info.summary.escaped_names:
        return f"it is assigned to {site.target!r}, which is never awaited"
    if usage == USAGE_RETURN and info.summary.is_async:
        return "an async def returns it unawaited (the caller gets a coroutine)"
    if usage == USAGE_ARG and site.arg_of is not None:
        consumer = project.resolve(info, site.arg_of)
        if consumer is not None and consumer[0] == "ext" and consumer[1].startswith("builtins."):
            return f"it is passed to {consumer[1].removeprefix('builtins.')}()"
    return ""


@detector(RULE_ID, CATEGORY)
def missing_await(project: Project) -> Iterator[Finding]:
    """A coroutine function called without `await`.

    ## What it does
    Finds calls of coroutine functions whose coroutine is never awaited: the project's own
    `async def` functions (from any module), `AsyncSession` methods (`commit`, `execute`,
    `flush`, `refresh`, ...), `httpx.AsyncClient`/`aiohttp` requests and `asyncio.sleep`. A call
    counts when its result is dropped, used as a value, returned from an `async def`, or
    assigned to a variable that is never awaited or passed on. Coroutines handed to
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
    for info, site, callee in project.app_calls():
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
