"""Detectors of what routes answer with: API-RESPONSE-LEAK, API-SHARED-IN-OUT-MODEL."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.contracts.common import field_finding, is_sensitive
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.pydantic_models import (
    WRITE_METHODS,
    PydanticModels,
    RouteModels,
    classes_in_annotation,
    pydantic_models,
    with_nested,
)
from scanners.project.summary import Expr

# Pydantic serializes these masked.
MASKED_TYPES = frozenset({"SecretStr", "SecretBytes"})
# Calls that load or build ORM rows of the class given as first argument.
_ORM_LOADERS = frozenset({"select", "get", "query", "get_one", "scalars", "exec"})


def _names_in(expr: Expr | None) -> set[str]:
    """Every bare name an encoded expression mentions (`Mapped[float]` -> Mapped, float)."""
    if not isinstance(expr, tuple) or not expr:
        return set()
    if expr[0] == "name":
        return {str(expr[1])}
    found: set[str] = set()
    for item in expr[1:]:
        if isinstance(item, tuple):
            if item and isinstance(item[0], str):
                found |= _names_in(item)
            else:
                for sub in item:
                    found |= _names_in(sub) if isinstance(sub, tuple) else set()
    return found


def _sensitive_columns(project: Project, models: PydanticModels, cid: str) -> list[str]:
    """Sensitive attribute names the ORM class and its project bases declare."""
    names: list[str] = []
    for owner in models.lineage(cid):
        found = project.resolver.klass(owner)
        if found is None:
            continue
        cs = found[1]
        for name in (*cs.attr_annotations, *cs.attr_values):
            if name in names or name.startswith("_"):
                continue
            types = _names_in(cs.attr_annotations.get(name)) | _names_in(cs.attr_values.get(name))
            if is_sensitive(name, types):
                names.append(name)
    return names


def _callee_name(func: Expr) -> str:
    if func[0] == "name":
        return str(func[1])
    if func[0] == "attr":
        return str(func[2])
    return ""


def _orm_classes_in(
    project: Project, info: FunctionInfo, models: PydanticModels, expr: Expr, depth: int = 0
) -> list[str]:
    """ORM classes a value expression builds or loads: `Account(...)`, `session.get(Account, i)`,
    `(await s.scalars(select(Account)...)).first()`."""
    if depth > 8 or not isinstance(expr, tuple) or not expr:
        return []
    kind = expr[0]
    found: list[str] = []
    if kind == "call":
        func: Expr = expr[1]
        target = project.resolve(info, func)
        if target is not None and target[0] == "class" and target[1] in models.orm_classes:
            found.append(target[1])
        elif _callee_name(func) in _ORM_LOADERS and expr[2]:
            first = project.resolve(info, expr[2][0])
            if first is not None and first[0] == "class" and first[1] in models.orm_classes:
                found.append(first[1])
        if func[0] == "attr":
            found += _orm_classes_in(project, info, models, func[1], depth + 1)
        for arg in expr[2]:
            if arg[0] == "call":
                found += _orm_classes_in(project, info, models, arg, depth + 1)
    elif kind in ("await", "enter") or kind == "attr":
        found += _orm_classes_in(project, info, models, expr[1], depth + 1)
    return found


def _returned_orm_class(
    project: Project, info: FunctionInfo, models: PydanticModels, name: str
) -> str | None:
    """The ORM class of the local variable or parameter ``name``, when it is certain."""
    param = info.summary.param(name)
    candidates: list[str] = []
    if param is not None:
        candidates = [
            cid
            for cid in classes_in_annotation(project, info.module, info.summary, param.annotation)
            if cid in models.orm_classes
        ]
    for value in info.summary.assigns.get(name, []):
        candidates += _orm_classes_in(project, info, models, value)
    if not candidates:
        # what the resolver infers: a project function's return annotation, `with` targets ...
        inferred = project.resolve(info, ("name", name))
        if inferred is not None and inferred[0] == "inst" and inferred[1] in models.orm_classes:
            candidates.append(str(inferred[1]))
    unique = set(candidates)
    return candidates[0] if len(unique) == 1 else None


def _dotted_expr(dotted: str) -> Expr:
    """`models.User` -> the encoded attribute expression."""
    parts = dotted.split(".")
    expr: Expr = ("name", parts[0])
    for part in parts[1:]:
        expr = ("attr", expr, part)
    return expr


def _orm_class_returned_by(
    project: Project, info: FunctionInfo, models: PydanticModels, dotted: str
) -> str | None:
    """The ORM class a project function returns per its annotation (`-> User | None`,
    `-> list[User]`), when there is exactly one."""
    value = project.resolve(info, _dotted_expr(dotted))
    if value is None or value[0] != "func":
        return None
    callee = project.function(str(value[1]))
    if callee is None or callee.summary.returns is None:
        return None
    found = {
        cid
        for cid in classes_in_annotation(
            project, callee.module, callee.summary, callee.summary.returns
        )
        if cid in models.orm_classes
    }
    return found.pop() if len(found) == 1 else None


def _orm_return_leaks(
    project: Project, models: PydanticModels, uses: RouteModels
) -> Iterator[Finding]:
    """`return row` of an ORM object by a route that declares no response model."""
    if uses.responses or (uses.declares_response_model and not uses.response_model_is_none):
        return
    info = project.function(uses.fid)
    if info is None:
        return
    facts = project.facts("attribute_uses").get(info.module.module, {})
    function_uses = facts.get(info.summary.qualname)
    if function_uses is None:
        return
    returned: list[tuple[str, str, int]] = []
    for name, line in function_uses.returns:
        cid = _returned_orm_class(project, info, models, name)
        if cid is not None:
            returned.append((f"the ORM object `{name}`", cid, line))
    for dotted, line in function_uses.returned_rows:
        value = project.resolve(info, _dotted_expr(dotted))
        if value is not None and value[0] == "class" and value[1] in models.orm_classes:
            returned.append((f"`{dotted}` rows straight from a query", str(value[1]), line))
    for dotted, line in function_uses.returned_calls:
        cid = _orm_class_returned_by(project, info, models, dotted)
        if cid is not None:
            returned.append((f"what `{dotted}(...)` returns", cid, line))
    for name, cid, line in returned:
        sensitive = _sensitive_columns(project, models, cid)
        if not sensitive:
            continue
        entity = cid.rpartition(":")[2]
        yield make_finding(
            project,
            info,
            rule_id="api-response-leak",
            category_id="API-RESPONSE-LEAK",
            line=line,
            message=(
                f"`{info.summary.name}` returns {name} ({entity}) with no "
                f"response_model: {', '.join(sensitive)} "
                f"{'reach' if len(sensitive) > 1 else 'reaches'} the client; declare a "
                f"`{entity}Out` schema without them"
            ),
            reach=project.reach_labels(info.fid),
        )


@detector("api-response-leak", "API-RESPONSE-LEAK")
def response_leak(project: Project) -> Iterator[Finding]:
    """A response exposes passwords, secrets, tokens, API keys or internal fields.

    ## What it does
    Finds fields named `password`, `hashed_password`, `*_secret`, `*_token`, `api_key`,
    `internal_*` (and similar) in a model a route answers with (`response_model=`, or the return
    annotation when there is none; nested and inherited fields included), reported on the field
    declaration; and routes with no response model that `return` an ORM object (a parameter,
    a constructor call or a `select`/`get` of the ORM class, or such a query returned
    directly: `return session.scalars(select(User)).all()`, or a project function annotated to
    return the ORM class: `return await crud.get_user(db, i)`) whose class has such a column,
    reported on the `return`. Fields declared with `Field(exclude=True)` or typed `SecretStr`
    are not serialized in clear, nor are fields every route answering with the model drops
    (`response_model_exclude=` / `response_model_include=`): none is reported. Credentials
    issued to the client (`access_token`, `refresh_token`, `id_token`, `*session_token`,
    `csrf_token`, `client_secret`, push tokens) are meant to be returned, and pagination
    cursors (`next_page_token`) are no credentials: neither is reported.

    ## Why is this bad?
    Every client of the endpoint receives the credential: password hashes can be cracked offline,
    tokens and keys give access to other accounts or services. FastAPI serializes everything the
    response model (or, without one, the object) holds.

    ## Example
    ```python
    @router.get("/me")
    async def read_me(user: User = Depends(get_current_user)):
        return user
    ```

    ## Use instead
    ```python
    class UserOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int
        email: str

    @router.get("/me", response_model=UserOut)
    async def read_me(user: User = Depends(get_current_user)):
        return user
    ```
    """
    models = pydantic_models(project)
    reported: set[tuple[str, int]] = set()
    # routes answering with each model directly (response_model_exclude/include apply there)
    answering: dict[str, list[RouteModels]] = {}
    for uses in models.routes.values():
        for cid in uses.responses:
            answering.setdefault(cid, []).append(uses)
    nested: set[str] = set()
    for root in answering:
        nested |= with_nested(project, models, {root}) - {root}
    for cid in sorted(models.response_models):
        routes = answering.get(cid, []) if cid not in nested else []
        for owner, fact in models.all_fields(cid):
            if not is_sensitive(fact.name, fact.type_names) or (owner.path, fact.line) in reported:
                continue
            if "exclude" in fact.field_keywords or MASKED_TYPES.intersection(fact.type_names):
                continue  # never serialized, or serialized as "**********"
            if routes and not any(uses.sends(fact.name) for uses in routes):
                continue  # every route answering with it drops the field
            reported.add((owner.path, fact.line))
            model = cid.rpartition(":")[2]
            finding = field_finding(
                project,
                owner,
                fact,
                rule_id="api-response-leak",
                category_id="API-RESPONSE-LEAK",
                message=(
                    f"`{fact.name}` of `{owner.qualname}` is sent to clients by routes answering "
                    f"with `{model}`; remove it from the response schema (a separate `*Out` model)"
                ),
            )
            if finding is not None:
                finding.properties.update({"field": fact.name, "response_model": model})
                yield finding
    for fid in sorted(models.routes):
        info = project.function(fid)
        if info is not None and not project.is_offloop(info):
            yield from _orm_return_leaks(project, models, models.routes[fid])


@detector("api-shared-in-out-model", "API-SHARED-IN-OUT-MODEL")
def shared_in_out_model(project: Project) -> Iterator[Finding]:
    """A create/update route takes and answers with the same model.

    ## What it does
    Finds `POST`/`PUT`/`PATCH` routes whose request body model is also their response model
    (`response_model=`, or the return annotation when there is none). Reported on the `def`.

    ## Why is this bad?
    Input and output have different fields: server-set values (`id`, timestamps, status) become
    client-writable (mass assignment), and input-only fields (passwords) are echoed back. One
    shared model also couples the API's input and output contracts forever.

    ## Example
    ```python
    @router.post("/notebooks", response_model=Notebook)
    def create_notebook(payload: Notebook): ...
    ```

    ## Use instead
    ```python
    @router.post("/notebooks", response_model=NotebookOut)
    def create_notebook(payload: NotebookIn): ...
    ```
    """
    models = pydantic_models(project)
    for fid in sorted(models.routes):
        uses = models.routes[fid]
        if uses.method not in WRITE_METHODS:
            continue
        shared = [cid for _name, cid in uses.bodies if cid in uses.responses]
        info = project.function(fid)
        if not shared or info is None or project.is_offloop(info):
            continue
        model = shared[0].rpartition(":")[2]
        finding = make_finding(
            project,
            info,
            rule_id="api-shared-in-out-model",
            category_id="API-SHARED-IN-OUT-MODEL",
            line=uses.def_line,
            message=(
                f"`{info.summary.name}` ({uses.method}) takes `{model}` as its body and answers "
                f"with it; split it into `{model}In` and `{model}Out`"
            ),
            reach=project.reach_labels(fid),
        )
        finding.properties.update({"model": model})
        yield finding
