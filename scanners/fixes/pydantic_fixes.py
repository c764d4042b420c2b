"""Fixers of PYD-V1-API (mechanical v2 rewrite), PYD-UNCONSTRAINED-STR and PYD-ANY-FIELD."""

from __future__ import annotations

import ast
import builtins

from scanners.fixes.edits import (
    Edit,
    LineIndex,
    apply_edits,
    enclosing_chain,
    from_import_edits,
    module_bindings,
    unused_once_replaced,
)
from scanners.fixes.registry import FixRequest, fixer

# v1 model method -> v2 name; their keyword arguments that v2 does not take.
_METHODS: dict[str, tuple[str, frozenset[str]]] = {
    "dict": ("model_dump", frozenset()),
    "json": ("model_dump_json", frozenset({"encoder", "models_as_dict"})),
    "parse_obj": ("model_validate", frozenset()),
    "parse_raw": ("model_validate_json", frozenset({"content_type", "encoding", "proto"})),
    "copy": ("model_copy", frozenset({"include", "exclude"})),
    "from_orm": ("model_validate", frozenset()),
    "construct": ("model_construct", frozenset()),
    "schema": ("model_json_schema", frozenset()),
    "update_forward_refs": ("model_rebuild", frozenset({"localns"})),
}
# Methods whose keyword arguments v1 and v2 share only in part: any keyword is unsafe.
_NO_KEYWORDS = frozenset({"parse_obj", "parse_raw", "from_orm", "update_forward_refs"})

# v1 Config attribute -> v2 ConfigDict key.
_CONFIG_RENAMES = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "min_anystr_length": "str_min_length",
    "max_anystr_length": "str_max_length",
    "schema_extra": "json_schema_extra",
    "validate_all": "validate_default",
    "keep_untouched": "ignored_types",
}
# v1 Config attributes v2 dropped without a one-to-one replacement.
_CONFIG_REMOVED = frozenset(
    {
        "fields",
        "smart_union",
        "underscore_attrs_are_private",
        "getter_dict",
        "copy_on_model_validation",
        "post_init_call",
        "error_msg_templates",
        "json_loads",
        "json_dumps",
    }
)


@fixer("PYD-V1-API")
def fix_pydantic_v1(request: FixRequest) -> str | None:
    """The v2 spelling of the v1 API at the finding's line."""
    line = request.finding.start_line
    index = LineIndex(request.source)
    chain = enclosing_chain(request.tree, line)
    for position, node in enumerate(chain):
        if isinstance(node, ast.ClassDef) and node.name == "Config" and position > 0:
            owner = chain[position - 1]
            if isinstance(owner, ast.ClassDef):
                return _fix_config(request, index, owner, node)
    functions = [n for n in chain if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if functions:
        for decorator in functions[-1].decorator_list:
            if decorator.lineno <= line <= (decorator.end_lineno or decorator.lineno):
                return _fix_validator(request, index, functions[-1], decorator)
    return _fix_config_keys(request, index) or _fix_method(request, index)


def _fix_config_keys(request: FixRequest, index: LineIndex) -> str | None:
    """v1 keys in a v2 config: ``ConfigDict(orm_mode=True)``, ``{"orm_mode": True}``."""
    statements = [
        n
        for n in enclosing_chain(request.tree, request.finding.start_line)
        if isinstance(n, ast.stmt)
    ]
    if not statements:
        return None
    edits: list[Edit] = []
    line = request.finding.start_line
    for node in ast.walk(statements[-1]):
        if not isinstance(node, ast.Call | ast.Assign | ast.AnnAssign) or not (
            node.lineno <= line <= (node.end_lineno or node.lineno)
        ):
            continue
        if isinstance(node, ast.Call) and index.text(node.func).endswith("ConfigDict"):
            for keyword in node.keywords:
                if keyword.arg in _CONFIG_RENAMES:
                    start = index.start(keyword)
                    end = start + len(keyword.arg)
                    edits.append(Edit(start, end, _CONFIG_RENAMES[keyword.arg]))
        elif (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(node.value, ast.Dict)
            and index.text(node).startswith("model_config")
        ):
            for key in node.value.keys:
                if isinstance(key, ast.Constant) and key.value in _CONFIG_RENAMES:
                    quote = index.text(key)[0]
                    renamed = f"{quote}{_CONFIG_RENAMES[key.value]}{quote}"
                    edits.append(Edit(index.start(key), index.end(key), renamed))
    if not edits:
        return None
    return apply_edits(request.source, edits)


def _fix_method(request: FixRequest, index: LineIndex) -> str | None:
    finding = request.finding
    statements = [
        n for n in enclosing_chain(request.tree, finding.start_line) if isinstance(n, ast.stmt)
    ]
    if not statements:
        return None
    # The innermost statement holds the whole call, even one spread over several lines.
    calls = [
        node
        for node in ast.walk(statements[-1])
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _METHODS
    ]
    candidates = [c for c in calls if c.func.end_lineno == finding.start_line]
    if not candidates:
        # `Model(\n...\n).json()`: the finding is where the whole expression starts.
        candidates = [c for c in calls if c.lineno == finding.start_line]
    if len(candidates) > 1:
        # Several v1-looking calls on the line: the one the finding's column points at.
        candidates = [c for c in candidates if c.col_offset + 1 == finding.start_col]
    if len(candidates) > 1 and finding.end_col > 0:
        # Chained calls start at one column (`Model.parse_obj(x).copy()`): the end tells them apart.
        candidates = [c for c in candidates if (c.end_col_offset or 0) + 1 == finding.end_col]
    if len(candidates) != 1:
        return None
    call = candidates[0]
    assert isinstance(call.func, ast.Attribute)
    method = call.func.attr
    new_name, unsupported = _METHODS[method]
    keywords = {k.arg for k in call.keywords}
    if None in keywords or keywords & unsupported or (keywords and method in _NO_KEYWORDS):
        return None
    end = index.end(call.func)
    edits = [Edit(end - len(method), end, new_name)]
    if method == "from_orm":
        if len(call.args) != 1:
            return None
        edits.append(
            Edit(index.end(call.args[0]), index.end(call.args[0]), ", from_attributes=True")
        )
    return apply_edits(request.source, edits)


def _fix_config(
    request: FixRequest, index: LineIndex, owner: ast.ClassDef, config: ast.ClassDef
) -> str | None:
    for statement in owner.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else []
        if isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        if any(isinstance(t, ast.Name) and t.id == "model_config" for t in targets):
            return None
    items: list[str] = []
    for statement in config.body:
        if isinstance(statement, ast.Pass) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
        ):
            continue
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            return None
        key = statement.targets[0].id
        value = index.text(statement.value)
        if key in _CONFIG_REMOVED:
            return None
        if key == "allow_mutation":
            if not isinstance(statement.value, ast.Constant) or not isinstance(
                statement.value.value, bool
            ):
                return None
            key, value = "frozen", str(not statement.value.value)
        items.append(f"{_CONFIG_RENAMES.get(key, key)}={value}")
    # Settings classes take pydantic-settings' SettingsConfigDict (env_file, env_prefix...).
    module, config_type = "pydantic", "ConfigDict"
    bindings = module_bindings(request.tree)
    for base in owner.bases:
        name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        if name == "BaseSettings":
            if not isinstance(base, ast.Name) or bindings.get(name) != (
                "pydantic_settings.BaseSettings"
            ):
                # v1's pydantic.BaseSettings moved to another package: not a mechanical edit.
                return None
            module, config_type = "pydantic_settings", "SettingsConfigDict"
    indent = index.indent_of(config.lineno)
    text = f"{indent}model_config = {config_type}({', '.join(items)})\n"
    if len(text) > 100 or "\n" in text[:-1]:
        body = "".join(f"{indent}    {item},\n" for item in items)
        text = f"{indent}model_config = {config_type}(\n{body}{indent})\n"
    imports = from_import_edits(request.tree, index, module, [config_type])
    if imports is None:
        return None
    start = index.line_start(min([config.lineno, *(d.lineno for d in config.decorator_list)]))
    end = index.line_start((config.end_lineno or config.lineno) + 1)
    return apply_edits(request.source, [*imports, Edit(start, end, text)])


def _decorator_name(decorator: ast.expr, bindings: dict[str, str]) -> str:
    """``validator`` / ``root_validator`` when ``decorator`` is pydantic's, else ``""``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        resolved = bindings.get(target.id, "")
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        resolved = f"{bindings.get(target.value.id, '')}.{target.attr}"
    else:
        return ""
    module, _, name = resolved.rpartition(".")
    if module in {"pydantic", "pydantic.v1"} and name in {"validator", "root_validator"}:
        return name
    return ""


def _fix_validator(
    request: FixRequest,
    index: LineIndex,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    decorator: ast.expr,
) -> str | None:
    bindings = module_bindings(request.tree)
    kind = _decorator_name(decorator, bindings)
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not kind or not isinstance(target, ast.Name):
        return None
    call_args = decorator.args if isinstance(decorator, ast.Call) else []
    keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
    new_keywords: list[str] = []
    mode = "before" if kind == "root_validator" else ""
    for keyword in keywords:
        flag = keyword.value.value if isinstance(keyword.value, ast.Constant) else None
        if keyword.arg == "pre" and isinstance(flag, bool):
            mode = "before" if flag else mode
        elif keyword.arg in {"allow_reuse", "skip_on_failure"}:
            continue
        elif keyword.arg == "check_fields" and kind == "validator":
            new_keywords.append(index.text(keyword))
        else:
            # always / each_item and the like have no v2 decorator argument.
            return None
    edits: list[Edit] = []
    if kind == "validator":
        new_name = "field_validator"
        if not call_args or any(isinstance(a, ast.Starred) for a in call_args):
            return None
        arguments = [index.text(a) for a in call_args]
        info = _values_to_info(request, index, function, edits)
        if info is None:
            return None
    else:
        new_name = "model_validator"
        arguments = []
        info = False
    if mode:
        new_keywords.append(f'mode="{mode}"')
    new_decorator = f"{new_name}({', '.join([*arguments, *new_keywords])})"
    edits.append(Edit(index.start(decorator), index.end(decorator), new_decorator))
    is_classmethod = any(
        isinstance(d, ast.Name) and d.id == "classmethod" for d in function.decorator_list
    )
    if not is_classmethod:
        after = index.line_start((decorator.end_lineno or decorator.lineno) + 1)
        if index.source[index.end(decorator) : after].strip():
            return None
        edits.append(Edit(after, after, f"{index.indent_of(decorator.lineno)}@classmethod\n"))
    # The v1 decorator's import goes when this was its last use.
    uses = sum(1 for n in ast.walk(request.tree) if isinstance(n, ast.Name) and n.id == target.id)
    remove = [kind] if uses == 1 and bindings.get(target.id) == f"pydantic.{kind}" else []
    added = [new_name, *(["ValidationInfo"] if info else [])]
    imports = from_import_edits(request.tree, index, "pydantic", added, remove)
    if imports is None:
        return None
    return apply_edits(request.source, [*imports, *edits])


def _values_to_info(
    request: FixRequest,
    index: LineIndex,
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    edits: list[Edit],
) -> bool | None:
    """v1 ``(cls, v, values)`` -> v2 ``(cls, v, info: ValidationInfo)`` with ``info.data``.

    Returns whether ``info`` is needed, ``None`` when the signature has no v2 equivalent.
    """
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    if arguments.vararg or arguments.kwarg or arguments.kwonlyargs or len(positional) < 2:
        return None
    extra = positional[2:]
    if not extra:
        return False
    if len(extra) != 1 or extra[0].arg != "values" or arguments.defaults:
        return None
    if any(isinstance(n, ast.Name) and n.id == "info" for n in ast.walk(function)) or any(
        isinstance(n, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef)
        for n in ast.walk(function)
        if n is not function
    ):
        return None
    values = extra[0]
    edits.append(Edit(index.start(values), index.end(values), "info: ValidationInfo"))
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and node.id == "values":
            if not isinstance(node.ctx, ast.Load):
                return None
            edits.append(Edit(index.start(node), index.end(node), "info.data"))
    return True


# Names a suggested type may use, and where they come from when the module lacks them.
_TYPE_SOURCES = {
    "Annotated": ("typing", "typing_extensions"),
    "Any": ("typing", "typing_extensions"),
    "Literal": ("typing", "typing_extensions"),
    "Optional": ("typing",),
    "Field": ("pydantic",),
    "StringConstraints": ("pydantic",),
    "EmailStr": ("pydantic",),
    "HttpUrl": ("pydantic",),
    "AnyUrl": ("pydantic",),
    "JsonValue": ("pydantic",),
    "constr": ("pydantic",),
    "conint": ("pydantic",),
    "conlist": ("pydantic",),
    "UUID": ("uuid",),
    "Decimal": ("decimal",),
    "datetime": ("datetime",),
    "date": ("datetime",),
}
_BUILTINS = frozenset(dir(builtins))


def _is_optional(annotation: ast.expr) -> bool:
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and node.value is None:
            return True
        if isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name == "Optional":
                return True
    return False


def _fix_field_type(request: FixRequest) -> str | None:
    suggested = request.finding.properties.get("suggested_type")
    if not isinstance(suggested, str) or not suggested.strip() or "\n" in suggested:
        return None
    try:
        suggested_tree = ast.parse(suggested.strip(), mode="eval")
    except SyntaxError:
        return None
    statements = [
        n
        for n in enclosing_chain(request.tree, request.finding.start_line)
        if isinstance(n, ast.stmt)
    ]
    if len(statements) < 2 or not isinstance(statements[-2], ast.ClassDef):
        return None
    field = statements[-1]
    if not (
        isinstance(field, ast.AnnAssign)
        and isinstance(field.target, ast.Name)
        and field.lineno == request.finding.start_line
    ):
        return None
    if _is_optional(field.annotation) and not _is_optional(suggested_tree.body):
        return None
    bindings = module_bindings(request.tree)
    wanted: list[tuple[str, str]] = []
    for node in ast.walk(suggested_tree):
        if not isinstance(node, ast.Name) or node.id in _BUILTINS:
            continue
        sources = _TYPE_SOURCES.get(node.id)
        bound = bindings.get(node.id)
        if bound is not None:
            if sources is not None and bound not in {f"{s}.{node.id}" for s in sources}:
                return None
            continue
        if sources is None:
            return None
        wanted.append((sources[0], node.id))
    index = LineIndex(request.source)
    annotation = field.annotation
    # Names only the old annotation used (`Any`, `Dict`) leave their `from typing import`.
    removed: list[tuple[str, str]] = []
    for name in unused_once_replaced(request.tree, request.source, annotation):
        module, _, imported = bindings[name].rpartition(".")
        if imported == name and module in {"typing", "typing_extensions"}:
            removed.append((module, name))
    edits: list[Edit] = []
    for module in dict.fromkeys(m for m, _ in [*wanted, *removed]):
        names = [n for m, n in wanted if m == module]
        drops = [n for m, n in removed if m == module]
        imports = from_import_edits(request.tree, index, module, names, drops)
        if imports is None:
            return None
        edits.extend(imports)
    edits.append(Edit(index.start(annotation), index.end(annotation), suggested.strip()))
    return apply_edits(request.source, edits)


@fixer("PYD-UNCONSTRAINED-STR")
def fix_unconstrained_str(request: FixRequest) -> str | None:
    """The field's annotation becomes the finding's ``properties["suggested_type"]``."""
    return _fix_field_type(request)


@fixer("PYD-ANY-FIELD")
def fix_any_field(request: FixRequest) -> str | None:
    """The field's annotation becomes the finding's ``properties["suggested_type"]``."""
    return _fix_field_type(request)
