"""The FastAPI model: applications, routers, routes with full paths, dependencies, event handlers,
lifespans, middleware and hand-offs to background tasks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from scanners.project.knowledge import FASTAPI_APP_TYPES, FASTAPI_ROUTER_TYPES
from scanners.project.resolve import Resolver, Value, fid_of
from scanners.project.summary import CallSite, Expr, FunctionSummary, ModuleSummary

ROUTE_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
ROUTE_DECORATORS = ROUTE_METHODS | {"api_route", "websocket", "route", "api_websocket_route"}


@dataclass
class RouterInfo:
    """A ``FastAPI()`` app or an ``APIRouter()`` held in a variable (``origin``)."""

    origin: str  # "module:var" or "module:func.var"
    is_app: bool
    prefix: str = ""
    dependencies: list[str] = field(default_factory=list)  # fids
    path: str = ""
    line: int = 0
    lifespan: str = ""  # fid of the lifespan function
    # (parent origin, include prefix, dependencies added by include_router)
    included_in: list[tuple[str, str, list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class Route:
    method: str  # "GET", "WEBSOCKET", ...
    path: str  # full path with every router prefix
    handler: str  # fid
    router: str  # origin of the app/router it is declared on
    file: str  # posix path of the handler's module
    line: int  # the decorator (or add_api_route) line
    dependencies: tuple[str, ...] = ()  # fids from decorator, router and app `dependencies=`

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class EventHandler:
    kind: str  # "startup" / "shutdown" / "lifespan" / "middleware"
    target: str  # fid, "" when not resolvable
    file: str
    line: int
    registration: str  # "on_event", "add_event_handler", "lifespan", "middleware"

    @property
    def deprecated(self) -> bool:
        return self.registration in ("on_event", "add_event_handler")


@dataclass(frozen=True)
class HandOff:
    """A function reference handed to something that runs it off the event loop (or later)."""

    kind: str  # "to_thread", "run_in_executor", "run_in_threadpool", "background_task", ...
    caller: str  # fid
    target: str  # fid, "" when not a project function
    site: CallSite


HANDOFF_FUNCTIONS: dict[str, str] = {
    "asyncio.to_thread": "to_thread",
    "starlette.concurrency.run_in_threadpool": "run_in_threadpool",
    "fastapi.concurrency.run_in_threadpool": "run_in_threadpool",
    "anyio.to_thread.run_sync": "to_thread",
    "asyncer.asyncify": "to_thread",
    "threading.Thread": "thread",
    "threading.Timer": "thread",
    "multiprocessing.Process": "process",
    "_thread.start_new_thread": "thread",
}
HANDOFF_METHODS: dict[str, str] = {
    "run_in_executor": "run_in_executor",
    "submit": "executor",
    "add_task": "background_task",
    "apply_async": "process",
}


def _const_str(expr: Expr | None) -> str | None:
    if expr is not None and expr[0] == "const" and isinstance(expr[1], str):
        return expr[1]
    return None


def _keyword(call: Expr, name: str) -> Expr | None:
    for key, value in call[3]:
        if key == name:
            found: Expr = value
            return found
    return None


ResolvedCalls = Callable[[ModuleSummary, FunctionSummary], list[Value | None]]
"""The resolved callee of each call site of a function (computed once, shared)."""


class FastAPIModel:
    """Built from the resolver once per scan."""

    def __init__(self, resolver: Resolver, resolved_calls: ResolvedCalls) -> None:
        self.resolver = resolver
        self.resolved_calls = resolved_calls
        self.routers: dict[str, RouterInfo] = {}
        self.routes: list[Route] = []
        self.events: list[EventHandler] = []
        self.handoffs: list[HandOff] = []
        self.depends_of: dict[str, list[str]] = {}  # fid -> dependency fids (its own params)
        self.dependency_fids: set[str] = set()
        self._build()

    # -- helpers --------------------------------------------------------------------------------
    def framework_kind(self, type_name: str) -> str:
        """ "app" or "router" for FastAPI/Starlette apps, APIRouter and project subclasses."""
        names = [type_name]
        if ":" in type_name:
            names = [str(entry[1]) for entry in self.resolver.mro(type_name)]
        for name in names:
            if name in FASTAPI_APP_TYPES:
                return "app"
            if name in FASTAPI_ROUTER_TYPES:
                return "router"
        return ""

    def _router_of(self, value: Value | None) -> RouterInfo | None:
        if value is None or value[0] != "inst" or not value[2]:
            return None
        info = self.routers.get(value[2])
        if info is not None:
            return info
        kind = self.framework_kind(value[1])
        if kind:
            info = RouterInfo(origin=value[2], is_app=kind == "app")
            self.routers[value[2]] = info
            return info
        return None

    def _dependency_list(
        self, summary: ModuleSummary, fs: FunctionSummary, expr: Expr | None
    ) -> list[str]:
        if expr is None or expr[0] != "seq":
            return []
        fids = []
        for item in expr[1]:
            target = self.resolver.depends_target(summary, fs, item)
            if target is not None and target[0] == "func":
                fids.append(target[1])
        return fids

    # -- building -------------------------------------------------------------------------------
    def _build(self) -> None:
        resolver = self.resolver
        # Pass 1: apps and routers created by calls (with their own prefix/dependencies).
        for summary in resolver.modules.values():
            for fs in summary.functions.values():
                for site, callee in zip(fs.calls, self.resolved_calls(summary, fs), strict=True):
                    if site.usage != "assign" or not site.target or callee is None:
                        continue
                    kind = self.framework_kind(callee[1]) if callee[0] in ("ext", "class") else ""
                    if kind:
                        origin = (
                            f"{summary.module}:{site.target}"
                            if fs.is_module_body
                            else f"{summary.module}:{fs.qualname}.{site.target}"
                        )
                        info = RouterInfo(
                            origin=origin,
                            is_app=kind == "app",
                            path=summary.path,
                            line=site.line,
                        )
                        info.prefix = _const_str(_keyword(site.call, "prefix")) or ""
                        info.dependencies = self._dependency_list(
                            summary, fs, _keyword(site.call, "dependencies")
                        )
                        lifespan = _keyword(site.call, "lifespan")
                        if lifespan is not None:
                            target = resolver.resolve(summary, fs, lifespan)
                            if target is not None and target[0] == "func":
                                info.lifespan = target[1]
                                self.events.append(
                                    EventHandler(
                                        "lifespan", target[1], summary.path, site.line, "lifespan"
                                    )
                                )
                        self.routers[origin] = info
        # Pass 2: includes, routes, event handlers, hand-offs, dependencies.
        pending_routes: list[tuple[str, str, str, str, int, list[str]]] = []
        for summary in resolver.modules.values():
            for fs in summary.functions.values():
                fid = fid_of(summary.module, fs.qualname)
                self._function_dependencies(summary, fs, fid)
                for index, decorator in enumerate(fs.decorators):
                    self._decorator(
                        summary,
                        fs,
                        fid,
                        decorator,
                        line=fs.decorator_lines[index],
                        pending=pending_routes,
                    )
                for site, callee in zip(fs.calls, self.resolved_calls(summary, fs), strict=True):
                    self._call(summary, fs, fid, site, callee=callee, pending=pending_routes)
        self._compose(pending_routes)

    def _function_dependencies(self, summary: ModuleSummary, fs: FunctionSummary, fid: str) -> None:
        deps: list[str] = []
        for param in fs.params:
            target = self.resolver.depends_target(summary, fs, param.default)
            if target is None and param.annotation is not None:
                target = self.resolver.annotated_dependency(summary, fs, param.annotation)
            if target is not None and target[0] in ("func", "class"):
                if target[0] == "class":
                    init = self.resolver.class_member(target[1], "__init__")
                    if init is None or init[0] != "func":
                        continue
                    target = init
                deps.append(target[1])
        if deps:
            self.depends_of[fid] = deps
            self.dependency_fids.update(deps)

    def _decorator(
        self,
        summary: ModuleSummary,
        fs: FunctionSummary,
        fid: str,
        decorator: Expr,
        *,
        line: int,
        pending: list[tuple[str, str, str, str, int, list[str]]],
    ) -> None:
        if decorator[0] != "call" or decorator[1][0] != "attr":
            return
        method = decorator[1][2]
        scope = summary.body if not fs.parent else summary.functions.get(fs.parent, summary.body)
        if method in ROUTE_DECORATORS:
            base = self.resolver.resolve(summary, scope, decorator[1][1])
            router = self._router_of(base)
            path = _const_str(decorator[2][0]) if decorator[2] else None
            if path is None:
                path = _const_str(_keyword(decorator, "path"))
            if router is None:
                # An unknown router type: accept it when it reads like a route declaration.
                if path is None or not (path.startswith("/") or path == ""):
                    return
                origin = f"?{summary.module}:{decorator[1][1]!r}"
                router = self.routers.setdefault(origin, RouterInfo(origin=origin, is_app=False))
            if path is None:
                return
            methods = self._methods(method, decorator)
            deps = self._dependency_list(summary, scope, _keyword(decorator, "dependencies"))
            for http_method in methods:
                pending.append((router.origin, http_method, path, fid, line, deps))
        elif method == "on_event":
            base = self.resolver.resolve(summary, scope, decorator[1][1])
            kind = _const_str(decorator[2][0]) if decorator[2] else None
            if self._router_of(base) is not None or kind in ("startup", "shutdown"):
                self.events.append(
                    EventHandler(kind or "startup", fid, summary.path, line, "on_event")
                )
        elif method == "middleware":
            base = self.resolver.resolve(summary, scope, decorator[1][1])
            if self._router_of(base) is not None:
                self.events.append(
                    EventHandler("middleware", fid, summary.path, line, "middleware")
                )

    @staticmethod
    def _methods(decorator_name: str, decorator: Expr) -> list[str]:
        if decorator_name in ROUTE_METHODS:
            return [decorator_name.upper()]
        if decorator_name in ("websocket", "api_websocket_route"):
            return ["WEBSOCKET"]
        methods_expr = _keyword(decorator, "methods")
        if methods_expr is not None and methods_expr[0] == "seq":
            names = [_const_str(item) for item in methods_expr[1]]
            found = [name.upper() for name in names if name]
            if found:
                return found
        return ["GET"]

    def _call(
        self,
        summary: ModuleSummary,
        fs: FunctionSummary,
        fid: str,
        site: CallSite,
        *,
        callee: Value | None,
        pending: list[tuple[str, str, str, str, int, list[str]]],
    ) -> None:
        func = site.func
        resolver = self.resolver
        if func[0] == "attr":
            method = func[2]
            if method in (
                "include_router",
                "mount",
                "add_api_route",
                "add_event_handler",
                "add_api_websocket_route",
            ):
                base = resolver.resolve(summary, fs, func[1])
                router = self._router_of(base)
                if router is None:
                    return
                if method in ("include_router", "mount"):
                    self._include(summary, fs, router, site)
                elif method in ("add_api_route", "add_api_websocket_route"):
                    self._add_route(summary, fs, router, site, pending)
                else:
                    kind = _const_str(site.args[0]) if site.args else None
                    target_expr = site.args[1] if len(site.args) > 1 else None
                    target = resolver.resolve(summary, fs, target_expr) if target_expr else None
                    self.events.append(
                        EventHandler(
                            kind or "startup",
                            target[1] if target is not None and target[0] == "func" else "",
                            summary.path,
                            site.line,
                            "add_event_handler",
                        )
                    )
                return
            if method in HANDOFF_METHODS:
                kind = HANDOFF_METHODS[method]
                position = 1 if method == "run_in_executor" else 0
                self._handoff(summary, fs, fid, site, kind=kind, position=position)
                return
        if callee is not None and callee[0] == "ext" and callee[1] in HANDOFF_FUNCTIONS:
            self._handoff(summary, fs, fid, site, kind=HANDOFF_FUNCTIONS[callee[1]], position=0)

    def _handoff(
        self,
        summary: ModuleSummary,
        fs: FunctionSummary,
        fid: str,
        site: CallSite,
        *,
        kind: str,
        position: int,
    ) -> None:
        target_expr = site.keyword("target") or site.keyword("func")
        if target_expr is None and len(site.args) > position:
            target_expr = site.args[position]
        target = ""
        if target_expr is not None:
            target = self.function_reference(summary, fs, target_expr)
        self.handoffs.append(HandOff(kind, fid, target, site))

    def function_reference(self, summary: ModuleSummary, fs: FunctionSummary, expr: Expr) -> str:
        """The project function an argument refers to (through ``functools.partial``)."""
        if expr[0] == "lambda":
            prefix = "" if fs.is_module_body else fs.qualname + "."
            for qualname in summary.functions:
                if qualname.startswith(f"{prefix}<lambda>:{expr[1]}:"):
                    return fid_of(summary.module, qualname)
            return ""
        if expr[0] == "call":
            callee = self.resolver.resolve(summary, fs, expr[1])
            if callee is not None and callee[0] == "ext" and callee[1] == "functools.partial":
                return self.function_reference(summary, fs, expr[2][0]) if expr[2] else ""
            return ""
        value = self.resolver.resolve(summary, fs, expr)
        if value is not None and value[0] == "func":
            return str(value[1])
        return ""

    def _include(
        self, summary: ModuleSummary, fs: FunctionSummary, parent: RouterInfo, site: CallSite
    ) -> None:
        if site.func[2] == "mount":
            child_expr = site.args[1] if len(site.args) > 1 else site.keyword("app")
            prefix = _const_str(site.args[0]) if site.args else _const_str(site.keyword("path"))
        else:
            child_expr = site.args[0] if site.args else site.keyword("router")
            prefix = _const_str(site.keyword("prefix"))
        if child_expr is None:
            return
        child = self._router_of(self.resolver.resolve(summary, fs, child_expr))
        if child is None or child is parent:
            return
        deps = self._dependency_list(summary, fs, site.keyword("dependencies"))
        child.included_in.append((parent.origin, prefix or "", deps))

    def _add_route(
        self,
        summary: ModuleSummary,
        fs: FunctionSummary,
        router: RouterInfo,
        site: CallSite,
        pending: list[tuple[str, str, str, str, int, list[str]]],
    ) -> None:
        path = _const_str(site.args[0]) if site.args else _const_str(site.keyword("path"))
        endpoint_expr = site.args[1] if len(site.args) > 1 else site.keyword("endpoint")
        if path is None or endpoint_expr is None:
            return
        endpoint = self.function_reference(summary, fs, endpoint_expr)
        if not endpoint:
            return
        if site.func[2] == "add_api_websocket_route":
            methods = ["WEBSOCKET"]
        else:
            methods = self._methods("api_route", site.call)
        deps = self._dependency_list(summary, fs, site.keyword("dependencies"))
        for method in methods:
            pending.append((router.origin, method, path, endpoint, site.line, deps))

    def full_prefixes(self, origin: str) -> list[tuple[str, list[str]]]:
        """Every (path prefix, inherited dependencies) under which a router is served."""
        results: list[tuple[str, list[str]]] = []
        stack: list[tuple[str, str, list[str], frozenset[str]]] = [("", origin, [], frozenset())]
        while stack:
            suffix, current, deps, seen = stack.pop()
            info = self.routers.get(current)
            if info is None or current in seen:
                results.append((suffix, deps))
                continue
            own = info.prefix + suffix
            own_deps = [*info.dependencies, *deps]
            if not info.included_in or info.is_app:
                results.append((own, own_deps))
                continue
            for parent, include_prefix, include_deps in info.included_in:
                stack.append(
                    (include_prefix + own, parent, [*include_deps, *own_deps], seen | {current})
                )
        unique: dict[str, list[str]] = {}
        for prefix, deps in results:
            unique.setdefault(prefix, deps)
        return sorted(unique.items())

    def _compose(self, pending: list[tuple[str, str, str, str, int, list[str]]]) -> None:
        seen: set[tuple[str, str, str]] = set()
        for origin, method, path, handler, line, deps in pending:
            found = self.resolver.function(handler)
            file = found[0].path if found is not None else ""
            for prefix, inherited in self.full_prefixes(origin):
                full = (prefix + path) or "/"
                key = (method, full, handler)
                if key in seen:
                    continue
                seen.add(key)
                all_deps = tuple(dict.fromkeys([*inherited, *deps]))
                self.dependency_fids.update(all_deps)
                self.routes.append(Route(method, full, handler, origin, file, line, all_deps))
        self.routes.sort(key=lambda r: (r.path, r.method, r.handler))
