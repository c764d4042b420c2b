"""The project model shared by every detector: see ``scanners.project`` for the tour."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

from scanners.findings import WitnessStep
from scanners.project.fastapi import FastAPIModel, Route
from scanners.project.infer import infer_callee
from scanners.project.resolve import Resolver, Value, fid_of, split_fid
from scanners.project.summary import CallSite, Expr, FunctionSummary, ModuleSummary

T = TypeVar("T")

# Path parts that mark code which never runs on the service's event loop.
OFFLOOP_DIR_NAMES = frozenset(
    {
        "tests",
        "test",
        "testing",
        "scripts",
        "script",
        "bin",
        "migrations",
        "alembic",
        "examples",
        "example",
        "docs",
        "benchmarks",
        "cli",
        "commands",
        "management",
    }
)
OFFLOOP_FILE_NAMES = frozenset(
    {"conftest.py", "setup.py", "noxfile.py", "fabfile.py", "manage.py", "cli.py", "__main__.py"}
)


# Responses that iterate a plain (sync) iterator in the threadpool.
STREAMING_RESPONSES = frozenset(
    {"starlette.responses.StreamingResponse", "fastapi.responses.StreamingResponse"}
)


def is_offloop_path(path: str) -> bool:
    """Tests, CLI scripts and migrations: code the service's event loop never runs."""
    parts = path.split("/")
    name = parts[-1]
    if name in OFFLOOP_FILE_NAMES or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in OFFLOOP_DIR_NAMES for part in parts[:-1])


@dataclass(frozen=True)
class CallEdge:
    caller: str  # fid
    callee: str  # fid
    site: CallSite | None  # None for a dependency edge (route -> Depends(dep))
    kind: str = "call"  # "call" or "depends"
    # The callee's body runs in the threadpool, not on the caller's loop: a plain-`def`
    # generator handed to `StreamingResponse(...)`, which Starlette iterates in a thread.
    in_threadpool: bool = False


@dataclass(frozen=True)
class FunctionInfo:
    fid: str
    module: ModuleSummary
    summary: FunctionSummary

    @property
    def path(self) -> str:
        return self.module.path

    @property
    def display(self) -> str:
        """Dotted qualified name, e.g. "app.services.rates.fetch_rates"."""
        module, qualname = split_fid(self.fid)
        if qualname == "<module>":
            return module
        return f"{module}.{qualname}" if module else qualname


class Project:
    """Modules, symbols, resolved imports, call graph, FastAPI routes and event-loop reach.

    Built once per scan by ``scanners.project.build.build_project``; read-only afterwards.
    """

    def __init__(self, root: Path, modules: list[ModuleSummary]) -> None:
        self.root = root
        self.exclude: tuple[str, ...] = ()  # the scan's exclude globs
        self.modules: dict[str, ModuleSummary] = {}
        for summary in sorted(modules, key=lambda m: m.path):
            # Two files can map to one dotted name (scripts/x.py, tools/x.py): keep both by path.
            name = summary.module
            if name in self.modules:
                name = summary.path[:-3].replace("/", ".")
                summary.module = name
            self.modules[name] = summary
        self.by_path: dict[str, ModuleSummary] = {m.path: m for m in self.modules.values()}
        self.resolver = Resolver(self.modules)
        self._resolved_calls: dict[tuple[str, str], list[Value | None]] = {}
        self._memo: dict[str, object] = {}
        self.edges_out: dict[str, list[CallEdge]] = {}
        self.edges_in: dict[str, list[CallEdge]] = {}
        self._line_cache: dict[str, list[str]] = {}
        self._offloop: dict[str, bool] = {}
        self.infer_generation = 0  # bumped whenever inferred edges change the call graph
        # Type inference follows returns and assignments across functions: deep but finite.
        recursion = sys.getrecursionlimit()
        sys.setrecursionlimit(max(recursion, 20000))
        try:
            self.fastapi = FastAPIModel(self.resolver, self._calls_of)
            self._build_call_graph()
            self._infer_edges()
        finally:
            sys.setrecursionlimit(recursion)

    # -- symbols --------------------------------------------------------------------------------
    @cached_property
    def _function_list(self) -> list[FunctionInfo]:
        return [
            FunctionInfo(fid_of(summary.module, qualname), summary, fs)
            for summary in self.modules.values()
            for qualname, fs in summary.functions.items()
        ]

    def functions(self) -> Iterator[FunctionInfo]:
        """Every function, method, lambda and module body."""
        return iter(self._function_list)

    def is_offloop(self, info: FunctionInfo) -> bool:
        """In a test, script or migration file (see ``is_offloop_path``), or a stand-alone
        script: a module with ``if __name__ == "__main__":`` that declares no route and that no
        other module imports."""
        cached = self._offloop.get(info.path)
        if cached is None:
            cached = is_offloop_path(info.path) or self._is_standalone_script(info.module)
            self._offloop[info.path] = cached
        return cached

    def _is_standalone_script(self, module: ModuleSummary) -> bool:
        if not module.has_main_guard:
            return False
        if any(route.file == module.path for route in self.routes):
            return False
        return module.module not in self._imported_modules

    @cached_property
    def _imported_modules(self) -> set[str]:
        """Project modules some other module imports (directly or a name from them)."""
        found: set[str] = set()
        for summary in self.modules.values():
            targets = [b.target for b in summary.imports.values()]
            for target in [*targets, *summary.star_imports]:
                candidate = target
                while candidate:
                    module = self.resolver.find_module(candidate, summary.module)
                    if module is not None and module != summary.module:
                        found.add(module)
                        break
                    candidate = candidate.rpartition(".")[0]
        return found

    def facts(self, kind: str) -> dict[str, Any]:
        """What the ``scanners.project.facts`` extractor ``kind`` found: module name -> value,
        for the modules where it found something."""
        return {
            name: summary.facts[kind]
            for name, summary in self.modules.items()
            if kind in summary.facts
        }

    def module_values(self, module: ModuleSummary, name: str) -> list[Expr]:
        """What ``name`` is assigned at the top level of ``module``, or of the project module it
        is imported from (``from app.db import DATABASE_URL``): constants, aliases, settings."""
        values = list(module.body.assigns.get(name, ()))
        binding = module.imports.get(name)
        if binding is not None and not binding.is_module:
            source, _, symbol = binding.target.rpartition(".")
            imported = self.modules.get(source)
            if imported is not None:
                values += imported.body.assigns.get(symbol, ())
        return values

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Share one analysis between detectors (e.g. every blocking call, once)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def function(self, fid: str) -> FunctionInfo | None:
        found = self.resolver.function(fid)
        if found is None:
            return None
        return FunctionInfo(fid, found[0], found[1])

    def resolve(self, info: FunctionInfo, expr: tuple[object, ...]) -> Value | None:
        """Resolve an expression written inside ``info`` (see ``scanners.project.resolve``)."""
        return self.resolver.resolve(info.module, info.summary, expr)

    def resolved_calls(self, info: FunctionInfo) -> list[Value | None]:
        """The resolved callee of each of ``info.summary.calls``, in order."""
        return self._calls_of(info.module, info.summary)

    def _calls_of(self, module: ModuleSummary, fs: FunctionSummary) -> list[Value | None]:
        key = (module.module, fs.qualname)
        cached = self._resolved_calls.get(key)
        if cached is None:
            resolve = self.resolver.resolve
            try:
                cached = [resolve(module, fs, site.func) for site in fs.calls]
            except RecursionError:  # pathological code: leave this function's calls unknown
                cached = [None] * len(fs.calls)
            self._resolved_calls[key] = cached
        return cached

    def app_calls(self) -> Iterator[tuple[FunctionInfo, CallSite, Value | None]]:
        """Every call site with its resolved callee, outside tests, scripts and migrations."""
        for info in self._function_list:
            if not info.summary.calls or self.is_offloop(info):
                continue
            yield from (
                (info, site, callee)
                for site, callee in zip(info.summary.calls, self.resolved_calls(info), strict=True)
            )

    def source_line(self, path: str, line: int) -> str:
        lines = self._line_cache.get(path)
        if lines is None:
            try:
                text = (self.root / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            lines = text.splitlines()
            self._line_cache[path] = lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    # -- call graph -----------------------------------------------------------------------------
    def _callee_fid(self, value: Value | None) -> str:
        if value is None:
            return ""
        if value[0] == "func":
            return str(value[1])
        if value[0] == "class":
            init = self.resolver.class_member(value[1], "__init__")
            if init is not None and init[0] == "func":
                return str(init[1])
        if value[0] == "inst" and ":" in value[1]:
            dunder = self.resolver.instance_attribute(value[1], "__call__")
            if dunder is not None and dunder[0] == "func":
                return str(dunder[1])
        return ""

    def _offloaded_by_decorator(self, callee: str, site: CallSite) -> bool:
        """``await f()`` of a decorated plain ``def``: the decorator made it awaitable
        (``sync_to_async``, ``asyncify``, a ``run_in_threadpool`` wrapper), so the body runs in
        a thread, not on the loop."""
        if site.usage != "await":
            return False
        target = self.function(callee)
        return (
            target is not None and not target.summary.is_async and bool(target.summary.decorators)
        )

    def _streamed_in_threadpool(self, info: FunctionInfo, callee: str, site: CallSite) -> bool:
        """``StreamingResponse(gen())`` of a plain-``def`` generator: the call only creates the
        generator; Starlette iterates it (runs its body) in the threadpool."""
        if site.usage != "arg" or site.arg_of is None:
            return False
        target = self.function(callee)
        if target is None or target.summary.is_async or not target.summary.has_yield:
            return False
        consumer = self.resolve(info, site.arg_of)
        return consumer is not None and consumer[0] == "ext" and consumer[1] in STREAMING_RESPONSES

    def _build_call_graph(self) -> None:
        for info in self.functions():
            out: list[CallEdge] = []
            for site, value in zip(info.summary.calls, self.resolved_calls(info), strict=True):
                callee = self._callee_fid(value)
                if callee:
                    self._add_call_edge(out, info, callee, site)
            for dependency in self.fastapi.depends_of.get(info.fid, ()):
                out.append(CallEdge(info.fid, dependency, None, "depends"))
            if out:
                self.edges_out[info.fid] = out
                for edge in out:
                    self.edges_in.setdefault(edge.callee, []).append(edge)

    def _add_call_edge(
        self, out: list[CallEdge], info: FunctionInfo, callee: str, site: CallSite
    ) -> bool:
        """Append the edge for ``site`` to ``out`` unless a decorator offloads the callee."""
        if self._offloaded_by_decorator(callee, site):
            return False
        threadpool = self._streamed_in_threadpool(info, callee, site)
        out.append(CallEdge(info.fid, callee, site, in_threadpool=threadpool))
        return True

    def _infer_edges(self) -> None:
        """Edges the resolver could not see: ``param.method()`` on an unannotated parameter
        whose callers pass an instance of a project class (``scanners.project.infer``). A few
        rounds, since each new edge can reveal the callers of the next function."""
        inferred: set[int] = set()  # call sites (by identity) given an inferred edge
        for _ in range(3):
            self.infer_generation += 1
            added = False
            for info in self.functions():
                calls = info.summary.calls
                if not calls:
                    continue
                for site, value in zip(calls, self.resolved_calls(info), strict=True):
                    if value is not None or site.func[0] != "attr":
                        continue
                    if id(site) in inferred:
                        continue
                    callee = self._callee_fid(infer_callee(self, info, site, None))
                    new: list[CallEdge] = []
                    if callee and self._add_call_edge(new, info, callee, site):
                        inferred.add(id(site))
                        self.edges_out.setdefault(info.fid, []).extend(new)
                        self.edges_in.setdefault(callee, []).extend(new)
                        added = True
            if not added:
                break  # this round's inferences saw the final graph: keep them for detectors
        else:
            self.infer_generation += 1

    # -- routes ---------------------------------------------------------------------------------
    @property
    def routes(self) -> list[Route]:
        return self.fastapi.routes

    @cached_property
    def route_handlers(self) -> dict[str, list[Route]]:
        handlers: dict[str, list[Route]] = {}
        for route in self.routes:
            handlers.setdefault(route.handler, []).append(route)
        return handlers

    def is_route(self, fid: str) -> bool:
        return fid in self.route_handlers

    def is_dependency(self, fid: str) -> bool:
        return fid in self.fastapi.dependency_fids

    def _route_dependency_edges(self) -> dict[str, list[str]]:
        """Route handler -> dependencies declared on the route, its routers and its app."""
        extra: dict[str, list[str]] = {}
        for route in self.routes:
            if route.dependencies:
                extra.setdefault(route.handler, []).extend(route.dependencies)
        return extra

    # -- event-loop reachability ----------------------------------------------------------------
    def _is_async(self, fid: str) -> bool:
        info = self.function(fid)
        return info is not None and info.summary.is_async

    def _loop_successors(
        self, fid: str, extra: dict[str, list[str]]
    ) -> Iterator[tuple[str, CallSite | None, str]]:
        for edge in self.edges_out.get(fid, ()):
            if edge.kind == "depends" and not self._is_async(edge.callee):
                continue  # a `def` dependency runs in FastAPI's threadpool
            if edge.in_threadpool:
                continue  # a sync generator streamed from the threadpool
            yield edge.callee, edge.site, edge.kind
        for dependency in extra.get(fid, ()):
            if self._is_async(dependency):
                yield dependency, None, "depends"

    @cached_property
    def _loop_reach(self) -> tuple[dict[str, tuple[str, CallSite | None, str] | None], set[str]]:
        """BFS over call edges from async code: parents for witness paths, route sources first."""
        extra = self._route_dependency_edges()
        parents: dict[str, tuple[str, CallSite | None, str] | None] = {}
        async_roots: list[str] = []
        route_roots: list[str] = []
        for info in self.functions():
            if info.summary.is_async and not self.is_offloop(info):
                if self.is_route(info.fid):
                    route_roots.append(info.fid)
                else:
                    async_roots.append(info.fid)
        for phase in (route_roots, async_roots):
            queue: deque[str] = deque()
            for fid in phase:
                if fid not in parents:
                    parents[fid] = None
                    queue.append(fid)
            while queue:
                current = queue.popleft()
                for callee, site, kind in self._loop_successors(current, extra):
                    if callee not in parents:
                        parents[callee] = (current, site, kind)
                        queue.append(callee)
        return parents, set(route_roots)

    def on_loop(self, fid: str) -> bool:
        """Can this function run on the event loop (async, or called from async code without a
        hand-off)? Code reached only from tests, scripts and migrations is not."""
        return fid in self._loop_reach[0]

    def witness(self, fid: str) -> list[WitnessStep]:
        """route -> helper -> ... -> ``fid`` (each step at the call into the next one)."""
        parents = self._loop_reach[0]
        if fid not in parents:
            return []
        chain: list[tuple[str, CallSite | None, str]] = []
        current = fid
        seen = {fid}
        while True:
            parent = parents.get(current)
            if parent is None:
                break
            chain.append((current, parent[1], parent[2]))
            current = parent[0]
            if current in seen:
                break
            seen.add(current)
        steps: list[WitnessStep] = []
        head = self.function(current)
        if head is not None:
            routes = self.route_handlers.get(current)
            note = (
                routes[0].label
                if routes
                else ("async def" if head.summary.is_async else "function")
            )
            steps.append(WitnessStep(head.path, head.summary.line, head.display, note))
        for callee, site, kind in reversed(chain):
            caller_step = steps[-1] if steps else None
            target = self.function(callee)
            if target is None:
                continue
            if site is not None and caller_step is not None:
                steps[-1] = WitnessStep(
                    caller_step.path, site.line, caller_step.function, caller_step.note
                )
            note = (
                f"Depends({target.summary.name})"
                if kind == "depends"
                else f"calls {target.summary.name}()"
            )
            steps.append(WitnessStep(target.path, target.summary.line, target.display, note))
        return steps

    @cached_property
    def _route_bits(self) -> tuple[list[Route], dict[str, int]]:
        """Which routes reach each function on the loop, as bitsets over ``routes``."""
        extra = self._route_dependency_edges()
        routes = self.routes
        bits: dict[str, int] = {}
        for index, route in enumerate(routes):
            if self._is_async(route.handler):
                bits[route.handler] = bits.get(route.handler, 0) | (1 << index)
        # Propagate along loop edges until nothing changes (worklist, monotone).
        queue: deque[str] = deque(bits)
        queued = set(queue)
        while queue:
            current = queue.popleft()
            queued.discard(current)
            value = bits[current]
            for callee, _site, _kind in self._loop_successors(current, extra):
                old = bits.get(callee, 0)
                new = old | value
                if new != old:
                    bits[callee] = new
                    if callee not in queued:
                        queued.add(callee)
                        queue.append(callee)
        return routes, bits

    def routes_reaching(self, fid: str) -> list[Route]:
        """Routes whose request handling runs ``fid`` on the event loop."""
        routes, bits = self._route_bits
        value = bits.get(fid, 0)
        found = []
        index = 0
        while value:
            if value & 1:
                found.append(routes[index])
            value >>= 1
            index += 1
        return found

    def reach_labels(self, fid: str) -> tuple[str, ...]:
        return tuple(sorted({route.label for route in self.routes_reaching(fid)}))

    def referenced_functions(self) -> set[str]:
        """Functions passed around as values (callbacks, hand-offs, dependencies)."""
        found: set[str] = set(self.fastapi.dependency_fids)
        for handoff in self.fastapi.handoffs:
            if handoff.target:
                found.add(handoff.target)
        for event in self.fastapi.events:
            if event.target:
                found.add(event.target)
        return found

    def stats(self) -> dict[str, int]:
        functions = sum(len(m.functions) - 1 for m in self.modules.values())
        return {
            "modules": len(self.modules),
            "functions": functions,
            "classes": sum(len(m.classes) for m in self.modules.values()),
            "routes": len(self.routes),
            "call_edges": sum(len(v) for v in self.edges_out.values()),
        }
