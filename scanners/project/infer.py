"""Receivers the resolver leaves unknown: an unannotated parameter takes the type of what the
function's callers pass for it (``def get_item(db, item_id): return db.query(...)`` called
as ``crud.get_item(db, 1)`` from a route whose ``db`` is a sync ``Session``). Used for extra
call-graph edges (``Project``) and by the detectors for the calls themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scanners.project.resolve import Value
from scanners.project.summary import CallSite, Expr

if TYPE_CHECKING:
    from scanners.project.model import FunctionInfo, Project

_MAX_DEPTH = 3


def infer_callee(
    project: Project, info: FunctionInfo, site: CallSite, callee: Value | None
) -> Value | None:
    """The callee of ``param.method(...)`` when ``param`` is an unannotated parameter."""
    if callee is not None:
        return callee
    func = site.func
    if func[0] != "attr":
        return None
    base: Expr = func[1]
    receiver: Value | None = None
    if base[0] == "name":
        receiver = caller_value(project, info, str(base[1]))
    elif base[0] == "attr" and base[1] == ("name", "self"):
        receiver = _init_parameter_value(project, info, str(base[2]))
    if receiver is None:
        return None
    return project.resolver.attribute(receiver, str(func[2]))


def _init_parameter_value(project: Project, info: FunctionInfo, attribute: str) -> Value | None:
    """``self.<attribute>`` that ``__init__`` sets from one of its unannotated parameters
    (``def __init__(self, db): self.db = db``): what the constructor's callers pass."""
    fs = info.summary
    if not fs.class_qualname:
        return None
    init = project.resolver.class_member(f"{info.module.module}:{fs.class_qualname}", "__init__")
    if init is None or init[0] != "func":
        return None
    init_info = project.function(str(init[1]))
    if init_info is None:
        return None
    for value in init_info.summary.self_assigns.get(attribute, ()):
        if value[0] == "name":
            found = caller_value(project, init_info, str(value[1]))
            if found is not None:
                return found
    return None


def caller_value(project: Project, info: FunctionInfo, name: str, depth: int = 0) -> Value | None:
    """The instance the callers pass for the unannotated parameter ``name`` (None when the
    callers that tell disagree on its type)."""
    # Keyed by the call graph's generation (edges found by inference add callers) and by the
    # depth: an answer cut short at the depth limit is not the answer for a direct question.
    key = f"infer.caller_value:{project.infer_generation}:{depth}:{info.fid}:{name}"
    return project.memo(key, lambda: _caller_value(project, info, name, depth))


def _caller_value(project: Project, info: FunctionInfo, name: str, depth: int) -> Value | None:
    fs = info.summary
    index = next((i for i, p in enumerate(fs.params) if p.name == name), -1)
    if index < 0 or name in fs.assigns:
        return None
    param = fs.params[index]
    if param.annotation is not None or param.kind in ("vararg", "kwarg"):
        return None
    if param.default is not None and param.default[0] != "const":
        return None  # `Depends(...)` and other defaults: the resolver's business
    is_method = bool(fs.class_qualname) and bool(fs.params) and fs.params[0].name in ("self", "cls")
    is_static = any(d == ("name", "staticmethod") for d in fs.decorators)
    position = index - (1 if is_method and not is_static else 0)
    found: Value | None = None
    for edge in project.edges_in.get(info.fid, ()):
        if edge.kind != "call" or edge.site is None:
            continue
        caller = project.function(edge.caller)
        if caller is None:
            continue
        argument = _argument(edge.site.call, name, position, param.kind)
        if argument is None:
            continue
        value = project.resolve(caller, argument)
        if value is None and argument[0] == "name" and depth < _MAX_DEPTH:
            value = caller_value(project, caller, str(argument[1]), depth + 1)
        if value is None or value[0] != "inst" or value[1] == "?":
            continue
        if found is not None and found[1] != value[1]:
            return None  # callers disagree: a sync session here, an async one there
        found = value
    return found


def _argument(call: Expr, name: str, position: int, kind: str) -> Expr | None:
    """The expression a call passes for a parameter (by keyword, else by position)."""
    if call[0] != "call":
        return None
    for key, value in call[3]:
        if key == name:
            return value if isinstance(value, tuple) else None
    args: tuple[Expr, ...] = call[2]
    if kind == "kwonly" or position < 0 or position >= len(args):
        return None
    if any(arg[0] == "starred" for arg in args[: position + 1]):
        return None
    return args[position]
