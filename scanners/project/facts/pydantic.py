"""Per-file facts for the Pydantic analyses (``scanners.project.pydantic_models``).

Two kinds:

- ``"pydantic_classes"``: every class with class-level annotated fields (which of them are
  Pydantic models is decided across modules later, through their bases): each field's
  annotation classified (``Optional``, ``Any``-like, plain ``str`` and whether it is bounded),
  the ``Field(...)`` keywords (also inside ``Annotated[...]``) and the line; plus ``class Config``.
- ``"attribute_uses"``: per function, the dereferences ``var.field.attr`` / ``var.field[...]``
  and which ``var.field`` are checked for ``None`` (``is None``, truthiness, ``or``), so a
  detector can tell an Optional field used without a check; and the ``return name`` lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from scanners.project.facts import fact_extractor
from scanners.project.summary import Expr, FunctionSummary, ModuleSummary

# Keywords of Field(...)/StringConstraints(...)/constr(...) that bound a string.
STRING_BOUNDS = frozenset({"max_length", "pattern", "regex"})
# Types that are strings with a built-in shape or bound: never "unconstrained".
SHAPED_STRING_TYPES = frozenset(
    {"EmailStr", "NameEmail", "HttpUrl", "AnyUrl", "AnyHttpUrl", "SecretStr", "UUID", "constr"}
)
_FIELD_CALLEES = frozenset({"Field", "StringConstraints", "constr", "Query", "Body"})


@dataclass(frozen=True, slots=True)
class FieldFact:
    name: str
    line: int
    annotation: str  # source text
    optional: bool  # Optional[X], Union[X, None], X | None
    loose: str  # "" or what makes it loose: "Any", "dict", "dict[str, Any]", "list", ...
    is_str: bool  # the type (under Optional/Annotated) is plain `str`
    bounded: bool  # a max_length/pattern/regex bound from Field(...) or Annotated metadata
    field_keywords: tuple[str, ...]  # keyword names given to Field(...)
    type_names: tuple[str, ...]  # every name the annotation mentions (nested model lookup)
    default: str  # source text of the default ("" when none)


@dataclass(frozen=True, slots=True)
class ClassFact:
    qualname: str
    line: int
    fields: tuple[FieldFact, ...]
    config_class_line: int  # `class Config:` inside the class, 0 when none
    # `model_config = ConfigDict(a=..)` / `{"a": ..}` and v1 `class Config: a = ..`: option names
    config_options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FunctionUses:
    derefs: tuple[tuple[str, str, int], ...]  # (var, field, line) for var.field.x / var.field[...]
    guarded: frozenset[tuple[str, str]]  # (var, field) compared with None or tested for truth
    returns: tuple[tuple[str, int], ...]  # (name, line) for `return name`
    # (dotted class name, line) for `return session.get(User, i)` / `return (await
    # s.scalars(select(User))).all()`: rows of that class returned as they are
    returned_rows: tuple[tuple[str, int], ...] = ()
    # (dotted callee, line) for `return await crud.get_user(db, i)`: what the callee returns
    returned_calls: tuple[tuple[str, int], ...] = ()


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _last(node: ast.expr) -> str:
    return _dotted(node).rpartition(".")[2]


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _bound_keywords(call: ast.Call) -> set[str]:
    return {kw.arg for kw in call.keywords if kw.arg is not None}


@dataclass
class _TypeShape:
    optional: bool = False
    loose: str = ""
    is_str: bool = False
    bounded: bool = False
    field_keywords: tuple[str, ...] = ()


def _unwrap(node: ast.expr, shape: _TypeShape) -> ast.expr:
    """Strip Annotated[...] (collecting its Field bounds) and Optional/`| None` layers."""
    while True:
        if isinstance(node, ast.Subscript) and _last(node.value) == "Annotated":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for meta in items[1:]:
                if isinstance(meta, ast.Call) and _last(meta.func) in _FIELD_CALLEES:
                    keywords = _bound_keywords(meta)
                    shape.field_keywords += tuple(sorted(keywords))
                    shape.bounded |= bool(keywords & STRING_BOUNDS)
            node = items[0]
            continue
        if isinstance(node, ast.Subscript) and _last(node.value) == "Optional":
            shape.optional = True
            node = node.slice
            continue
        if isinstance(node, ast.Subscript) and _last(node.value) == "Union":
            items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            rest = [item for item in items if not _is_none(item)]
            if len(rest) < len(items):
                shape.optional = True
            if len(rest) == 1:
                node = rest[0]
                continue
            return node
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            if _is_none(node.right):
                shape.optional = True
                node = node.left
                continue
            if _is_none(node.left):
                shape.optional = True
                node = node.right
                continue
        return node


def _loose_kind(node: ast.expr) -> str:
    name = _last(node) if not isinstance(node, ast.Subscript) else ""
    if name in ("Any", "object"):
        return name
    if name in ("dict", "Dict", "list", "List"):
        return name
    if isinstance(node, ast.Subscript):
        outer = _last(node.value)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ("dict", "Dict", "Mapping") and len(items) == 2:
            value = _last(items[1])
            if value in ("Any", "object"):
                return f"{outer}[{ast.unparse(items[0])}, {value}]"
        if outer in ("list", "List", "Sequence", "set", "Set") and len(items) == 1:
            if _last(items[0]) in ("Any", "object"):
                return f"{outer}[{_last(items[0])}]"
            # `list[dict]`, `List[Dict[str, Any]]`: a list of schemaless items
            inner = _loose_kind(items[0])
            if inner:
                return f"{outer}[{inner}]"
    return ""


def _field(node: ast.AnnAssign, target: str) -> FieldFact:
    shape = _TypeShape()
    inner = _unwrap(node.annotation, shape)
    default = node.value
    if isinstance(default, ast.Call) and _last(default.func) in _FIELD_CALLEES:
        keywords = _bound_keywords(default)
        shape.field_keywords += tuple(sorted(keywords))
        shape.bounded |= bool(keywords & STRING_BOUNDS)
    inner_name = _last(inner)
    if isinstance(inner, ast.Call) and _last(inner.func) == "constr":
        # `constr(max_length=...)` is bounded; `constr(min_length=3)` is a plain `str`
        keywords = _bound_keywords(inner)
        shape.field_keywords += tuple(sorted(keywords))
        inner_name = "constr" if keywords & STRING_BOUNDS else "str"
    names = {n.id for n in ast.walk(node.annotation) if isinstance(n, ast.Name)}
    # forward references: list["LineIn"], Optional["Owner"]
    names |= {
        n.value
        for n in ast.walk(node.annotation)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.isidentifier()
    }
    type_names = tuple(sorted(names))
    return FieldFact(
        name=target,
        line=node.lineno,
        annotation=ast.unparse(node.annotation),
        optional=shape.optional,
        loose=_loose_kind(inner),
        is_str=inner_name == "str" and not isinstance(inner, ast.Subscript),
        bounded=shape.bounded or inner_name in SHAPED_STRING_TYPES,
        field_keywords=shape.field_keywords,
        type_names=type_names,
        default=ast.unparse(default) if default is not None else "",
    )


def _config_options(value: ast.expr) -> list[str]:
    """Option names of `ConfigDict(a=1)` / `SettingsConfigDict(...)` / `{"a": 1}`."""
    if isinstance(value, ast.Call):
        return [kw.arg for kw in value.keywords if kw.arg is not None]
    if isinstance(value, ast.Dict):
        return [
            key.value
            for key in value.keys
            if isinstance(key, ast.Constant) and isinstance(key.value, str)
        ]
    return []


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, without visiting expressions (cheap)."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if children:
                stack.extend(reversed(children))


@fact_extractor("pydantic_classes")
def pydantic_classes(tree: ast.Module, summary: ModuleSummary) -> dict[str, ClassFact] | None:
    """Class qualname -> its annotated fields, for every class that has any."""
    config_owners = {
        qualname.rpartition(".")[0] for qualname in summary.classes if qualname.endswith(".Config")
    }
    qualname_at = {
        cs.line: qualname
        for qualname, cs in summary.classes.items()
        if cs.attr_annotations or qualname in config_owners or "model_config" in cs.attr_values
    }
    if not qualname_at:
        return None
    found: dict[str, ClassFact] = {}
    for node in _statements(tree.body):
        if not isinstance(node, ast.ClassDef) or node.lineno not in qualname_at:
            continue
        fields: list[FieldFact] = []
        config_line = 0
        options: list[str] = []
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                name = statement.target.id
                if name == "model_config" and statement.value is not None:
                    options += _config_options(statement.value)
                elif _last(statement.annotation) != "ClassVar" and not name.startswith("_"):
                    fields.append(_field(statement, name))
            elif (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and statement.targets[0].id == "model_config"
            ):
                options += _config_options(statement.value)
            elif isinstance(statement, ast.ClassDef) and statement.name == "Config":
                config_line = statement.lineno
                options += [
                    target.id
                    for inner in statement.body
                    if isinstance(inner, ast.Assign)
                    for target in inner.targets
                    if isinstance(target, ast.Name)
                ]
        if fields or config_line or options:
            qualname = qualname_at[node.lineno]
            found[qualname] = ClassFact(
                qualname, node.lineno, tuple(fields), config_line, tuple(options)
            )
    return found or None


_RECEIVERS_SKIPPED = frozenset({"self", "cls"})  # attributes of objects, not of parameters


def _field_ref(node: ast.expr) -> tuple[str, str] | None:
    """`var.field` -> (var, field)."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id not in _RECEIVERS_SKIPPED
    ):
        return node.value.id, node.attr
    return None


def _tested(
    node: ast.expr,
    guarded: set[tuple[str, str]],
    aliases: dict[str, tuple[str, str]] | None = None,
) -> None:
    """Record every `var.field` a condition tests (truthiness, `is None`, `==`, `not`, and/or),
    directly or through a local alias of the field."""
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _tested(value, guarded, aliases)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _tested(node.operand, guarded, aliases)
    elif isinstance(node, ast.Compare):
        for operand in (node.left, *node.comparators):
            _tested_operand(operand, guarded, aliases)
    else:
        _tested_operand(node, guarded, aliases)


def _tested_operand(
    node: ast.expr, guarded: set[tuple[str, str]], aliases: dict[str, tuple[str, str]] | None
) -> None:
    ref = _field_ref(node)
    if ref is None and aliases and isinstance(node, ast.Name):
        ref = aliases.get(node.id)
    if ref is not None:
        guarded.add(ref)


# Builtins that fail on None: `len(x)`, `sorted(x)`, `", ".join(x)` ...
_NONE_REJECTING_CALLS = frozenset(
    {"len", "sorted", "sum", "list", "tuple", "set", "enumerate", "min", "max", "any", "all"}
)
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)


def _consumed(node: ast.AST) -> list[ast.expr]:
    """The expressions ``node`` uses in a way that raises on None: `x.attr`, `x[...]`,
    `for _ in x`, `len(x)`, `sep.join(x)`, `x - y`."""
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return [node.value]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return [node.iter]
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
        if isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            return []  # "%s" % value formats None fine
        return [node.left, node.right]
    if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
        func = node.func
        if isinstance(func, ast.Name) and func.id in _NONE_REJECTING_CALLS:
            return [node.args[0]]
        if isinstance(func, ast.Attribute) and func.attr == "join":
            return [node.args[0]]
    return []


_SINGLE_TARGET = (
    ast.AnnAssign,
    ast.AugAssign,
    ast.NamedExpr,
    ast.For,
    ast.AsyncFor,
    ast.comprehension,
)


def _field_aliases(nodes: list[ast.AST]) -> dict[str, tuple[str, str]]:
    """Locals assigned once from a field, `company = payload.company` -> {company: (payload,
    company)}: using the local is using the field. ``nodes``: the function's walked nodes."""
    found: dict[str, tuple[str, str]] = {}
    assigned: dict[str, int] = {}
    for node in nodes:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, _SINGLE_TARGET):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars]
        for target in targets:
            names = [target] if isinstance(target, ast.Name) else ast.walk(target)
            for name in names:
                if isinstance(name, ast.Name):
                    assigned[name.id] = assigned.get(name.id, 0) + 1
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            ref = _field_ref(node.value)
            if ref is not None:
                found[node.targets[0].id] = ref
    return {name: ref for name, ref in found.items() if assigned.get(name) == 1}


def _function_uses(function: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionUses:
    derefs: list[tuple[str, str, int]] = []
    guarded: set[tuple[str, str]] = set()
    nodes = list(ast.walk(function))
    aliases = _field_aliases(nodes)

    def ref_of(node: ast.expr) -> tuple[str, str] | None:
        if isinstance(node, ast.Name):
            return aliases.get(node.id)
        return _field_ref(node)

    for node in nodes:
        for used in _consumed(node):
            ref = ref_of(used)
            if ref is not None:
                derefs.append((ref[0], ref[1], used.lineno))
        if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)):
            _tested(node.test, guarded, aliases)
        elif isinstance(node, ast.comprehension):
            for condition in node.ifs:
                _tested(condition, guarded, aliases)
        elif isinstance(node, (ast.BoolOp, ast.Compare)):
            # `x.f or default`, `x.f and x.f.g`, `x.f is None` anywhere (also in returns)
            _tested(node, guarded, aliases)
    names, rows, calls = _returned_names(function)
    return FunctionUses(tuple(derefs), frozenset(guarded), names, rows, calls)


ReturnedNames = tuple[tuple[str, int], ...]

# Calls that load rows of the class given as their first argument.
_ROW_LOADERS = frozenset({"select", "get", "query", "get_one", "get_or_404"})
# Methods between the loader and the returned value that still yield the rows themselves.
_ROW_METHODS = frozenset(
    {
        "all",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
        "scalars",
        "unique",
        "exec",
        "execute",
        "where",
        "filter",
        "filter_by",
        "order_by",
        "limit",
        "offset",
        "options",
        "join",
        "distinct",
    }
)


def _loaded_class(node: ast.expr, depth: int = 0) -> str:
    """The dotted class name whose rows a returned expression is, "" when not that shape."""
    if depth > 12:
        return ""
    if isinstance(node, ast.Await):
        return _loaded_class(node.value, depth + 1)
    if not isinstance(node, ast.Call):
        return ""
    name = node.func.attr if isinstance(node.func, ast.Attribute) else _last(node.func)
    if name in _ROW_LOADERS and node.args and _dotted(node.args[0]):
        first = _dotted(node.args[0])
        if first[:1].isupper() or "." in first:
            return first
    if name not in _ROW_METHODS:
        return ""
    # `session.exec(select(User))`: the rows come from the argument
    if node.args and (found := _loaded_class(node.args[0], depth + 1)):
        return found
    if isinstance(node.func, ast.Attribute):
        return _loaded_class(node.func.value, depth + 1)
    return ""


def _returned_names(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
) -> tuple[ReturnedNames, ReturnedNames, ReturnedNames]:
    """`return name` statements of the function itself (not of functions nested in it),
    `return <query of rows of a class>` and `return [await] helper(...)` statements."""
    found: list[tuple[str, int]] = []
    rows: list[tuple[str, int]] = []
    calls: list[tuple[str, int]] = []
    stack: list[ast.stmt] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Name):
            found.append((node.value.id, node.lineno))
        elif isinstance(node, ast.Return) and isinstance(node.value, (ast.Dict, ast.List)):
            # `return {"ticket": t.id, "agent": agent}`: the object is serialized inside
            items = node.value.values if isinstance(node.value, ast.Dict) else node.value.elts
            found += [(item.id, node.lineno) for item in items if isinstance(item, ast.Name)]
        elif isinstance(node, ast.Return) and node.value is not None:
            loaded = _loaded_class(node.value)
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if loaded:
                rows.append((loaded, node.lineno))
            elif isinstance(value, ast.Call) and _dotted(value.func):
                calls.append((_dotted(value.func), node.lineno))
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if children:
                stack.extend(reversed(children))
    return tuple(found), tuple(rows), tuple(calls)


def _field_deref_of(expr: Expr, params: frozenset[str], depth: int = 0) -> bool:
    """Whether an encoded expression contains `param.field.x` (a dereference of a field)."""
    if depth > 6 or not isinstance(expr, tuple) or not expr:
        return False
    kind = expr[0]
    if kind in ("attr", "sub"):
        base = expr[1]
        if base[0] == "attr" and base[1][0] == "name" and base[1][1] in params:
            return True
        return _field_deref_of(base, params, depth + 1)
    if kind == "call":
        # `len(param.field)`, `sep.join(param.field)`: the field itself handed to a call
        return (
            _field_deref_of(expr[1], params, depth + 1)
            or any(
                _field_deref_of(arg, params, depth + 1) or _is_field_of(arg, params)
                for arg in expr[2]
            )
            or any(_field_deref_of(value, params, depth + 1) for _key, value in expr[3])
        )
    if kind == "binop":
        return any(
            _field_deref_of(item, params, depth + 1) or _is_field_of(item, params)
            for item in expr[2:]
        )
    if kind == "await":
        return any(_field_deref_of(item, params, depth + 1) for item in expr[1:])
    return False


def _dereferences_parameter_fields(fs: FunctionSummary) -> bool:
    """Cheap pre-check on the summary: some call or assignment uses `param.field.x`."""
    params = frozenset(p.name for p in fs.params if p.name not in _RECEIVERS_SKIPPED)
    if not params:
        return False
    if any(_field_deref_of(site.call, params) for site in fs.calls):
        return True
    return any(
        _field_deref_of(value, params) or _is_field_of(value, params)
        for values in fs.assigns.values()
        for value in values
    )


def _is_field_of(expr: Expr, params: frozenset[str]) -> bool:
    """`param.field` itself (assigned to a local that may be dereferenced later)."""
    return (
        isinstance(expr, tuple)
        and len(expr) == 3
        and expr[0] == "attr"
        and isinstance(expr[1], tuple)
        and expr[1][:1] == ("name",)
        and expr[1][1] in params
    )


@fact_extractor("attribute_uses")
def attribute_uses(tree: ast.Module, summary: ModuleSummary) -> dict[str, FunctionUses] | None:
    """Function qualname -> its field dereferences, None checks and `return name` lines.

    Only functions whose summary shows a `param.field.x` use are walked in full (the others
    have nothing for PYD-LOOSE-OPTIONAL); decorated functions (routes) get their `return name`
    lines from a statement-only pass (so do functions that return something: routes registered
    with ``add_api_route`` have no decorator)."""
    wanted: dict[tuple[int, str], tuple[str, bool]] = {}
    for qualname, fs in summary.functions.items():
        if fs.is_module_body or qualname.rpartition(".")[2].startswith("<lambda>"):
            continue
        full = _dereferences_parameter_fields(fs)
        if full or fs.decorators or fs.return_values:
            wanted[(fs.line, fs.name)] = (qualname, full)
    if not wanted:
        return None
    found: dict[str, FunctionUses] = {}
    for node in _statements(tree.body):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        entry = wanted.get((node.lineno, node.name))
        if entry is None:
            continue
        qualname, full = entry
        if full:
            found[qualname] = _function_uses(node)
        else:
            returns, rows, calls = _returned_names(node)
            if returns or rows or calls:
                found[qualname] = FunctionUses((), frozenset(), returns, rows, calls)
    return found or None
