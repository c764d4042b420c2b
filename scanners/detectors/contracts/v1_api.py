"""Detector of Pydantic v1 methods called on values the project model knows are models."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_call_finding, make_finding
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.pydantic_models import (
    PydanticModels,
    pinned_to_pydantic_v1,
    pydantic_models,
)
from scanners.project.summary import Expr

# v1 instance method -> its v2 name.
V1_INSTANCE_METHODS = {"json": "model_dump_json", "dict": "model_dump", "copy": "model_copy"}
# v1 class method -> its v2 name.
V1_CLASS_METHODS = {
    "parse_obj": "model_validate",
    "parse_raw": "model_validate_json",
    "from_orm": "model_validate",
    "construct": "model_construct",
    "update_forward_refs": "model_rebuild",
    "schema_json": "model_json_schema",
    "schema": "model_json_schema",
}
# Methods that return another instance of the receiver's model.
_MODEL_RETURNING = frozenset({"copy", "model_copy", "model_validate", "model_validate_json"})
_V1_KEYWORDS = frozenset(
    {
        "include",
        "exclude",
        "update",
        "deep",
        "by_alias",
        "exclude_unset",
        "exclude_defaults",
        "exclude_none",
        "indent",
    }
)


def _is_test_path(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    return any(part in ("tests", "test") for part in parts[:-1])


def _model_class(project: Project, info: FunctionInfo, models: PydanticModels, expr: Expr) -> str:
    value = project.resolve(info, expr)
    if value is not None and value[0] == "class" and value[1] in models.models:
        return str(value[1])
    return ""


def model_of(
    project: Project, info: FunctionInfo, models: PydanticModels, expr: Expr, depth: int = 0
) -> str:
    """The model class of the instance ``expr`` evaluates to, "" when unknown."""
    if depth > 4:
        return ""
    value = project.resolve(info, expr)
    if value is not None and value[0] == "inst" and value[1] in models.models:
        return str(value[1])
    if expr[0] == "call":
        func = expr[1]
        cid = _model_class(project, info, models, func)
        if cid:
            return cid  # Model(...)
        if func[0] == "attr" and func[2] in _MODEL_RETURNING:
            # other.copy(...) / Model.model_validate(...)
            return _model_class(project, info, models, func[1]) or model_of(
                project, info, models, func[1], depth + 1
            )
    if expr[0] == "name" and info.summary.param(str(expr[1])) is None:
        found = {
            model_of(project, info, models, assigned, depth + 1)
            for assigned in info.summary.assigns.get(str(expr[1]), [])
        }
        if len(found) == 1:
            return found.pop()
    return ""


@detector("pydantic-v1-method-on-model", "PYD-V1-API")
def v1_method_on_model(project: Project) -> Iterator[Finding]:
    """A Pydantic v1 method called on a model instance or class.

    ## What it does
    Finds `.json()`, `.dict()` and `.copy()` (with no positional arguments) called on a value the
    project model knows is a Pydantic model instance -- a parameter or variable typed with a
    model, a `Model(...)`, `Model.model_validate(...)` or `other.copy(...)` result -- and
    `parse_obj`, `parse_raw`, `from_orm`, `construct`, ... called on a model class. Receivers of
    unknown type (`response.json()` of httpx/requests, `request.json()`) are never reported, nor
    are tests, nor code bases whose dependency files pin Pydantic 1.x (there it is the API).

    ## Why is this bad?
    These methods are deprecated in Pydantic v2: they warn on every call, are slower than their
    `model_*` replacements, behave differently in corner cases and disappear in the next major
    version.

    ## Example
    ```python
    cleaned = meta.copy(update={"title": meta.title.strip()})
    await http.post(url, data=cleaned.json())
    ```

    ## Use instead
    ```python
    cleaned = meta.model_copy(update={"title": meta.title.strip()})
    await http.post(url, data=cleaned.model_dump_json())
    ```
    """
    models = pydantic_models(project)
    if not models.models or pinned_to_pydantic_v1(project.root):
        return
    reported: set[tuple[str, int]] = set()
    for info in project.functions():
        if _is_test_path(info.path):
            continue
        for site in info.summary.calls:
            func = site.func
            if func[0] != "attr":
                continue
            method = str(func[2])
            receiver: Expr = func[1]
            if method in V1_INSTANCE_METHODS:
                if site.args or any(k not in _V1_KEYWORDS for k, _v in site.kwargs):
                    continue
                cid = model_of(project, info, models, receiver)
                replacement = V1_INSTANCE_METHODS[method]
            elif method in V1_CLASS_METHODS:
                cid = _model_class(project, info, models, receiver)
                replacement = V1_CLASS_METHODS[method]
            else:
                continue
            if not cid or (info.path, site.line) in reported:
                continue
            reported.add((info.path, site.line))
            model = cid.rpartition(":")[2]
            finding = make_call_finding(
                project,
                info,
                site,
                rule_id="pydantic-v1-method-on-model",
                category_id="PYD-V1-API",
                message=(
                    f"`.{method}()` on the Pydantic model `{model}` is v1 API; "
                    f"use `.{replacement}()`"
                ),
            )
            finding.properties.update({"v1_method": method, "replacement": replacement})
            yield finding


V1_VALIDATORS = {"validator": "field_validator", "root_validator": "model_validator"}


def _v1_validator(project: Project, info: FunctionInfo, decorator: Expr) -> str:
    """ "validator"/"root_validator" when the decorator is Pydantic's v1 one, else ""."""
    target = decorator[1] if decorator[0] == "call" else decorator
    value = project.resolve(info, target)
    if value is None or value[0] != "ext":
        return ""
    dotted = str(value[1])
    name = dotted.rpartition(".")[2]
    if name in V1_VALIDATORS and dotted.startswith("pydantic.") and ".v1." not in dotted:
        return name
    return ""


@detector("pydantic-v1-model-declaration", "PYD-V1-API")
def v1_model_declaration(project: Project) -> Iterator[Finding]:
    """`class Config:` or a v1 `@validator`/`@root_validator` in a Pydantic model.

    ## What it does
    Finds, in project classes whose bases reach `pydantic.BaseModel` (through imports and other
    project classes), an inner `class Config:` and methods decorated with Pydantic's
    `@validator` / `@root_validator`. Models built on the `pydantic.v1` compatibility layer on
    purpose, tests and code bases whose dependency files pin Pydantic 1.x are not reported.

    ## Why is this bad?
    Pydantic v2 only keeps these for backwards compatibility: `class Config` options are
    renamed (`orm_mode` is `from_attributes`) and silently ignored when misspelled, and v1
    validators are deprecated, slower, and removed in the next major version.

    ## Example
    ```python
    class NoteOut(BaseModel):
        class Config:
            orm_mode = True
    ```

    ## Use instead
    ```python
    class NoteOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
    ```
    """
    models = pydantic_models(project)
    if not models.models or pinned_to_pydantic_v1(project.root):
        return
    for cid in sorted(models.models):
        model = models.models[cid]
        if model.v1_compat or _is_test_path(model.path):
            continue
        module_name = cid.partition(":")[0]
        body = project.function(f"{module_name}:<module>")
        if body is None:
            continue
        if model.config_class_line:
            finding = make_finding(
                project,
                body,
                rule_id="pydantic-v1-model-declaration",
                category_id="PYD-V1-API",
                line=model.config_class_line,
                message=(
                    f"`class Config:` in `{model.qualname}` is Pydantic v1 configuration; use "
                    "`model_config = ConfigDict(...)` (`orm_mode` is `from_attributes`)"
                ),
            )
            finding.enclosing = model.qualname
            yield finding
        found = project.resolver.klass(cid)
        if found is None:
            continue
        for method in found[1].methods:
            info = project.function(f"{module_name}:{model.qualname}.{method}")
            if info is None:
                continue
            decorators = zip(info.summary.decorators, info.summary.decorator_lines, strict=False)
            for decorator, line in decorators:
                name = _v1_validator(project, info, decorator)
                if not name:
                    continue
                yield make_finding(
                    project,
                    info,
                    rule_id="pydantic-v1-model-declaration",
                    category_id="PYD-V1-API",
                    line=line,
                    message=(
                        f"`@{name}` on `{model.qualname}.{method}` is Pydantic v1 API; use "
                        f"`@{V1_VALIDATORS[name]}` with `@classmethod`"
                    ),
                )
