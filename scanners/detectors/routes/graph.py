"""What routes run: the FastAPI dependency tree of each route and the functions routes reach.

``project.fastapi.depends_of`` resolves ``Depends(function)`` parameters. FastAPI also calls
``Depends()`` with no argument (the class named by the parameter annotation is the dependency and
its ``__init__`` parameters are resolved in turn), class instances with a ``__call__`` (the
security schemes ``APIKeyHeader(...)``, ``OAuth2PasswordBearer(...)`` or a project class), and
``Annotated[T, Depends(...)]`` parameters. This module models all of them, for every detector of
this package, without changing the project-wide reachability.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from scanners.project.fastapi import Route
from scanners.project.knowledge import DEPENDS_CALLEES
from scanners.project.model import FunctionInfo, Project
from scanners.project.resolve import Value
from scanners.project.route_declarations import declaration_keywords
from scanners.project.summary import MODULE_BODY, Expr


@dataclass(frozen=True)
class DependencyNode:
    """One callable FastAPI resolves for a request.

    ``key`` is the fid of the project function that runs (a function, a class ``__init__``, an
    instance ``__call__``), or ``"ext:<name>"`` for a third-party callable (a security scheme
    instance) that has no project sub-dependencies.
    """

    key: str
    label: str  # what the code names: "verify_admin", "AdminContext", "admin_key_header"

    @property
    def fid(self) -> str:
        return "" if self.key.startswith("ext:") else self.key


def _is_depends_call(project: Project, info: FunctionInfo, expr: Expr | None) -> bool:
    if expr is None or expr[0] != "call":
        return False
    callee = project.resolve(info, expr[1])
    return callee is not None and callee[0] == "ext" and callee[1] in DEPENDS_CALLEES


def _depends_argument(expr: Expr) -> Expr | None:
    """The ``dependency`` of a ``Depends(...)`` call expression, None for ``Depends()``."""
    target: Expr | None = expr[2][0] if expr[2] else None
    for key, value in expr[3]:
        if key == "dependency":
            target = value
    return target


def _label(expr: Expr | None) -> str:
    if expr is None:
        return "?"
    if expr[0] == "name":
        return str(expr[1])
    if expr[0] == "attr":
        return str(expr[2])
    if expr[0] == "sub":
        return _label(expr[1])
    if expr[0] == "call":
        return _label(expr[1])
    return "?"


def _node_for_value(project: Project, value: Value | None, label: str) -> DependencyNode | None:
    """The callable FastAPI runs for a resolved dependency value."""
    if value is None:
        return None
    resolver = project.resolver
    kind = value[0]
    if kind == "func":
        return DependencyNode(str(value[1]), label)
    if kind == "class":
        init = resolver.class_member(str(value[1]), "__init__")
        if init is not None and init[0] == "func":
            return DependencyNode(str(init[1]), label)
        return DependencyNode(f"ext:{value[1]}", label)
    if kind == "inst":
        type_name = str(value[1])
        if ":" in type_name:
            call = resolver.instance_attribute(type_name, "__call__")
            if call is not None and call[0] == "func":
                return DependencyNode(str(call[1]), label)
            return None
        return DependencyNode(f"ext:{value[2] or type_name}", label)
    if kind == "ext":
        return DependencyNode(f"ext:{value[1]}", label)
    return None


def _annotated_parts(
    project: Project, info: FunctionInfo, annotation: Expr
) -> tuple[Expr, tuple[Expr, ...]] | None:
    """``Annotated[T, meta...]`` written in place -> (T, metadata)."""
    if annotation[0] != "sub" or not annotation[2]:
        return None
    base = project.resolve(info, annotation[1])
    if base is None or base[0] != "ext" or not str(base[1]).endswith(".Annotated"):
        return None
    items: tuple[Expr, ...] = annotation[2]
    return items[0], items[1:]


def _parameter_dependency(
    project: Project, info: FunctionInfo, annotation: Expr | None, default: Expr | None
) -> DependencyNode | None:
    """The dependency a parameter declares, however it is written."""
    depends: Expr | None = default if _is_depends_call(project, info, default) else None
    type_expr = annotation
    if depends is None and annotation is not None:
        parts = _annotated_parts(project, info, annotation)
        if parts is not None:
            type_expr = parts[0]
            depends = next(
                (item for item in parts[1] if _is_depends_call(project, info, item)), None
            )
        else:
            # `CurrentUser` aliasing `Annotated[User, Depends(get_user)]` elsewhere.
            module, function = info.module, info.summary
            target = project.resolver.annotated_dependency(module, function, annotation)
            if target is None:
                return _aliased_class_dependency(project, info, annotation)
            return _node_for_value(project, target, _label(annotation))
    if depends is None:
        return None
    argument = _depends_argument(depends)
    if argument is None:
        # `ctx: AdminContext = Depends()`: FastAPI calls the annotated class.
        if type_expr is None:
            return None
        return _node_for_value(project, project.resolve(info, type_expr), _label(type_expr))
    return _node_for_value(project, project.resolve(info, argument), _label(argument))


def _aliased_class_dependency(
    project: Project, info: FunctionInfo, annotation: Expr
) -> DependencyNode | None:
    """`Ctx` aliasing `Annotated[Context, Depends()]`: FastAPI calls the class ``Context``."""
    if annotation[0] not in ("name", "attr"):
        return None
    resolver = project.resolver
    alias = resolver._alias_expr(info.module, info.summary, annotation)
    if alias is None:
        return None
    module, expr = alias
    if expr[0] != "sub" or not expr[2]:
        return None
    base = resolver.resolve(module, module.body, expr[1])
    if base is None or base[0] != "ext" or not str(base[1]).endswith(".Annotated"):
        return None
    for item in expr[2][1:]:
        if item[0] != "call" or item[2] or any(key == "dependency" for key, _v in item[3]):
            continue
        callee = resolver.resolve(module, module.body, item[1])
        if callee is not None and callee[0] == "ext" and callee[1] in DEPENDS_CALLEES:
            value = resolver.resolve(module, module.body, expr[2][0])
            return _node_for_value(project, value, _label(annotation))
    return None


def parameter_dependencies(project: Project, fid: str) -> list[DependencyNode]:
    """The dependencies a function's own parameters declare (its sub-dependencies)."""

    def compute() -> list[DependencyNode]:
        info = project.function(fid)
        if info is None:
            return []
        found: list[DependencyNode] = []
        for param in info.summary.params:
            node = _parameter_dependency(project, info, param.annotation, param.default)
            if node is not None:
                found.append(node)
        return found

    return project.memo(f"routes.parameter_dependencies:{fid}", compute)


def route_dependencies(project: Project, route: Route) -> list[DependencyNode]:
    """A route's level-1 dependencies: its parameters' and ``dependencies=`` of the decorator,
    routers and app."""
    nodes = list(parameter_dependencies(project, route.handler))
    for fid in route.dependencies:
        info = project.function(fid)
        name = info.summary.name if info is not None else fid
        if info is not None and name == "__init__" and info.summary.class_qualname:
            name = info.summary.class_qualname.rsplit(".", 1)[-1]
        nodes.append(DependencyNode(fid, name))
    nodes += _declared_callable_dependencies(project, route)
    return nodes


def _listed_callables(
    project: Project, info: FunctionInfo, expr: Expr | None
) -> list[DependencyNode]:
    """The entries of a ``dependencies=[Depends(x), ...]`` list that are not plain functions
    (``Route.dependencies`` holds those): callable instances such as ``RoleChecker("admin")``
    or security schemes, and classes."""
    if expr is None or expr[0] != "seq":
        return []
    nodes: list[DependencyNode] = []
    for item in expr[1]:
        if not _is_depends_call(project, info, item):
            continue
        argument = _depends_argument(item)
        value = project.resolve(info, argument) if argument is not None else None
        if value is None or value[0] == "func":
            continue
        node = _node_for_value(project, value, _label(argument))
        if node is not None:
            nodes.append(node)
    return nodes


def _router_callables(project: Project) -> dict[str, list[DependencyNode]]:
    """Router origin -> the callable (non-function) dependencies its constructor and every
    ``include_router(router, dependencies=[...])`` of it declare."""

    def compute() -> dict[str, list[DependencyNode]]:
        found: dict[str, list[DependencyNode]] = {}
        for origin, router in project.fastapi.routers.items():
            module_name, _, rest = origin.partition(":")
            scope, _, variable = rest.rpartition(".")
            info = project.function(f"{module_name}:{scope or MODULE_BODY}")
            if info is None:
                continue
            for site in info.summary.calls:
                if site.line == router.line and site.target == variable:
                    nodes = _listed_callables(project, info, site.keyword("dependencies"))
                    found.setdefault(origin, []).extend(nodes)
        for info in project.functions():
            for site in info.summary.calls:
                if site.func[0] != "attr" or site.func[2] != "include_router" or not site.args:
                    continue
                nodes = _listed_callables(project, info, site.keyword("dependencies"))
                child = project.resolve(info, site.args[0]) if nodes else None
                if child is not None and child[0] == "inst" and child[2]:
                    found.setdefault(str(child[2]), []).extend(nodes)
        return found

    return project.memo("routes.router_callables", compute)


def _declared_callable_dependencies(project: Project, route: Route) -> list[DependencyNode]:
    """Callable-instance and class dependencies from ``dependencies=`` of the route's decorator
    (or ``add_api_route``), its router, the routers including it and the app."""
    info = project.function(route.handler)
    nodes: list[DependencyNode] = []
    if info is not None:
        keywords = declaration_keywords(project, route)
        nodes += _listed_callables(project, info, keywords.get("dependencies"))
    by_router = _router_callables(project)
    if not by_router:
        return nodes
    seen: set[str] = set()
    pending = [route.router]
    while pending:
        origin = pending.pop()
        if origin in seen:
            continue
        seen.add(origin)
        nodes += by_router.get(origin, [])
        router = project.fastapi.routers.get(origin)
        # a mounted sub-application runs its own dependencies, not its parent's
        if router is not None and not router.is_app:
            pending += [parent for parent, _prefix, _deps in router.included_in]
    return nodes


def dependency_chain(
    project: Project, node: DependencyNode, active: frozenset[str] = frozenset()
) -> list[DependencyNode]:
    """The longest chain of dependencies starting at ``node`` (``node`` first)."""
    if not node.fid or node.key in active:
        return [node]
    memo: dict[str, list[DependencyNode]] = project.memo("routes.dependency_chains", dict)
    tail = memo.get(node.key)
    if tail is None:
        # FastAPI rejects cyclic dependencies; `active` only keeps a broken project finite.
        tail = []
        for child in parameter_dependencies(project, node.fid):
            chain = dependency_chain(project, child, active | {node.key})
            if len(chain) > len(tail):
                tail = chain
        memo[node.key] = tail
    return [node, *tail]


def reachable_from_routes(project: Project) -> dict[str, str]:
    """Project functions that serving a request runs: route handlers, every dependency in their
    trees and everything those call, mapped to the label of one route that reaches them."""

    def compute() -> dict[str, str]:
        reached: dict[str, str] = {}
        queue: deque[str] = deque()
        for route in project.routes:
            for node in [
                DependencyNode(route.handler, ""),
                *route_dependencies(project, route),
            ]:
                if node.fid and node.fid not in reached:
                    reached[node.fid] = route.label
                    queue.append(node.fid)
        handed_off: dict[str, list[str]] = {}
        for handoff in project.fastapi.handoffs:
            if handoff.target:
                handed_off.setdefault(handoff.caller, []).append(handoff.target)
        while queue:
            current = queue.popleft()
            label = reached[current]
            successors = [edge.callee for edge in project.edges_out.get(current, ())]
            successors += [node.fid for node in parameter_dependencies(project, current)]
            # Background tasks, thread and executor jobs a request starts are its code too.
            successors += handed_off.get(current, [])
            for callee in successors:
                if callee and callee not in reached:
                    reached[callee] = label
                    queue.append(callee)
        return reached

    return project.memo("routes.reachable_from_routes", compute)
