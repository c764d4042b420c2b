"""Fixers of ASYNC-BLOCKING-SLEEP and ASYNC-DEPRECATED-ON-EVENT."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from scanners.fixes.edits import (
    Edit,
    LineIndex,
    apply_edits,
    drop_module_import,
    enclosing_chain,
    from_import_edits,
    import_edits,
    module_bindings,
    unused_once_replaced,
)
from scanners.fixes.registry import FixRequest, fixer

_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _own_statements(function: ast.AsyncFunctionDef) -> Iterator[ast.stmt]:
    """Statements that run in ``function`` itself, not in nested functions or classes."""
    pending: list[ast.stmt] = list(function.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield statement
        for child in ast.iter_child_nodes(statement):
            if isinstance(child, ast.stmt):
                pending.append(child)
            elif isinstance(child, ast.ExceptHandler | ast.match_case):
                pending.extend(child.body)


def _is_time_sleep(call: ast.Call, bindings: dict[str, str]) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr == "sleep" and bindings.get(func.value.id) == "time"
    return isinstance(func, ast.Name) and bindings.get(func.id) == "time.sleep"


@fixer("ASYNC-BLOCKING-SLEEP")
def fix_blocking_sleep(request: FixRequest) -> str | None:
    """``time.sleep(x)`` as a statement of an ``async def`` -> ``await asyncio.sleep(x)``."""
    line = request.finding.start_line
    functions = [n for n in enclosing_chain(request.tree, line) if isinstance(n, _FUNCTION_NODES)]
    if not functions or not isinstance(functions[-1], ast.AsyncFunctionDef):
        return None
    bindings = module_bindings(request.tree)
    calls = [
        statement.value
        for statement in _own_statements(functions[-1])
        if isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and statement.value.lineno == line
        and _is_time_sleep(statement.value, bindings)
    ]
    if len(calls) != 1:
        return None
    index = LineIndex(request.source)
    asyncio_name = next((name for name, bound in bindings.items() if bound == "asyncio"), "")
    edits = [] if asyncio_name else import_edits(request.tree, index, [("asyncio", "")])
    if edits is None:
        return None
    call = calls[0]
    edits.append(
        Edit(
            index.start(call.func), index.end(call.func), f"await {asyncio_name or 'asyncio'}.sleep"
        )
    )
    # The import of `time` / `sleep` goes when this call was its only use.
    for name in unused_once_replaced(request.tree, request.source, call.func):
        if bindings.get(name) == "time":
            edits.extend(drop_module_import(request.tree, index, name))
        elif bindings.get(name) == "time.sleep":
            removal = from_import_edits(request.tree, index, "time", [], [name])
            edits.extend(removal or [])
    return apply_edits(request.source, edits)


@dataclass(frozen=True)
class _Handler:
    event: str  # "startup" / "shutdown"
    call: str  # the statement(s) that run it inside the lifespan, without indentation
    removal: tuple[int, int]  # character span to delete (whole lines)
    line: int


def _whole_lines(index: LineIndex, first: int, last: int, node: ast.AST) -> tuple[int, int] | None:
    """The span of lines ``first..last`` when ``node`` is alone on them (comments aside)."""
    assert isinstance(node, ast.expr | ast.stmt)
    before = index.source[index.line_start(first) : index.start(node)]
    after = index.source[index.end(node) : index.line_start(last + 1)]
    if before.strip() not in {"", "@"} or (after.strip() and not after.strip().startswith("#")):
        return None
    return index.line_start(first), index.line_start(last + 1)


def _event_name(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and node.value in {"startup", "shutdown"}:
        return str(node.value)
    return ""


def _handlers(
    body: list[ast.stmt], app: str, index: LineIndex, local_defs: dict[str, bool]
) -> list[_Handler] | None:
    """Every on_event / add_event_handler registration on ``app`` in ``body``; ``None`` when one
    cannot be moved into a lifespan."""
    handlers: list[_Handler] = []
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in statement.decorator_list:
                if not (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "on_event"
                    and isinstance(decorator.func.value, ast.Name)
                    and decorator.func.value.id == app
                ):
                    continue
                event = _event_name(decorator.args[0]) if len(decorator.args) == 1 else ""
                span = _whole_lines(index, decorator.lineno, decorator.end_lineno or 0, decorator)
                if not event or decorator.keywords or span is None:
                    return None
                is_async = isinstance(statement, ast.AsyncFunctionDef)
                call = f"{'await ' if is_async else ''}{statement.name}()"
                handlers.append(_Handler(event, call, span, decorator.lineno))
        elif (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Attribute)
            and statement.value.func.attr == "add_event_handler"
            and isinstance(statement.value.func.value, ast.Name)
            and statement.value.func.value.id == app
        ):
            registration = statement.value
            if len(registration.args) != 2 or registration.keywords:
                return None
            event = _event_name(registration.args[0])
            span = _whole_lines(index, statement.lineno, statement.end_lineno or 0, statement)
            if not event or span is None:
                return None
            target = registration.args[1]
            target_text = index.text(target)
            if "\n" in target_text:
                return None
            if isinstance(target, ast.Name) and target.id in local_defs:
                call = f"{'await ' if local_defs[target.id] else ''}{target_text}()"
            else:
                # Unknown callable: run it the way Starlette runs event handlers.
                call = (
                    f"result = {target_text}()\nif inspect.isawaitable(result):\n    await result"
                )
            handlers.append(_Handler(event, call, span, statement.lineno))
    return handlers


def _bodies(tree: ast.Module) -> Iterator[list[ast.stmt]]:
    yield tree.body
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.body


def _fastapi_assignment(
    body: list[ast.stmt], bindings: dict[str, str]
) -> Iterator[tuple[str, ast.Assign, ast.Call]]:
    for statement in body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
        ):
            continue
        func = statement.value.func
        resolved = ""
        if isinstance(func, ast.Name):
            resolved = bindings.get(func.id, "")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            resolved = f"{bindings.get(func.value.id, '')}.{func.attr}"
        if resolved == "fastapi.FastAPI":
            yield statement.targets[0].id, statement, statement.value


@fixer("ASYNC-DEPRECATED-ON-EVENT")
def fix_deprecated_on_event(request: FixRequest) -> str | None:
    """Move every startup/shutdown handler of the app into a ``lifespan`` context manager.

    All handlers of the app move at once: Starlette ignores the old hooks once a lifespan is
    set. Only when the ``FastAPI(...)`` call is in the same file and body as the registrations,
    and no other file of the scan registers handlers the lifespan would silently disable.
    """
    if any(f.path != request.finding.path for f in request.everywhere):
        # Handlers registered in other modules (routers, plugins) would be ignored too.
        return None
    tree = request.tree
    if any(isinstance(n, ast.Name) and n.id == "lifespan" for n in ast.walk(tree)):
        return None
    if any(
        isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "lifespan"
        for n in ast.walk(tree)
    ):
        return None
    bindings = module_bindings(tree)
    index = LineIndex(request.source)
    line = request.finding.start_line
    for body in _bodies(tree):
        for app, assignment, call in _fastapi_assignment(body, bindings):
            local_defs = {
                s.name: isinstance(s, ast.AsyncFunctionDef)
                for s in body
                if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            handlers = _handlers(body, app, index, local_defs)
            if not handlers or all(h.line != line for h in handlers):
                continue
            if any(k.arg in {None, "lifespan"} for k in call.keywords):
                return None
            return _lifespan_fix(
                request,
                index=index,
                bindings=bindings,
                assignment=assignment,
                call=call,
                handlers=handlers,
            )
    return None


def _lifespan_fix(
    request: FixRequest,
    *,
    index: LineIndex,
    bindings: dict[str, str],
    assignment: ast.Assign,
    call: ast.Call,
    handlers: list[_Handler],
) -> str | None:
    wanted = [("contextlib", "asynccontextmanager")]
    iterator_bound = bindings.get("AsyncIterator") in {
        "typing.AsyncIterator",
        "collections.abc.AsyncIterator",
    }
    if not iterator_bound:
        wanted.append(("collections.abc", "AsyncIterator"))
    if any("inspect.isawaitable" in h.call for h in handlers):
        wanted.append(("inspect", ""))
    edits = import_edits(request.tree, index, wanted)
    if edits is None:
        return None
    indent = index.indent_of(assignment.lineno)
    body_lines: list[str] = []
    for event in ("startup", None, "shutdown"):
        if event is None:
            body_lines.append("yield")
            continue
        for handler in handlers:
            if handler.event == event:
                body_lines.extend(handler.call.splitlines())
    app_type = index.text(call.func)
    function = [
        "@asynccontextmanager",
        f"async def lifespan(app: {app_type}) -> AsyncIterator[None]:",
        *(f"    {text}" for text in body_lines),
    ]
    # PEP 8 spacing: two blank lines around a top-level def, one around a nested one.
    blank = 1 if indent else 2
    text = "".join(f"{indent}{line}\n" for line in function) + "\n" * blank
    start = index.line_start(assignment.lineno)
    blank_before = 0
    while (
        blank_before < assignment.lineno - 1
        and not index.line_text(assignment.lineno - 1 - blank_before).strip()
    ):
        blank_before += 1
    if not indent and blank_before < assignment.lineno - 1:
        text = "\n" * max(0, blank - blank_before) + text
    edits.append(Edit(start, start, text))
    if call.args or call.keywords:
        last = max([*call.args, *(k.value for k in call.keywords)], key=index.end)
        tail = index.source[index.end(last) : index.end(call) - 1]
        comma = tail.find(",")
        if "\n" in tail and comma >= 0 and "#" not in tail[:comma]:
            # One argument per line with a trailing comma: one more such line.
            at = index.end(last) + comma + 1
            argument_indent = index.indent_of(last.lineno)
            edits.append(Edit(at, at, f"\n{argument_indent}lifespan=lifespan,"))
        else:
            edits.append(Edit(index.end(last), index.end(last), ", lifespan=lifespan"))
    else:
        closing = index.end(call) - 1
        edits.append(Edit(closing, closing, "lifespan=lifespan"))
    edits.extend(Edit(h.removal[0], h.removal[1], "") for h in handlers)
    fixed = apply_edits(request.source, edits)
    if fixed is not None and fixed.endswith("\n\n") and not request.source.endswith("\n\n"):
        # A registration removed from the end of the file leaves its blank lines behind.
        fixed = fixed.rstrip("\n") + "\n"
    return fixed
