"""Detector for ASYNC-CLIENT-LIFECYCLE."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_call_finding
from scanners.detectors.registry import detector
from scanners.detectors.routes.graph import reachable_from_routes
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.summary import CallSite

RULE_ID = "async-client-per-request"
CATEGORY = "ASYNC-CLIENT-LIFECYCLE"

# Client type -> keyword arguments that set connection limits.
ASYNC_CLIENTS: dict[str, tuple[str, ...]] = {
    "httpx.AsyncClient": ("limits", "transport"),
    "aiohttp.ClientSession": ("connector",),
}


def _has_limits(site: CallSite, keywords: tuple[str, ...]) -> bool:
    return any(key in keywords or key is None for key, _value in site.kwargs)


def _lifecycle_problem(
    project: Project,
    info: FunctionInfo,
    site: CallSite,
    long_lived: set[str],
    keywords: tuple[str, ...],
) -> str:
    fs = info.summary
    stored_globally = site.usage == "assign" and site.target in fs.global_names
    if fs.is_module_body:
        return "created at import time instead of in the app's lifespan"
    if info.fid in long_lived or stored_globally or _cached(project, info):
        if not _has_limits(site, keywords):
            return "created without explicit connection limits"
        return ""
    if info.fid in reachable_from_routes(project):
        # Routes, their dependencies (`Depends(Client)` builds one per request) and what they
        # call, `def` ones too: in the threadpool, but once per request all the same.
        return "created for every request"
    if _only_called_at_import(project, info):
        maker = fs.class_qualname.rsplit(".", 1)[-1] if fs.name == "__init__" else fs.name
        return f"created at import time (module-level {maker}() call) instead of in the lifespan"
    if info.fid in _reached_from_startup(project, long_lived) and not _has_limits(site, keywords):
        # A factory or a service constructor the lifespan calls: one client, but unbounded.
        return "created without explicit connection limits"
    return ""


_CACHING_DECORATORS = frozenset(
    {"functools.lru_cache", "functools.cache", "async_lru.alru_cache", "cachetools.cached"}
)


def _cached(project: Project, info: FunctionInfo) -> bool:
    """``@lru_cache``/``@cache`` factory: one client per process, however often it is called."""
    for decorator in info.summary.decorators:
        target = decorator[1] if decorator[0] == "call" else decorator
        value = project.resolve(info, target)
        if value is not None and value[0] == "ext" and value[1] in _CACHING_DECORATORS:
            return True
    return False


def _reached_from_startup(project: Project, long_lived: set[str]) -> set[str]:
    """Functions the lifespan and startup handlers call (transitively)."""

    def compute() -> set[str]:
        reached = set(long_lived)
        stack = list(long_lived)
        while stack:
            for edge in project.edges_out.get(stack.pop(), ()):
                if edge.kind == "call" and edge.callee not in reached:
                    reached.add(edge.callee)
                    stack.append(edge.callee)
        return reached

    return project.memo("async.client_lifecycle.startup", compute)


def _only_called_at_import(project: Project, info: FunctionInfo) -> bool:
    """A constructor or factory that only module bodies call: a module-level singleton."""
    callers = [edge.caller for edge in project.edges_in.get(info.fid, ()) if edge.kind == "call"]
    if not callers:
        return False
    for caller in callers:
        found = project.function(caller)
        if found is None or not found.summary.is_module_body or project.is_offloop(found):
            return False
    return True


@detector(RULE_ID, CATEGORY)
def client_lifecycle(project: Project) -> Iterator[Finding]:
    """An async HTTP client created per request, at import time, or without limits.

    ## What it does
    Finds `httpx.AsyncClient(...)` and `aiohttp.ClientSession(...)` created inside a route, a
    dependency (a class used as `Depends(Client)` is built per request) or a helper they call
    (a new client, connection pool and TLS handshake per request),
    created at module level (import time, outside any event loop and never closed), or created
    in the lifespan/startup code (or a factory or constructor it calls, or an `@lru_cache`
    factory) without explicit connection limits.

    ## Why is this bad?
    A client per request defeats connection pooling: every request pays for DNS, TCP and TLS
    set-up, and under load the service opens sockets without bound. A client made at import
    time is bound to no loop and never closed. Without limits one slow upstream can exhaust
    file descriptors.

    ## Example
    ```python
    async def notify(url: str, payload: dict) -> None:
        async with httpx.AsyncClient() as client:
            await client.post(url, json=payload)
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=10)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            app.state.http = client
            yield
    ```
    """
    long_lived = {event.target for event in project.fastapi.events if event.target}
    for info, site, callee in project.app_calls():
        if callee is None or callee[0] != "ext" or callee[1] not in ASYNC_CLIENTS:
            continue
        problem = _lifecycle_problem(project, info, site, long_lived, ASYNC_CLIENTS[callee[1]])
        if not problem:
            continue
        client = callee[1]
        yield make_call_finding(
            project,
            info,
            site,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            message=f"{client}() {problem}.",
            reach=project.reach_labels(info.fid),
        )
