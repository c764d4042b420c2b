"""Detectors of loose request/response model fields: PYD-ANY-FIELD, PYD-UNCONSTRAINED-STR,
PYD-LOOSE-OPTIONAL."""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanners.detectors.contracts.common import field_finding
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.facts.pydantic import FieldFact, FunctionUses
from scanners.project.model import Project
from scanners.project.pydantic_models import (
    INPUT_SUFFIXES,
    ModelClass,
    PydanticModels,
    classes_in_annotation,
    pydantic_models,
)
from scanners.project.summary import Expr

DEFAULT_MAX_LENGTH = 255
LONG_TEXT_MAX_LENGTH = 10_000
LONG_TEXT_NAMES = re.compile(r"(^|_)(body|text|content|description|notes?|message|comment|bio)$")
# Names whose values have a known shape: a pattern is a better bound than a length alone.
NAME_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|_)e?mail(_address)?$"), r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    (re.compile(r"(^|_)slug$"), r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
    (re.compile(r"(^|_)sku$"), r"^[A-Z0-9][A-Z0-9-]*$"),
    (re.compile(r"(^|_)(phone|phone_number)$"), r"^\+?[0-9 ()-]{7,20}$"),
)
_MODEL_SUFFIXES = (*INPUT_SUFFIXES, "Out", "Base", "Data", "Schema", "Response", "Public")
# What a loose field can safely become without knowing more: `pydantic.JsonValue` accepts
# exactly the JSON a request can carry, and documents the shape in the OpenAPI schema.
MAPPING_SUGGESTION = "dict[str, JsonValue]"
SEQUENCE_SUGGESTION = "list[JsonValue]"


def suggested_loose_type(loose: str, optional: bool) -> str:
    """The drop-in annotation for a loose field (`Any`, bare `dict`, `list[Any]`, ...)."""
    if loose in ("Any", "object"):
        return "JsonValue"  # already admits None
    outer = loose.partition("[")[0].lower()
    suggestion = MAPPING_SUGGESTION if outer in ("dict", "mapping") else SEQUENCE_SUGGESTION
    return f"{suggestion} | None" if optional else suggestion


def _entity_name(qualname: str) -> str:
    name = qualname.rpartition(".")[2]
    for suffix in _MODEL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _string_length(expr: Expr | None) -> int | None:
    """``n`` of a ``String(n)``/``VARCHAR(n)`` anywhere in a column declaration."""
    if not isinstance(expr, tuple) or not expr:
        return None
    if expr[0] == "call":
        func = expr[1]
        name = func[1] if func[0] == "name" else func[2] if func[0] == "attr" else ""
        if name in ("String", "VARCHAR", "Unicode", "CHAR") and expr[2]:
            first = expr[2][0]
            if first[0] == "const" and isinstance(first[1], int) and not isinstance(first[1], bool):
                return int(first[1])
        for item in (*expr[2], *(value for _key, value in expr[3])):
            found = _string_length(item)
            if found is not None:
                return found
    return None


def column_length(
    project: Project, models: PydanticModels, owner: ModelClass, field: str
) -> int | None:
    """The length of the ``String(n)`` column ``field`` of the ORM class named like the model."""
    entity = _entity_name(owner.qualname)
    for cid in sorted(models.orm_classes):
        if cid.rpartition(":")[2].rpartition(".")[2] != entity:
            continue
        found = project.resolver.klass(cid)
        if found is not None and field in found[1].attr_values:
            length = _string_length(found[1].attr_values[field])
            if length is not None:
                return length
    return None


def suggested_string_type(
    project: Project, models: PydanticModels, owner: ModelClass, fact: FieldFact
) -> dict[str, object]:
    """The drop-in bounded annotation a fixer writes for an unbounded ``str`` field."""
    length = column_length(project, models, owner, fact.name)
    source = "column" if length is not None else "default"
    if length is None:
        long_text = LONG_TEXT_NAMES.search(fact.name)
        length = LONG_TEXT_MAX_LENGTH if long_text else DEFAULT_MAX_LENGTH
    arguments = []
    required = not fact.optional and not fact.default
    if required:
        arguments.append("min_length=1")
    arguments.append(f"max_length={length}")
    pattern = next((p for regex, p in NAME_PATTERNS if regex.search(fact.name)), "")
    if pattern:
        arguments.append(f'pattern=r"{pattern}"')
    suggested = f"Annotated[str, Field({', '.join(arguments)})]"
    if fact.optional:
        suggested += " | None"
    properties: dict[str, object] = {
        "suggested_type": suggested,
        "max_length": length,
        "max_length_source": source,
        "field": fact.name,
        "model": owner.qualname,
    }
    if pattern:
        properties["pattern"] = pattern
    return properties


def _api_models(models: PydanticModels) -> set[str]:
    return models.request_models | models.response_models


@detector("pydantic-any-field", "PYD-ANY-FIELD")
def any_field(project: Project) -> Iterator[Finding]:
    """A request or response model field typed `Any`, a bare `dict`/`list`, or `dict[str, Any]`.

    ## What it does
    Finds fields of Pydantic models that routes take as input (body, `Depends()`/`Query()`
    models, classes named like `*In`/`*Create`/`*Update`, models a route validates its raw body
    with) or answer with (`response_model=`, return annotation), nested models included, whose
    type is `Any` (or `object`), a bare `dict`/`Dict`, `dict[str, Any]`, a bare `list`/`List`,
    `list[Any]` or a list of such loose items (`List[Dict[str, Any]]`). Inherited fields are
    reported once, where they are declared.

    ## Why is this bad?
    Such a field accepts or returns anything: no validation of input, an OpenAPI schema that
    tells clients nothing, and internal data that can leak through a response unnoticed.

    ## Example
    ```python
    class OrderOut(BaseModel):
        extra: dict = {}
    ```

    ## Use instead
    ```python
    class OrderExtra(BaseModel):
        gift_wrap: bool = False

    class OrderOut(BaseModel):
        extra: OrderExtra = OrderExtra()
    ```
    """
    models = pydantic_models(project)
    reported: set[tuple[str, int]] = set()
    for cid in sorted(_api_models(models)):
        for owner, fact in models.all_fields(cid):
            if not fact.loose or (owner.path, fact.line) in reported:
                continue
            reported.add((owner.path, fact.line))
            kind = "request" if cid in models.request_models else "response"
            finding = field_finding(
                project,
                owner,
                fact,
                rule_id="pydantic-any-field",
                category_id="PYD-ANY-FIELD",
                message=(
                    f"`{owner.qualname}.{fact.name}: {fact.annotation}` in a {kind} model accepts "
                    "any value; declare a nested model or a precise type"
                ),
            )
            if finding is not None:
                finding.properties.update(
                    {
                        "suggested_type": suggested_loose_type(fact.loose, fact.optional),
                        # a safe drop-in; a nested model written by hand is better
                        "suggested_type_confidence": "medium",
                        "field": fact.name,
                        "model": owner.qualname,
                    }
                )
                yield finding


@detector("pydantic-unconstrained-str", "PYD-UNCONSTRAINED-STR")
def unconstrained_str(project: Project) -> Iterator[Finding]:
    """A request model `str` field with no `max_length` or `pattern`.

    ## What it does
    Finds `str` fields (also `Optional[str]`) of models a route takes as input, nested models
    and inherited fields included, with neither a `max_length` nor a `pattern` (from
    `Field(...)`, `Annotated[str, Field(...)]`, `StringConstraints`, `constr`); shaped types such
    as `EmailStr` and `HttpUrl` are bounded. Response models are not reported. The finding's
    `suggested_type` property holds a drop-in bounded annotation (the length of the `String(n)`
    column of the ORM class named like the model when there is one).

    ## Why is this bad?
    An unbounded string lets any client send megabytes into your validation, database and logs:
    memory and storage abuse, slow queries, and columns that fail on insert with a 500.

    ## Example
    ```python
    class NoteCreate(BaseModel):
        body: str
    ```

    ## Use instead
    ```python
    class NoteCreate(BaseModel):
        body: Annotated[str, Field(min_length=1, max_length=10_000)]
    ```
    """
    models = pydantic_models(project)
    reported: set[tuple[str, int]] = set()
    for cid in sorted(models.request_models):
        for owner, fact in models.all_fields(cid):
            if not fact.is_str or fact.bounded or (owner.path, fact.line) in reported:
                continue
            reported.add((owner.path, fact.line))
            properties = suggested_string_type(project, models, owner, fact)
            finding = field_finding(
                project,
                owner,
                fact,
                rule_id="pydantic-unconstrained-str",
                category_id="PYD-UNCONSTRAINED-STR",
                message=(
                    f"request field `{owner.qualname}.{fact.name}: {fact.annotation}` has no "
                    f"max_length or pattern; use `{properties['suggested_type']}`"
                ),
            )
            if finding is not None:
                finding.properties.update(properties)
                yield finding


def _model_params(
    project: Project, models: PydanticModels
) -> Iterator[tuple[str, str, str, FunctionUses]]:
    """(function fid, parameter name, request model cid, the function's attribute uses)."""
    uses_by_module = project.facts("attribute_uses")
    for info in project.functions():
        if info.summary.is_module_body or project.is_offloop(info):
            continue
        uses = uses_by_module.get(info.module.module, {}).get(info.summary.qualname)
        if uses is None or not uses.derefs:
            continue
        for param in info.summary.params:
            for cid in classes_in_annotation(project, info.module, info.summary, param.annotation):
                if cid in models.request_models:
                    yield info.fid, param.name, cid, uses


@detector("pydantic-loose-optional", "PYD-LOOSE-OPTIONAL")
def loose_optional(project: Project) -> Iterator[Finding]:
    """An Optional request model field dereferenced without a `None` check.

    ## What it does
    Finds `Optional[X]` / `X | None` fields of request models that a function taking the model
    as a typed parameter dereferences (`payload.field.method()`, `payload.field.attr`,
    `payload.field[...]`, also through a local `value = payload.field`) with no `None` check
    of that field anywhere in the function (`is None`, `is not None`, `if payload.field`,
    `payload.field or ...`). Reported on the field declaration, once.

    ## Why is this bad?
    Clients may omit the field; the route then fails with `AttributeError: 'NoneType' ...`,
    a 500 instead of a validation error, for a request the schema says is valid.

    ## Example
    ```python
    class EpisodeIn(BaseModel):
        publish_at: Optional[datetime] = None

    @router.post("/episodes")
    async def schedule(payload: EpisodeIn):
        when = payload.publish_at.astimezone()
    ```

    ## Use instead
    ```python
    class EpisodeIn(BaseModel):
        publish_at: datetime  # required, or check `payload.publish_at is not None`
    ```
    """
    models = pydantic_models(project)
    reported: set[tuple[str, int]] = set()
    for fid, param_name, cid, uses in _model_params(project, models):
        fields = {fact.name: (owner, fact) for owner, fact in models.all_fields(cid)}
        for var, field_name, line in uses.derefs:
            if var != param_name or field_name not in fields:
                continue
            owner, fact = fields[field_name]
            if not fact.optional or (var, field_name) in uses.guarded:
                continue
            if (owner.path, fact.line) in reported:
                continue
            reported.add((owner.path, fact.line))
            function = fid.rpartition(":")[2]
            user = project.function(fid)
            where = f"{user.path}:{line}" if user is not None else f"line {line}"
            finding = field_finding(
                project,
                owner,
                fact,
                rule_id="pydantic-loose-optional",
                category_id="PYD-LOOSE-OPTIONAL",
                message=(
                    f"`{owner.qualname}.{fact.name}` is optional but `{function}` dereferences "
                    f"`{var}.{field_name}` ({where}) without a None check; make it required "
                    "or handle None"
                ),
            )
            if finding is not None:
                finding.properties.update({"used_in": fid, "used_at_line": line})
                yield finding
