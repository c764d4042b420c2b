"""Name, import and type resolution over module summaries.

A resolved value is a small tuple:

- ``("module", name)`` -- a project module
- ``("func", fid)`` -- a project function; ``fid`` is ``"module:qualname"``
- ``("class", cid)`` -- a project class object; ``cid`` is ``"module:Qualname"``
- ``("inst", type, origin)`` -- an instance: ``type`` is a project ``cid`` or a canonical
  third-party name (``"requests.Session"``); ``origin`` names the variable holding it when it is
  one (``"app.main:app"``), used to tell FastAPI apps and routers apart
- ``("coro", fid)`` -- the coroutine object a call of an ``async def`` returns
- ``("ext", dotted)`` -- a third-party symbol (function, class or module)
- ``("bound", type, method)`` -- a method of an instance of ``type`` not defined in the project
- ``("super", cid)`` -- ``super()`` inside a method of class ``cid``
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from scanners.project.discovery import package_top
from scanners.project.knowledge import (
    ATTRIBUTE_TYPES,
    BINOP_TYPES,
    DEPENDS_CALLEES,
    FACTORY_RETURNS,
    FASTAPI_APP_TYPES,
    INSTANCE_CALL_RETURNS,
    METHOD_RETURNS,
    SUBSCRIPT_TYPES,
    TRANSPARENT_GENERICS,
    YIELDING_GENERICS,
    canonical_type,
)
from scanners.project.summary import (
    MODULE_BODY,
    ClassSummary,
    Expr,
    FunctionSummary,
    ModuleSummary,
)

Value = tuple[Any, ...]
_BUILTINS = frozenset(dir(builtins))
_MAX_RESOLVE_DEPTH = 12


# `app.state` and the connections that lead to their app (`request.app`, `websocket.app`).
APP_STATE_TYPE = "starlette.datastructures.State"
_CONNECTION_TYPES = frozenset(
    {
        "fastapi.Request",
        "fastapi.requests.Request",
        "starlette.requests.Request",
        "starlette.requests.HTTPConnection",
        "fastapi.WebSocket",
        "fastapi.websockets.WebSocket",
        "starlette.websockets.WebSocket",
    }
)


def fid_of(module: str, qualname: str) -> str:
    return f"{module}:{qualname}"


def split_fid(fid: str) -> tuple[str, str]:
    module, _, qualname = fid.partition(":")
    return module, qualname


class Resolver:
    """Resolves expressions written in a function to values, across modules."""

    def __init__(self, modules: dict[str, ModuleSummary]) -> None:
        self.modules = modules
        # Other names a module may be imported under: the path from any folder above its package
        # chain ("src.app.x"; any suffix in a namespace package) -- never a name that starts
        # inside a regular package, so `import redis` does not find "polar/redis.py".
        package_dirs = {m.path.rpartition("/")[0] for m in modules.values() if m.is_package}
        self._suffix_index: dict[str, list[str]] = {}
        for name, summary in modules.items():
            parts = summary.path[:-3].split("/")
            if summary.is_package:
                parts = parts[:-1]
            top = package_top(parts if summary.is_package else parts[:-1], package_dirs)
            for start in range(top + 1):
                alias = ".".join(parts[start:])
                if alias and alias != name:
                    self._suffix_index.setdefault(alias, []).append(name)
        self._name_cache: dict[tuple[str, str, str], Value | None] = {}
        self._module_cache: dict[tuple[str, str], Value | None] = {}
        # (near, dotted) of import targets: kept apart from (module, name) above, where a
        # third-party top-level name (`subprocess`) would otherwise read as unknown.
        self._dotted_cache: dict[tuple[str, str], Value | None] = {}
        self._attr_type_cache: dict[tuple[str, str], Value | None] = {}
        self._state_cache: dict[tuple[str], Value | None] = {}
        self._returns_cache: dict[tuple[str, str, str], Value | None] = {}
        self._mro_cache: dict[str, list[Value]] = {}
        self._in_progress: set[tuple[str, ...]] = set()

    # -- modules --------------------------------------------------------------------------------
    def find_module(self, dotted: str, near: str = "") -> str | None:
        """The project module for an import target, tolerating namespace packages."""
        if dotted in self.modules:
            return dotted
        candidates = self._suffix_index.get(dotted)
        if not candidates:
            return None
        if len(candidates) == 1:
            return candidates[0]
        top = near.split(".", 1)[0]
        for candidate in candidates:
            if candidate.split(".", 1)[0] == top:
                return candidate
        return min(candidates, key=len)

    def function(self, fid: str) -> tuple[ModuleSummary, FunctionSummary] | None:
        module, qualname = split_fid(fid)
        summary = self.modules.get(module)
        if summary is None:
            return None
        fs = summary.functions.get(qualname)
        return (summary, fs) if fs is not None else None

    def klass(self, cid: str) -> tuple[ModuleSummary, ClassSummary] | None:
        module, qualname = split_fid(cid)
        summary = self.modules.get(module)
        if summary is None:
            return None
        cs = summary.classes.get(qualname)
        return (summary, cs) if cs is not None else None

    def resolve_dotted(self, dotted: str, near: str = "") -> Value:
        """An absolute dotted name (an import target) to a value."""
        key = (near, dotted)
        if key in self._dotted_cache:
            cached = self._dotted_cache[key]
            return cached if cached is not None else ("ext", canonical_type(dotted))
        guard = ("dotted", dotted)
        if guard in self._in_progress:
            return ("ext", canonical_type(dotted))
        self._in_progress.add(guard)
        try:
            value = self._resolve_dotted(dotted, near)
        finally:
            self._in_progress.discard(guard)
        self._dotted_cache[key] = value
        return value if value is not None else ("ext", canonical_type(dotted))

    def _resolve_dotted(self, dotted: str, near: str) -> Value | None:
        module = self.find_module(dotted, near)
        if module is not None:
            return ("module", module)
        parent, _, last = dotted.rpartition(".")
        if not parent:
            return None
        parent_value = self.resolve_dotted(parent, near)
        if parent_value[0] == "ext":
            return ("ext", canonical_type(f"{parent_value[1]}.{last}"))
        return self.attribute(parent_value, last)

    def _memo(
        self,
        cache: dict[Any, Value | None],
        key: tuple[str, ...],
        compute: Callable[[], Value | None],
    ) -> Value | None:
        """Cached, and cut at cycles (a value that depends on itself is unknown)."""
        if key in cache:
            return cache[key]
        guard = (str(id(cache)), *key)
        if guard in self._in_progress:
            return None
        self._in_progress.add(guard)
        try:
            value = compute()
        finally:
            self._in_progress.discard(guard)
        cache[key] = value
        return value

    def lookup_module_name(self, module: str, name: str) -> Value | None:
        """What ``name`` means at the top level of a project module (definitions, variables,
        imports, star imports)."""
        return self._memo(
            self._module_cache, (module, name), lambda: self._lookup_module_name(module, name)
        )

    def _lookup_module_name(self, module: str, name: str) -> Value | None:
        summary = self.modules.get(module)
        if summary is None:
            return None
        if name in summary.functions and name != MODULE_BODY:
            return ("func", fid_of(module, name))
        if name in summary.classes:
            return ("class", fid_of(module, name))
        body = summary.body
        if name in body.assigns:
            value = self._infer_values(summary, body, name, body.assigns[name])
            if value is not None:
                return value
        binding = summary.imports.get(name)
        if binding is not None:
            return self.resolve_dotted(binding.target, module)
        if summary.is_package:
            submodule = self.find_module(f"{module}.{name}")
            if submodule is not None:
                return ("module", submodule)
        for star in summary.star_imports:
            star_module = self.find_module(star, module)
            if star_module is not None and star_module != module:
                value = self.lookup_module_name(star_module, name)
                if value is not None:
                    return value
        if name in body.assigns:
            return ("inst", "?", f"{module}:{name}")
        return None

    # -- names in functions ---------------------------------------------------------------------
    def lookup_name(self, summary: ModuleSummary, fs: FunctionSummary, name: str) -> Value | None:
        return self._memo(
            self._name_cache,
            (summary.module, fs.qualname, name),
            lambda: self._lookup_name(summary, fs, name),
        )

    def _lookup_name(self, summary: ModuleSummary, fs: FunctionSummary, name: str) -> Value | None:
        scope: FunctionSummary | None = fs
        while scope is not None and not scope.is_module_body:
            if name in scope.local_defs:
                qualname = f"{scope.qualname}.{name}"
                if qualname in summary.functions:
                    return ("func", fid_of(summary.module, qualname))
                if qualname in summary.classes:
                    return ("class", fid_of(summary.module, qualname))
            if name not in scope.global_names:
                param = scope.param(name)
                if param is not None:
                    return self.param_value(summary, scope, param.name)
                if name in scope.assigns:
                    value = self._infer_values(summary, scope, name, scope.assigns[name])
                    return value if value is not None else ("inst", "?", "")
            scope = summary.functions.get(scope.parent) if scope.parent else None
        value = self.lookup_module_name(summary.module, name)
        if value is not None:
            return value
        if name in _BUILTINS:
            return ("ext", f"builtins.{name}")
        return None

    def _infer_values(
        self, summary: ModuleSummary, fs: FunctionSummary, name: str, values: list[Expr]
    ) -> Value | None:
        origin = (
            f"{summary.module}:{name}"
            if fs.is_module_body
            else f"{summary.module}:{fs.qualname}.{name}"
        )
        for expr in values:
            if expr[0] == "ann":
                value = self.annotation_value(summary, fs, expr[1])
            else:
                value = self.resolve(summary, fs, expr)
            if value is None:
                continue
            if value[0] == "inst" and not value[2]:
                return ("inst", value[1], origin)
            return value
        return None

    def param_value(self, summary: ModuleSummary, fs: FunctionSummary, name: str) -> Value | None:
        """The type of a parameter: its annotation, else what its ``Depends(...)`` provides."""
        index = next((i for i, p in enumerate(fs.params) if p.name == name), -1)
        if index < 0:
            return None
        param = fs.params[index]
        if index == 0 and fs.class_qualname and name in ("self", "cls"):
            is_classmethod = any(d == ("name", "classmethod") for d in fs.decorators)
            cid = fid_of(summary.module, fs.class_qualname)
            if name == "cls" or is_classmethod:
                return ("class", cid)
            return ("inst", cid, "")
        if param.annotation is not None:
            value = self.annotation_value(summary, fs, param.annotation)
            if value is not None:
                return value
        dependency = self.depends_target(summary, fs, param.default)
        if dependency is None and param.annotation is not None:
            dependency = self.annotated_dependency(summary, fs, param.annotation)
        if dependency is not None:
            return self.provided_by(dependency)
        return None

    def depends_target(
        self, summary: ModuleSummary, fs: FunctionSummary, expr: Expr | None
    ) -> Value | None:
        """For ``Depends(dep)`` / ``Security(dep)`` the resolved ``dep``; else None."""
        if expr is None or expr[0] != "call":
            return None
        callee = self.resolve(summary, fs, expr[1])
        if callee is None or callee[0] != "ext" or callee[1] not in DEPENDS_CALLEES:
            return None
        target: Expr | None = expr[2][0] if expr[2] else None
        for key, value in expr[3]:
            if key == "dependency":
                target = value
        if target is None:
            return None
        return self.resolve(summary, fs, target)

    def annotated_dependency(
        self, summary: ModuleSummary, fs: FunctionSummary, annotation: Expr, depth: int = 0
    ) -> Value | None:
        """The dependency inside ``Annotated[T, Depends(dep)]`` (or an alias of it)."""
        if depth > 4:
            return None
        if annotation[0] == "sub":
            base = self.resolve(summary, fs, annotation[1])
            if base is not None and base[0] == "ext" and base[1].endswith(".Annotated"):
                for item in annotation[2][1:]:
                    target = self.depends_target(summary, fs, item)
                    if target is not None:
                        return target
            return None
        if annotation[0] in ("name", "attr"):
            alias = self._alias_expr(summary, fs, annotation)
            if alias is not None:
                return self.annotated_dependency(alias[0], alias[0].body, alias[1], depth + 1)
        return None

    def _alias_expr(
        self, summary: ModuleSummary, fs: FunctionSummary, annotation: Expr
    ) -> tuple[ModuleSummary, Expr] | None:
        """``SessionDep = Annotated[...]`` -> (defining module, the Annotated expression)."""
        if annotation[0] == "name":
            name = annotation[1]
            target_module: ModuleSummary | None = summary
            body = summary.body
            if name not in body.assigns:
                binding = summary.imports.get(name)
                if binding is None:
                    return None
                parent, _, last = binding.target.rpartition(".")
                module_name = self.find_module(parent, summary.module)
                target_module = self.modules.get(module_name) if module_name else None
                name = last
                if target_module is None or name not in target_module.body.assigns:
                    return None
            assert target_module is not None
            values = target_module.body.assigns[name]
            for value in values:
                if value[0] == "sub":
                    return (target_module, value)
                if value[0] == "ann" and value[1][0] == "ext":
                    continue
        return None

    def provided_by(self, dependency: Value) -> Value | None:
        """What a dependency function hands to the route: its return (or yield) type."""
        if dependency[0] == "class":
            return ("inst", dependency[1], "")
        if dependency[0] != "func":
            return None
        found = self.function(dependency[1])
        if found is None:
            return None
        summary, fs = found
        return self.returned_value(summary, fs, unwrap_yield=True)

    def returned_value(
        self, summary: ModuleSummary, fs: FunctionSummary, unwrap_yield: bool = False
    ) -> Value | None:
        """The type a call of ``fs`` evaluates to (its annotation, else what it returns)."""
        return self._memo(
            self._returns_cache,
            (summary.module, fs.qualname, "y" if unwrap_yield else ""),
            lambda: self._returned_value(summary, fs, unwrap_yield),
        )

    def _returned_value(
        self, summary: ModuleSummary, fs: FunctionSummary, unwrap_yield: bool
    ) -> Value | None:
        if fs.returns is not None:
            value = self.annotation_value(
                summary, fs, fs.returns, unwrap_yield=unwrap_yield or fs.has_yield
            )
            if value is not None:
                return value
        for expr in fs.return_values:
            value = self.resolve(summary, fs, expr)
            if value is not None and value[0] in ("inst", "class", "func"):
                return ("inst", value[1], "") if value[0] == "inst" else value
        return None

    # -- annotations ----------------------------------------------------------------------------
    def annotation_value(
        self,
        summary: ModuleSummary,
        fs: FunctionSummary,
        annotation: Expr,
        unwrap_yield: bool = False,
        depth: int = 0,
    ) -> Value | None:
        """An annotation to the instance type it declares (``Optional[X]`` -> X, ...)."""
        if depth > 6:
            return None
        kind = annotation[0]
        if kind == "binop" and annotation[1] == "|":
            for side in (annotation[2], annotation[3]):
                if side is None or side == ("const", None):
                    continue
                value = self.annotation_value(summary, fs, side, unwrap_yield, depth + 1)
                if value is not None:
                    return value
            return None
        if kind == "sub":
            base = self.resolve(summary, fs, annotation[1])
            items: tuple[Expr, ...] = annotation[2]
            if base is not None and base[0] == "ext" and items:
                name = base[1]
                if name in TRANSPARENT_GENERICS:
                    for item in items:
                        if item in (("const", None), ("name", "None")):
                            continue
                        return self.annotation_value(summary, fs, item, unwrap_yield, depth + 1)
                if unwrap_yield and name in YIELDING_GENERICS:
                    return self.annotation_value(summary, fs, items[0], False, depth + 1)
                if name in ("typing.Type", "builtins.type"):
                    inner = self.annotation_value(summary, fs, items[0], False, depth + 1)
                    if inner is not None and inner[0] == "inst" and ":" in inner[1]:
                        return ("class", inner[1])
                    return None
                return ("inst", canonical_type(name), "")
            return None
        if kind in ("name", "attr"):
            value = self.resolve(summary, fs, annotation)
            if value is None:
                return None
            if value[0] == "class":
                return ("inst", value[1], "")
            if value[0] == "ext":
                if value[1] in ("builtins.None",):
                    return None
                return ("inst", canonical_type(value[1]), "")
            if value[0] == "inst" and value[1] == "?":
                # A module-level alias: X = Annotated[...] / Optional[...].
                alias = self._alias_expr(summary, fs, annotation)
                if alias is not None:
                    return self.annotation_value(
                        alias[0], alias[0].body, alias[1], unwrap_yield, depth + 1
                    )
            return None
        return None

    # -- expressions ----------------------------------------------------------------------------
    def resolve(
        self, summary: ModuleSummary, fs: FunctionSummary, expr: Expr, depth: int = 0
    ) -> Value | None:
        """The value an expression written in ``fs`` evaluates to, as far as it is knowable."""
        if depth > _MAX_RESOLVE_DEPTH:
            return None
        kind = expr[0]
        if kind == "name":
            return self.lookup_name(summary, fs, expr[1])
        if kind == "attr":
            base = self.resolve(summary, fs, expr[1], depth + 1)
            if base is None:
                return None
            return self.attribute(base, expr[2])
        if kind == "call":
            callee = self.resolve(summary, fs, expr[1], depth + 1)
            if callee is None:
                return None
            if callee == ("ext", "builtins.super") and fs.class_qualname:
                return ("super", fid_of(summary.module, fs.class_qualname))
            return self.call_result(callee, expr, summary, fs)
        if kind == "await":
            inner = self.resolve(summary, fs, expr[1], depth + 1)
            if inner is not None and inner[0] == "coro":
                found = self.function(inner[1])
                if found is not None:
                    return self.returned_value(*found)
                return None
            return inner
        if kind == "enter":
            inner_expr = expr[1]
            if inner_expr[0] == "call" and inner_expr[2]:
                callee = self.resolve(summary, fs, inner_expr[1], depth + 1)
                if (
                    callee is not None
                    and callee[0] == "ext"
                    and callee[1]
                    in (
                        "contextlib.closing",
                        "contextlib.nullcontext",
                    )
                ):
                    return self.resolve(summary, fs, inner_expr[2][0], depth + 1)
                if callee is not None and callee[0] == "func":
                    found = self.function(callee[1])
                    if found is not None and found[1].has_yield:
                        return self.returned_value(*found, unwrap_yield=True)
            return self.resolve(summary, fs, inner_expr, depth + 1)
        if kind == "sub":
            base = self.resolve(summary, fs, expr[1], depth + 1)
            if base is not None and base[0] == "inst":
                subscripted = SUBSCRIPT_TYPES.get(base[1])
                if subscripted is not None:
                    return ("inst", subscripted, "")
            return None
        if kind == "binop":
            left = self.resolve(summary, fs, expr[2], depth + 1)
            if left is not None and left[0] == "inst":
                result = BINOP_TYPES.get((left[1], expr[1]))
                if result is not None:
                    return ("inst", result, "")
            return None
        return None

    def attribute(self, base: Value, name: str) -> Value | None:
        kind = base[0]
        if kind == "super":
            for entry in self.mro(base[1])[1:]:
                if entry[0] == "ext":
                    return ("bound", canonical_type(entry[1]), name)
                member = self.class_member(entry[1], name)
                if member is not None:
                    return member
            return None
        if kind == "module":
            return self.lookup_module_name(base[1], name)
        if kind == "ext":
            return ("ext", canonical_type(f"{base[1]}.{name}"))
        if kind == "class":
            member = self.class_member(base[1], name)
            if member is not None:
                return member
            return None
        if kind == "inst":
            type_name: str = base[1]
            if type_name == "?":
                return None
            if ":" in type_name:
                member = self.instance_attribute(type_name, name)
                return member
            if type_name == APP_STATE_TYPE:
                return self.app_state(name)
            if name == "app" and type_name in _CONNECTION_TYPES:
                return ("inst", "fastapi.FastAPI", "")
            if name == "state" and type_name in FASTAPI_APP_TYPES:
                return ("inst", APP_STATE_TYPE, "")
            attr_type = ATTRIBUTE_TYPES.get((type_name, name)) or ATTRIBUTE_TYPES.get(
                (type_name, "*")
            )
            if attr_type is not None:
                return ("inst", attr_type, "")
            return ("bound", type_name, name)
        return None

    def app_state(self, name: str) -> Value | None:
        """What ``app.state.<name>`` holds: the value some module assigns to it (in the lifespan,
        a startup handler or at import time), read back through ``request.app.state.<name>``."""
        return self._memo(self._state_cache, (name,), lambda: self._app_state(name))

    def _app_state(self, name: str) -> Value | None:
        for summary in self.modules.values():
            for qualname, receiver, value in summary.state_assigns.get(name, ()):
                fs = summary.functions.get(qualname)
                if fs is None:
                    continue
                owner = self.resolve(summary, fs, receiver)
                if owner is not None and not (owner[0] == "inst" and owner[1] in FASTAPI_APP_TYPES):
                    continue  # `request.state.<name>` is per request, not the app's state
                found = self.resolve(summary, fs, value)
                if found is not None and found[0] == "inst" and found[1] != "?":
                    return found
        return None

    def class_bases(self, cid: str) -> list[Value]:
        found = self.klass(cid)
        if found is None:
            return []
        summary, cs = found
        body = summary.body
        bases = []
        for base in cs.bases:
            value = self.resolve(summary, body, base)
            if value is not None:
                bases.append(value)
        return bases

    def mro(self, cid: str) -> list[Value]:
        """The class and its bases, breadth first (project classes as ("class", cid), third-party
        bases as ("ext", name))."""
        cached = self._mro_cache.get(cid)
        if cached is not None:
            return cached
        order: list[Value] = []
        seen: set[str] = set()
        stack: list[Value] = [("class", cid)]
        while stack:
            current = stack.pop(0)
            if current[1] in seen:
                continue
            seen.add(current[1])
            order.append(current)
            if current[0] == "class":
                stack.extend(b for b in self.class_bases(current[1]) if b[0] in ("class", "ext"))
        self._mro_cache[cid] = order
        return order

    @staticmethod
    def _own_member(summary: ModuleSummary, cs: ClassSummary, name: str) -> Value | None:
        """A method or nested class defined in the class body itself."""
        qualname = f"{cs.qualname}.{name}"
        if name in cs.methods and qualname in summary.functions:
            return ("func", fid_of(summary.module, qualname))
        if qualname in summary.classes:
            return ("class", fid_of(summary.module, qualname))
        return None

    def class_member(self, cid: str, name: str) -> Value | None:
        for entry in self.mro(cid):
            found = self.klass(entry[1]) if entry[0] == "class" else None
            if found is not None:
                member = self._own_member(found[0], found[1], name)
                if member is not None:
                    return member
        return None

    def instance_attribute(self, cid: str, name: str) -> Value | None:
        return self._memo(
            self._attr_type_cache, (cid, name), lambda: self._instance_attribute(cid, name)
        )

    def _instance_attribute(self, cid: str, name: str) -> Value | None:
        for entry in self.mro(cid):
            if entry[0] == "ext":
                return ("bound", canonical_type(entry[1]), name)
            found = self.klass(entry[1])
            if found is None:
                continue
            summary, cs = found
            member = self._own_member(summary, cs, name)
            if member is not None:
                return member
            for method in cs.methods:
                fs = summary.functions.get(f"{cs.qualname}.{method}")
                if fs is None or name not in fs.self_assigns:
                    continue
                value = self._infer_values(summary, fs, name, fs.self_assigns[name])
                if value is not None:
                    return value
            body = summary.body
            if name in cs.attr_annotations:
                value = self.annotation_value(summary, body, cs.attr_annotations[name])
                if value is not None:
                    return value
            if name in cs.attr_values:
                value = self.resolve(summary, body, cs.attr_values[name])
                if value is not None:
                    return value
        return None

    def call_result(
        self, callee: Value, call: Expr, summary: ModuleSummary, fs: FunctionSummary
    ) -> Value | None:
        kind = callee[0]
        if kind == "func":
            found = self.function(callee[1])
            if found is None:
                return None
            if found[1].is_async and not found[1].has_yield:
                return ("coro", callee[1])
            return self.returned_value(*found)
        if kind == "class":
            return ("inst", callee[1], "")
        if kind == "ext":
            dotted: str = callee[1]
            if dotted == "functools.partial" and call[2]:
                # partial(f, ...) behaves like f when called later.
                return self.resolve(summary, fs, call[2][0])
            made = FACTORY_RETURNS.get(dotted)
            if made is not None:
                return ("inst", self._factory_variant(made, call, summary, fs), "")
            last = dotted.rsplit(".", 1)[-1]
            if last[:1].isupper() and not dotted.startswith("builtins."):
                return ("inst", canonical_type(dotted), "")
            return None
        if kind == "bound":
            result = METHOD_RETURNS.get((callee[1], callee[2]))
            if result is not None:
                return ("inst", result, "")
            if callee[2] == "from_url" or callee[2] == "from_env":
                return ("inst", callee[1], "")
            return None
        if kind == "inst":
            made = INSTANCE_CALL_RETURNS.get(callee[1])
            if made is not None:
                return ("inst", made, "")
            if ":" in callee[1]:
                dunder = self.instance_attribute(callee[1], "__call__")
                if dunder is not None and dunder[0] == "func":
                    return self.call_result(dunder, call, summary, fs)
            return None
        return None

    def _factory_variant(
        self, made: str, call: Expr, summary: ModuleSummary, fs: FunctionSummary
    ) -> str:
        """``sessionmaker(class_=AsyncSession)`` makes async sessions."""
        if made == "sqlalchemy.orm.sessionmaker":
            for key, value in call[3]:
                if key == "class_":
                    resolved = self.resolve(summary, fs, value)
                    if resolved is not None and resolved[1] in (
                        "sqlalchemy.ext.asyncio.AsyncSession",
                    ):
                        return "sqlalchemy.ext.asyncio.async_sessionmaker"
                    if resolved is not None and resolved[0] == "class":
                        for base in self.mro(resolved[1]):
                            if canonical_type(base[1]) == "sqlalchemy.ext.asyncio.AsyncSession":
                                return "sqlalchemy.ext.asyncio.async_sessionmaker"
        return made


def type_name(value: Value | None) -> str:
    """The type of an instance value, "" otherwise."""
    if value is None or value[0] != "inst":
        return ""
    name: str = value[1]
    return "" if name == "?" else name
