"""Compact, picklable facts about one module: what the per-file pass returns to the global pass.

Expressions are encoded as small nested tuples (``Expr``) so that summaries cross process
boundaries cheaply and no AST has to stay alive after its file has been summarized:

- ``("name", id)`` -- a bare name
- ``("attr", base, attr)`` -- ``base.attr``
- ``("call", func, args, kwargs)`` -- ``func(*args, **kwargs)``; ``args`` is a tuple of Expr,
  ``kwargs`` a tuple of ``(keyword or None for **, Expr)``
- ``("sub", base, items)`` -- ``base[items...]``
- ``("const", value)`` -- str, bytes, int, float, bool or None
- ``("binop", op, left, right)`` -- ``op`` is the operator text (``"/"``, ``"|"``, ``"+"``...)
- ``("await", value)`` -- ``await value``
- ``("enter", value)`` -- what ``with value as x`` binds to ``x``
- ``("seq", items)`` -- a list/tuple/set display; ``("dict", keys, values)`` -- a dict display
- ``("comp",)`` -- a comprehension; ``("fstring",)`` -- an f-string; ``("lambda", qualname)``
- ``("?",)`` -- anything else (or nested too deep)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Expr = tuple[Any, ...]
UNKNOWN: Expr = ("?",)

# How a call's result is used where it is written.
USAGE_AWAIT = "await"  # `await f()`
USAGE_STMT = "stmt"  # `f()` as a statement: result dropped
USAGE_ASSIGN = "assign"  # `x = f()` (target in CallSite.target)
USAGE_RETURN = "return"  # `return f()`
USAGE_YIELD = "yield"  # `yield f()`
USAGE_ARG = "arg"  # argument of another call (callee in CallSite.arg_of)
USAGE_WITH = "with"  # `with f() as x`
USAGE_ASYNC_WITH = "async_with"  # `async with f() as x`
USAGE_ASYNC_FOR = "async_for"  # `async for x in f()`
USAGE_RECEIVER = "receiver"  # `f().attr`
USAGE_ELEMENT = "element"  # inside a list/tuple/set/dict display, or stored on an attribute
USAGE_VALUE = "value"  # anything else: a condition, an f-string, an operand...


@dataclass(frozen=True, slots=True)
class CallSite:
    """One call expression inside a function (or at module level)."""

    call: Expr  # ("call", func, args, kwargs)
    line: int
    col: int  # 1-based
    end_line: int
    end_col: int
    usage: str
    target: str = ""  # variable name for USAGE_ASSIGN
    arg_of: Expr | None = None  # callee of the enclosing call for USAGE_ARG

    @property
    def func(self) -> Expr:
        func: Expr = self.call[1]
        return func

    @property
    def args(self) -> tuple[Expr, ...]:
        args: tuple[Expr, ...] = self.call[2]
        return args

    @property
    def kwargs(self) -> tuple[tuple[str | None, Expr], ...]:
        kwargs: tuple[tuple[str | None, Expr], ...] = self.call[3]
        return kwargs

    def keyword(self, name: str) -> Expr | None:
        for key, value in self.kwargs:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    annotation: Expr | None
    default: Expr | None
    kind: str = "positional"  # positional, vararg, kwonly, kwarg


@dataclass(slots=True)
class FunctionSummary:
    """A function, method, lambda, or the module body itself (qualname ``<module>``)."""

    qualname: str  # within the module: "f", "Cls.method", "f.inner", "f.<lambda>:12"
    name: str
    is_async: bool
    line: int  # the `def` line (decorators are above it)
    end_line: int
    class_qualname: str = ""  # the class this is a method of, "" otherwise
    parent: str = ""  # qualname of the enclosing function, "" at module level
    decorators: tuple[Expr, ...] = ()
    decorator_lines: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    returns: Expr | None = None
    calls: list[CallSite] = field(default_factory=list)
    assigns: dict[str, list[Expr]] = field(default_factory=dict)  # local name -> values
    self_assigns: dict[str, list[Expr]] = field(default_factory=dict)  # self.X -> values
    global_names: frozenset[str] = frozenset()
    escaped_names: frozenset[str] = frozenset()  # names awaited, passed on, returned, stored
    has_await: bool = False  # await, async for, async with, async comprehension
    has_yield: bool = False
    is_stub: bool = False  # body is only a docstring, pass, ... or raise
    return_values: tuple[Expr, ...] = ()  # up to a few returned or yielded expressions
    local_defs: frozenset[str] = frozenset()  # names of functions/classes defined inside

    @property
    def is_module_body(self) -> bool:
        return self.qualname == MODULE_BODY

    def param(self, name: str) -> Param | None:
        for param in self.params:
            if param.name == name:
                return param
        return None


MODULE_BODY = "<module>"


@dataclass(slots=True)
class ClassSummary:
    qualname: str
    name: str
    line: int
    end_line: int
    bases: tuple[Expr, ...] = ()
    decorators: tuple[Expr, ...] = ()
    keywords: tuple[tuple[str | None, Expr], ...] = ()  # class Foo(Base, metaclass=...)
    attr_annotations: dict[str, Expr] = field(default_factory=dict)  # class-level `x: T`
    attr_values: dict[str, Expr] = field(default_factory=dict)  # class-level `x = v`
    attr_lines: dict[str, int] = field(default_factory=dict)
    methods: tuple[str, ...] = ()  # method names


@dataclass(frozen=True, slots=True)
class ImportBinding:
    """``import a.b as x`` binds x -> "a.b"; ``from .m import y as z`` binds z -> "<pkg>.m.y"."""

    target: str  # absolute dotted target (relative imports already made absolute)
    line: int
    is_module: bool  # `import x` form (the target is a module)


@dataclass(slots=True)
class ModuleSummary:
    path: str  # posix, relative to the scanned root
    module: str  # dotted module name
    is_package: bool  # an __init__.py
    lines: int
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    star_imports: tuple[str, ...] = ()
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    exported: tuple[str, ...] | None = None  # __all__ when it is a literal
    has_main_guard: bool = False  # `if __name__ == "__main__":`
    # `<receiver>.state.<name> = <value>`: name -> (function qualname, receiver, value).
    state_assigns: dict[str, list[tuple[str, Expr, Expr]]] = field(default_factory=dict)
    # What ``scanners.project.facts`` extractors found: kind -> picklable value.
    facts: dict[str, Any] = field(default_factory=dict)
    facts_errors: dict[str, str] = field(default_factory=dict)  # kind -> why it failed

    @property
    def body(self) -> FunctionSummary:
        return self.functions[MODULE_BODY]
