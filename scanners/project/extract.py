"""The per-file pass: one AST walk that turns a module into a ``ModuleSummary``.

Runs in worker processes; only the summary travels back, the AST is dropped with the worker's
frame. Everything the global pass needs (imports, symbols, call sites with how their result is
used, assignments for type inference, decorators for the FastAPI model) is collected here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from scanners.project.facts import extract_facts
from scanners.project.summary import (
    MODULE_BODY,
    UNKNOWN,
    USAGE_ARG,
    USAGE_ASSIGN,
    USAGE_ASYNC_FOR,
    USAGE_ASYNC_WITH,
    USAGE_AWAIT,
    USAGE_ELEMENT,
    USAGE_RECEIVER,
    USAGE_RETURN,
    USAGE_STMT,
    USAGE_VALUE,
    USAGE_WITH,
    USAGE_YIELD,
    CallSite,
    ClassSummary,
    Expr,
    FunctionSummary,
    ImportBinding,
    ModuleSummary,
    Param,
)

_MAX_DEPTH = 24
_MAX_RETURN_VALUES = 4
# Callees whose function arguments run elsewhere (a thread, a process, later): a lambda passed to
# them is its own function, not part of the caller's body.
HANDOFF_CALLEE_NAMES = frozenset(
    {
        "to_thread",
        "run_in_executor",
        "run_in_threadpool",
        "run_sync",
        "submit",
        "add_task",
        "Thread",
        "Process",
        "Timer",
        "start_new_thread",
        "call_soon_threadsafe",
        "apply_async",
        "map",
    }
)
_BINOPS: dict[type[ast.operator], str] = {
    ast.Div: "/",
    ast.BitOr: "|",
    ast.Add: "+",
    ast.Mod: "%",
    ast.Sub: "-",
    ast.Mult: "*",
}


_MAX_ITEMS = 64  # elements kept from a list/tuple/dict display
_MAX_STR = 500
_SEQ_TYPES = (ast.List, ast.Tuple, ast.Set)
_COMP_TYPES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class Encoder:
    """Encodes expressions, sharing the tuples of sub-expressions already encoded (a call's
    arguments are also call sites of their own), so work and pickled size stay linear."""

    def __init__(self) -> None:
        self._cache: dict[int, Expr] = {}

    def __call__(self, node: ast.AST | None, depth: int = 0) -> Expr:
        if node is None or depth > _MAX_DEPTH:
            return UNKNOWN
        kind = type(node)
        if kind is ast.Name:
            return ("name", node.id)  # type: ignore[attr-defined]
        if kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if value is Ellipsis:
                return ("const", "...")
            if isinstance(value, str | bytes) and len(value) > _MAX_STR:
                value = value[:_MAX_STR]
            return ("const", value)
        key = id(node)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        encoded = self._compound(node, depth + 1)
        self._cache[key] = encoded
        return encoded

    def _compound(self, node: ast.AST, d: int) -> Expr:
        if isinstance(node, ast.Attribute):
            return ("attr", self(node.value, d), node.attr)
        if isinstance(node, ast.Call):
            args = tuple(
                ("starred", self(a.value, d)) if isinstance(a, ast.Starred) else self(a, d)
                for a in node.args[:_MAX_ITEMS]
            )
            kwargs = tuple((kw.arg, self(kw.value, d)) for kw in node.keywords)
            return ("call", self(node.func, d), args, kwargs)
        if isinstance(node, ast.Subscript):
            index = node.slice
            items = index.elts if isinstance(index, ast.Tuple) else [index]
            return ("sub", self(node.value, d), tuple(self(i, d) for i in items[:_MAX_ITEMS]))
        if isinstance(node, ast.BinOp):
            operator = _BINOPS.get(type(node.op), "?")
            return ("binop", operator, self(node.left, d), self(node.right, d))
        if isinstance(node, ast.Await):
            return ("await", self(node.value, d))
        if isinstance(node, _SEQ_TYPES):
            return ("seq", tuple(self(e, d) for e in node.elts[:_MAX_ITEMS]))
        if isinstance(node, ast.Dict):
            return (
                "dict",
                tuple(self(k, d) if k is not None else UNKNOWN for k in node.keys[:_MAX_ITEMS]),
                tuple(self(v, d) for v in node.values[:_MAX_ITEMS]),
            )
        if isinstance(node, _COMP_TYPES):
            return ("comp",)
        if isinstance(node, ast.JoinedStr):
            return ("fstring",)
        if isinstance(node, ast.Lambda):
            return ("lambda", node.lineno)
        if isinstance(node, ast.Starred):
            return ("starred", self(node.value, d))
        return UNKNOWN


def encode(node: ast.AST | None) -> Expr:
    """Encode one expression as the nested tuples described in ``scanners.project.summary``."""
    return Encoder()(node)


_ESCAPING_USAGES = frozenset({USAGE_ARG, USAGE_RETURN, USAGE_YIELD, USAGE_ELEMENT, USAGE_AWAIT})
_OPERATOR_TYPES = frozenset(
    {ast.BinOp, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.JoinedStr, ast.FormattedValue}
)


def encode_annotation(node: ast.AST | None, encoder: Encoder | None = None) -> Expr | None:
    """Like ``encode``, but string annotations ("Session") are parsed first."""
    if node is None:
        return None
    coder = encoder or Encoder()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value.strip(), mode="eval")
        except SyntaxError:
            return UNKNOWN
        return Encoder()(parsed.body)
    if isinstance(node, ast.Subscript):
        # Parse string arguments inside generics too: Optional["Session"].
        index = node.slice
        items = index.elts if isinstance(index, ast.Tuple) else [index]
        return (
            "sub",
            coder(node.value),
            tuple(encode_annotation(i, coder) or UNKNOWN for i in items),
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return (
            "binop",
            "|",
            encode_annotation(node.left, coder),
            encode_annotation(node.right, coder),
        )
    return coder(node)


def callee_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


@dataclass
class _Scope:
    summary: FunctionSummary
    escaped: set[str] = field(default_factory=set)
    global_names: set[str] = field(default_factory=set)
    local_defs: set[str] = field(default_factory=set)
    return_values: list[Expr] = field(default_factory=list)


class _Extractor:
    def __init__(self, summary: ModuleSummary) -> None:
        self.module = summary
        self.encode = Encoder()
        body = FunctionSummary(
            qualname=MODULE_BODY, name=MODULE_BODY, is_async=False, line=1, end_line=summary.lines
        )
        summary.functions[MODULE_BODY] = body
        self.scopes: list[_Scope] = [_Scope(body)]

    # -- scopes ---------------------------------------------------------------------------------
    @property
    def scope(self) -> _Scope:
        return self.scopes[-1]

    def _prefix(self, class_qualname: str) -> str:
        if class_qualname:
            return class_qualname + "."
        current = self.scope.summary
        return "" if current.is_module_body else current.qualname + "."

    def _finish(self, scope: _Scope) -> None:
        fs = scope.summary
        fs.escaped_names = frozenset(scope.escaped)
        fs.global_names = frozenset(scope.global_names)
        fs.local_defs = frozenset(scope.local_defs)
        fs.return_values = tuple(scope.return_values)

    # -- statements -----------------------------------------------------------------------------
    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.stmt(statement)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, class_qualname: str) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, USAGE_VALUE)
        self._arguments_defaults(node.args)
        qualname = self._prefix(class_qualname) + node.name
        parent = self.scope.summary
        if not parent.is_module_body and not class_qualname:
            self.scope.local_defs.add(node.name)
        fs = FunctionSummary(
            qualname=qualname,
            name=node.name,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            class_qualname=class_qualname,
            parent="" if parent.is_module_body else parent.qualname,
            decorators=tuple(self.encode(d) for d in node.decorator_list),
            decorator_lines=tuple(d.lineno for d in node.decorator_list),
            params=_params(node.args, self.encode),
            returns=encode_annotation(node.returns, self.encode),
            is_stub=_is_stub(node.body),
        )
        self.module.functions[qualname] = fs
        self.scopes.append(_Scope(fs))
        self.body(node.body)
        self._finish(self.scopes.pop())

    def lambda_function(self, node: ast.Lambda) -> None:
        parent = self.scope.summary
        prefix = "" if parent.is_module_body else parent.qualname + "."
        qualname = f"{prefix}<lambda>:{node.lineno}:{node.col_offset}"
        fs = FunctionSummary(
            qualname=qualname,
            name="<lambda>",
            is_async=False,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            parent="" if parent.is_module_body else parent.qualname,
            params=_params(node.args, self.encode),
        )
        self.module.functions[qualname] = fs
        self.scopes.append(_Scope(fs))
        self.expr(node.body, USAGE_RETURN)
        self._finish(self.scopes.pop())

    def _arguments_defaults(self, args: ast.arguments) -> None:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.expr(default, USAGE_VALUE)

    def klass(self, node: ast.ClassDef, class_qualname: str) -> None:
        for decorator in node.decorator_list:
            self.expr(decorator, USAGE_VALUE)
        for base in node.bases:
            self.expr(base, USAGE_VALUE)
        qualname = self._prefix(class_qualname) + node.name
        if not self.scope.summary.is_module_body and not class_qualname:
            self.scope.local_defs.add(node.name)
        cs = ClassSummary(
            qualname=qualname,
            name=node.name,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            bases=tuple(self.encode(b) for b in node.bases),
            decorators=tuple(self.encode(d) for d in node.decorator_list),
            keywords=tuple((kw.arg, self.encode(kw.value)) for kw in node.keywords),
        )
        self.module.classes[qualname] = cs
        methods: list[str] = []
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                methods.append(statement.name)
                self.function(statement, qualname)
            elif isinstance(statement, ast.ClassDef):
                self.klass(statement, qualname)
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                name = statement.target.id
                cs.attr_annotations[name] = (
                    encode_annotation(statement.annotation, self.encode) or UNKNOWN
                )
                cs.attr_lines[name] = statement.lineno
                if statement.value is not None:
                    cs.attr_values[name] = self.encode(statement.value)
                    self.expr(statement.value, USAGE_ELEMENT)
            elif isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        cs.attr_values[target.id] = self.encode(statement.value)
                        cs.attr_lines[target.id] = statement.lineno
                self.expr(statement.value, USAGE_ELEMENT)
            else:
                self.stmt(statement)
        cs.methods = tuple(methods)

    def _bind(self, name: str, value: Expr) -> None:
        scope = self.scope
        if name in scope.global_names:
            self.scopes[0].summary.assigns.setdefault(name, []).append(value)
        else:
            scope.summary.assigns.setdefault(name, []).append(value)

    def _assign_target(self, target: ast.expr, value: ast.expr | None, encoded: Expr) -> None:
        if isinstance(target, ast.Name):
            self._bind(target.id, encoded)
        elif isinstance(target, ast.Tuple | ast.List):
            values = value.elts if isinstance(value, ast.Tuple | ast.List) else None
            for index, element in enumerate(target.elts):
                if values is not None and len(values) == len(target.elts):
                    self._assign_target(element, values[index], self.encode(values[index]))
                else:
                    self._assign_target(element, None, UNKNOWN)
        elif isinstance(target, ast.Starred):
            self._assign_target(target.value, None, UNKNOWN)
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            self.scope.summary.self_assigns.setdefault(target.attr, []).append(encoded)
        else:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "state"
            ):
                # `app.state.http = httpx.AsyncClient(...)`: read back as `request.app.state.http`.
                self.module.state_assigns.setdefault(target.attr, []).append(
                    (self.scope.summary.qualname, self.encode(target.value.value), encoded)
                )
            self.expr(target, USAGE_VALUE)

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.function(node, "")
        elif isinstance(node, ast.ClassDef):
            self.klass(node, "")
        elif isinstance(node, ast.Assign):
            single = len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            if single:
                target = node.targets[0]
                assert isinstance(target, ast.Name)
                self.expr(node.value, USAGE_ASSIGN, target=target.id)
            else:
                self.expr(node.value, USAGE_ELEMENT)
            encoded = self.encode(node.value)
            for target_node in node.targets:
                self._assign_target(target_node, node.value, encoded)
            if (
                len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "__all__"
                and self.scope.summary.is_module_body
                and isinstance(node.value, ast.List | ast.Tuple)
            ):
                self.module.exported = tuple(
                    e.value
                    for e in node.value.elts
                    if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )
        elif isinstance(node, ast.AnnAssign):
            annotation = encode_annotation(node.annotation, self.encode) or UNKNOWN
            if node.value is not None:
                name = node.target.id if isinstance(node.target, ast.Name) else ""
                self.expr(node.value, USAGE_ASSIGN if name else USAGE_ELEMENT, target=name)
            if isinstance(node.target, ast.Name):
                self._bind(node.target.id, ("ann", annotation))
                if node.value is not None:
                    self._bind(node.target.id, self.encode(node.value))
            elif (
                isinstance(node.target, ast.Attribute)
                and isinstance(node.target.value, ast.Name)
                and node.target.value.id == "self"
            ):
                values = self.scope.summary.self_assigns.setdefault(node.target.attr, [])
                values.append(("ann", annotation))
                if node.value is not None:
                    values.append(self.encode(node.value))
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, USAGE_VALUE)
            self.expr(node.target, USAGE_VALUE)
        elif isinstance(node, ast.Expr):
            self.expr(node.value, USAGE_STMT)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.expr(node.value, USAGE_RETURN)
                if len(self.scope.return_values) < _MAX_RETURN_VALUES:
                    self.scope.return_values.append(self.encode(node.value))
        elif isinstance(node, ast.With | ast.AsyncWith):
            is_async = isinstance(node, ast.AsyncWith)
            if is_async:
                self.scope.summary.has_await = True
            for item in node.items:
                self.expr(item.context_expr, USAGE_ASYNC_WITH if is_async else USAGE_WITH)
                if item.optional_vars is not None:
                    entered = ("enter", self.encode(item.context_expr))
                    self._assign_target(item.optional_vars, None, entered)
            self.body(node.body)
        elif isinstance(node, ast.For | ast.AsyncFor):
            is_async = isinstance(node, ast.AsyncFor)
            if is_async:
                self.scope.summary.has_await = True
            self.expr(node.iter, USAGE_ASYNC_FOR if is_async else USAGE_VALUE)
            self._assign_target(node.target, None, ("iter", self.encode(node.iter)))
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, ast.While):
            self.expr(node.test, USAGE_VALUE)
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, ast.If):
            if self.scope.summary.is_module_body and _is_main_guard(node.test):
                self.module.has_main_guard = True
            self.expr(node.test, USAGE_VALUE)
            self.body(node.body)
            self.body(node.orelse)
        elif isinstance(node, ast.Try | ast.TryStar):
            self.body(node.body)
            for handler in node.handlers:
                if handler.type is not None:
                    self.expr(handler.type, USAGE_VALUE)
                if handler.name:
                    self._bind(handler.name, UNKNOWN)
                self.body(handler.body)
            self.body(node.orelse)
            self.body(node.finalbody)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self._import(alias.asname, ImportBinding(alias.name, node.lineno, True))
                else:
                    top = alias.name.split(".")[0]
                    self._import(top, ImportBinding(top, node.lineno, True))
        elif isinstance(node, ast.ImportFrom):
            base = self._absolute(node.module, node.level)
            for alias in node.names:
                if alias.name == "*":
                    self.module.star_imports = (*self.module.star_imports, base)
                    continue
                dotted = f"{base}.{alias.name}" if base else alias.name
                self._import(alias.asname or alias.name, ImportBinding(dotted, node.lineno, False))
        elif isinstance(node, ast.Global | ast.Nonlocal):
            self.scope.global_names.update(node.names)
        elif isinstance(node, ast.Match):
            self.expr(node.subject, USAGE_VALUE)
            for case in node.cases:
                if case.guard is not None:
                    self.expr(case.guard, USAGE_VALUE)
                self.body(case.body)
        elif isinstance(node, ast.Raise):
            if node.exc is not None:
                self.expr(node.exc, USAGE_VALUE)
        elif isinstance(node, ast.Assert):
            self.expr(node.test, USAGE_VALUE)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self.expr(target, USAGE_VALUE)

    def _import(self, name: str, binding: ImportBinding) -> None:
        # Function-level imports bind in the function, but module-wide is a sound approximation
        # for resolution; a module-level binding of the same name wins.
        if self.scope.summary.is_module_body or name not in self.module.imports:
            self.module.imports[name] = binding

    def _absolute(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        parts = self.module.module.split(".") if self.module.module else []
        if not self.module.is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        if module:
            parts.append(module)
        return ".".join(parts)

    # -- expressions ----------------------------------------------------------------------------
    def expr(
        self, node: ast.expr, usage: str, target: str = "", arg_of: ast.expr | None = None
    ) -> None:
        kind = type(node)
        if kind is ast.Constant:
            return
        scope = self.scope
        if kind is ast.Name:
            if usage in _ESCAPING_USAGES:
                scope.escaped.add(node.id)  # type: ignore[attr-defined]
            return
        if kind in _OPERATOR_TYPES:
            # Operands of arithmetic, comparisons, boolean logic and f-strings are values.
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, USAGE_VALUE)
            return
        if isinstance(node, ast.Call):
            scope.summary.calls.append(
                CallSite(
                    call=self.encode(node),
                    line=node.lineno,
                    col=node.col_offset + 1,
                    end_line=node.end_lineno or node.lineno,
                    end_col=(node.end_col_offset or 0) + 1,
                    usage=usage,
                    target=target,
                    arg_of=self.encode(arg_of) if arg_of is not None else None,
                )
            )
            func = node.func
            if isinstance(func, ast.Attribute):
                self.expr(func.value, USAGE_RECEIVER)
            elif not isinstance(func, ast.Name):
                self.expr(func, USAGE_VALUE)
            handoff = callee_name(func) in HANDOFF_CALLEE_NAMES
            for argument in [*node.args, *(kw.value for kw in node.keywords)]:
                value = argument.value if isinstance(argument, ast.Starred) else argument
                if isinstance(value, ast.Lambda) and handoff:
                    self.lambda_function(value)
                elif isinstance(value, ast.Name):
                    scope.escaped.add(value.id)
                else:
                    self.expr(value, USAGE_ARG, arg_of=func)
        elif isinstance(node, ast.Await):
            scope.summary.has_await = True
            if isinstance(node.value, ast.Name):
                scope.escaped.add(node.value.id)
            self.expr(node.value, USAGE_AWAIT)
        elif isinstance(node, ast.Attribute):
            self.expr(node.value, USAGE_RECEIVER)
        elif isinstance(node, ast.Subscript):
            self.expr(node.value, USAGE_VALUE)
            self.expr(node.slice, USAGE_VALUE)
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            for element in node.elts:
                self.expr(element, USAGE_ELEMENT)
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if key is not None:
                    self.expr(key, USAGE_VALUE)
            for value in node.values:
                self.expr(value, USAGE_ELEMENT)
        elif isinstance(node, ast.Starred):
            self.expr(node.value, usage, target, arg_of)
        elif isinstance(node, ast.Lambda):
            # A lambda that is not handed off runs inline (sorted(key=...), callbacks): its calls
            # count as the enclosing function's.
            self.expr(node.body, USAGE_ELEMENT)
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for generator in node.generators:
                if generator.is_async:
                    scope.summary.has_await = True
                self.expr(generator.iter, USAGE_VALUE)
                for condition in generator.ifs:
                    self.expr(condition, USAGE_VALUE)
            if isinstance(node, ast.DictComp):
                self.expr(node.key, USAGE_VALUE)
                self.expr(node.value, USAGE_ELEMENT)
            else:
                self.expr(node.elt, USAGE_ELEMENT)
        elif isinstance(node, ast.Yield | ast.YieldFrom):
            scope.summary.has_yield = True
            if node.value is not None:
                self.expr(node.value, USAGE_YIELD)
                if len(scope.return_values) < _MAX_RETURN_VALUES:
                    scope.return_values.append(self.encode(node.value))
        elif isinstance(node, ast.NamedExpr):
            self.expr(node.value, USAGE_ASSIGN, target=node.target.id)
            self._bind(node.target.id, self.encode(node.value))
        elif isinstance(node, ast.IfExp):
            self.expr(node.test, USAGE_VALUE)
            self.expr(node.body, usage, target, arg_of)
            self.expr(node.orelse, usage, target, arg_of)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child, USAGE_VALUE)
                elif isinstance(child, ast.comprehension):
                    self.expr(child.iter, USAGE_VALUE)


def _params(args: ast.arguments, encode: Encoder) -> tuple[Param, ...]:
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults.extend(args.defaults)
    params = [
        Param(a.arg, encode_annotation(a.annotation, encode), encode(d) if d is not None else None)
        for a, d in zip(positional, defaults, strict=True)
    ]
    if args.vararg is not None:
        params.append(
            Param(
                args.vararg.arg, encode_annotation(args.vararg.annotation, encode), None, "vararg"
            )
        )
    for a, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        default = encode(kw_default) if kw_default is not None else None
        params.append(Param(a.arg, encode_annotation(a.annotation, encode), default, "kwonly"))
    if args.kwarg is not None:
        params.append(
            Param(args.kwarg.arg, encode_annotation(args.kwarg.annotation, encode), None, "kwarg")
        )
    return tuple(params)


def _is_stub(body: list[ast.stmt]) -> bool:
    for statement in body:
        if isinstance(statement, ast.Pass | ast.Raise):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        return False
    return True


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )


def summarize_module(
    tree: ast.Module, path: str, module: str, is_package: bool, lines: int
) -> ModuleSummary:
    """Walk a parsed module once and return its summary."""
    summary = ModuleSummary(path=path, module=module, is_package=is_package, lines=lines)
    extractor = _Extractor(summary)
    extractor.body(tree.body)
    extractor._finish(extractor.scopes[0])
    extract_facts(tree, summary)
    return summary
