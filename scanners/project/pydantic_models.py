"""The Pydantic models of a project, across modules, and how the routes use them.

Built once per scan (``pydantic_models(project)``, memoized on the project) from the
``pydantic_classes`` facts (``scanners.project.facts.pydantic``) and the resolver:

- which project classes are Pydantic models: a base chain (through imports, aliases and other
  project classes) reaching ``pydantic.*`` or ``sqlmodel.*`` (``SQLModel`` tables included: they
  are models and ORM classes at once); settings classes (``pydantic_settings``/``BaseSettings``)
  are not API models;
- each model's fields with inheritance (a subclass redefining a field hides the base's);
- request models: the type of a route parameter that is not a ``Depends(...)`` of a function
  (request body, ``Depends()`` / ``Query()`` query models), models a route validates its raw
  body with (``Event.model_validate(await request.json())``), classes named like input
  (``*In``, ``*Create``, ``*Update``, ``*Patch``, ``*Request``, ``*Input``) that
  no route returns, and the models nested in their fields;
- response models: ``response_model=`` of a route decorator (or ``add_api_route`` call) or,
  without it, the route's return annotation, and the models nested in their fields;
- ORM classes (SQLAlchemy declarative models, ``SQLModel`` with ``table=True``), whose
  instances a route may return as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scanners.project.facts.pydantic import ClassFact, FieldFact
from scanners.project.model import Project
from scanners.project.resolve import split_fid
from scanners.project.route_declarations import declaration_keywords
from scanners.project.summary import Expr, FunctionSummary, ModuleSummary

INPUT_SUFFIXES = ("In", "Create", "Update", "Patch", "Request", "Input")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_SETTINGS_PREFIXES = ("pydantic_settings.", "pydantic.BaseSettings", "pydantic.env_settings")


@dataclass(frozen=True, slots=True)
class ModelClass:
    cid: str  # "module:Qualname"
    path: str
    qualname: str
    line: int
    fields: tuple[FieldFact, ...]  # its own fields, in source order
    config_class_line: int
    v1_compat: bool = False  # built on `pydantic.v1` on purpose (the v2 compatibility layer)
    config_options: tuple[str, ...] = ()  # model_config / class Config option names


@dataclass(slots=True)
class RouteModels:
    """What one route handler does with models."""

    fid: str
    method: str
    def_line: int
    bodies: list[tuple[str, str]] = field(default_factory=list)  # (param name, model cid)
    responses: list[str] = field(default_factory=list)  # model cids it answers with
    declares_response_model: bool = False  # `response_model=` given (even None)
    response_model_is_none: bool = False  # `response_model=None`: the object is sent as it is
    # top-level field names `response_model_exclude=` drops / `response_model_include=` keeps
    excluded: frozenset[str] = frozenset()
    included: frozenset[str] | None = None

    def sends(self, field_name: str) -> bool:
        """Whether the route's response keeps the top-level field ``field_name``."""
        if field_name in self.excluded:
            return False
        return self.included is None or field_name in self.included


@dataclass(slots=True)
class PydanticModels:
    models: dict[str, ModelClass] = field(default_factory=dict)
    orm_classes: set[str] = field(default_factory=set)
    request_models: set[str] = field(default_factory=set)
    response_models: set[str] = field(default_factory=set)
    routes: dict[str, RouteModels] = field(default_factory=dict)  # handler fid -> uses
    _mro: dict[str, list[str]] = field(default_factory=dict)  # cid -> project classes, own first

    def is_model(self, cid: str) -> bool:
        return cid in self.models

    def lineage(self, cid: str) -> list[str]:
        """The class then its project base classes (breadth first)."""
        return self._mro.get(cid, [cid])

    def all_fields(self, cid: str) -> list[tuple[ModelClass, FieldFact]]:
        """Every field of the model, inherited ones included; a redefinition hides the base's."""
        seen: set[str] = set()
        found: list[tuple[ModelClass, FieldFact]] = []
        for owner_cid in self.lineage(cid):
            owner = self.models.get(owner_cid)
            if owner is None:
                continue
            for fact in owner.fields:
                if fact.name not in seen:
                    seen.add(fact.name)
                    found.append((owner, fact))
        return found


def _walk_names(expr: Expr | None) -> Iterator[Expr]:
    """Every name/attribute reference of an annotation, skipping call arguments (Field(...))."""
    if expr is None or not isinstance(expr, tuple) or not expr:
        return
    kind = expr[0]
    if kind in ("name", "attr"):
        yield expr
    elif kind == "sub":
        yield from _walk_names(expr[1])
        for item in expr[2]:
            yield from _walk_names(item)
    elif kind == "binop":
        yield from _walk_names(expr[2])
        yield from _walk_names(expr[3])
    elif kind == "seq":
        for item in expr[1]:
            yield from _walk_names(item)


def classes_in_annotation(
    project: Project, module: ModuleSummary, fs: FunctionSummary, annotation: Expr | None
) -> list[str]:
    """The project classes an annotation mentions: ``list[Out]``, ``Optional[In]``, ..."""
    found: list[str] = []
    for name in _walk_names(annotation):
        value = project.resolver.resolve(module, fs, name)
        if value is not None and value[0] == "class" and value[1] not in found:
            found.append(value[1])
    return found


def _is_function_dependency(default: Expr | None) -> bool:
    """`Depends(get_x)` (a provider function) as opposed to `Depends()` of the annotated class."""
    if default is None or default[0] != "call":
        return False
    func = default[1]
    name = func[1] if func[0] == "name" else func[2] if func[0] == "attr" else ""
    return name in ("Depends", "Security") and bool(default[2] or default[3])


def _is_annotated_dependency(annotation: Expr | None) -> bool:
    """`Annotated[User, Depends(get_current_user)]`: the value comes from a provider."""
    if annotation is None or annotation[0] != "sub":
        return False
    base = annotation[1]
    name = base[1] if base[0] == "name" else base[2] if base[0] == "attr" else ""
    return name == "Annotated" and any(_is_function_dependency(item) for item in annotation[2])


# Validating the raw request body with a model makes that model a request model.
_VALIDATORS = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw"})
_BODY_READS = frozenset({"json", "form", "body"})


def _reads_request_body(fs: FunctionSummary, expr: Expr, depth: int = 0) -> bool:
    """`await request.json()` (or a local assigned from it) where ``request`` is a parameter
    annotated ``Request``."""
    if depth > 4 or not isinstance(expr, tuple) or not expr:
        return False
    kind = expr[0]
    if kind == "await":
        return _reads_request_body(fs, expr[1], depth + 1)
    if kind == "name":
        param = fs.param(str(expr[1]))
        if param is not None:
            return False
        return any(
            _reads_request_body(fs, value, depth + 1) for value in fs.assigns.get(str(expr[1]), [])
        )
    if kind == "call" and expr[1][0] == "attr" and expr[1][2] in _BODY_READS:
        receiver = expr[1][1]
        if receiver[0] != "name":
            return False
        param = fs.param(str(receiver[1]))
        annotation = param.annotation if param is not None else None
        return (
            annotation is not None
            and annotation[0] in ("name", "attr")
            and (annotation[-1] == "Request")
        )
    return False


def _validated_bodies(project: Project, module: ModuleSummary, fs: FunctionSummary) -> list[str]:
    """Model classes a route validates its raw body with: `Event.model_validate(await
    request.json())`."""
    found: list[str] = []
    for site in fs.calls:
        func = site.func
        if func[0] != "attr" or func[2] not in _VALIDATORS or not site.args:
            continue
        if not _reads_request_body(fs, site.args[0]):
            continue
        value = project.resolver.resolve(module, fs, func[1])
        if value is not None and value[0] == "class":
            found.append(str(value[1]))
    return found


def _build(project: Project) -> PydanticModels:
    result = PydanticModels()
    resolver = project.resolver
    class_facts: dict[str, ClassFact] = {}
    for module_name, facts in project.facts("pydantic_classes").items():
        for qualname, fact in facts.items():
            class_facts[f"{module_name}:{qualname}"] = fact
    for module_name, module in project.modules.items():
        for qualname, cs in module.classes.items():
            cid = f"{module_name}:{qualname}"
            mro = resolver.mro(cid)
            externals = [value[1] for value in mro if value[0] == "ext"]
            project_classes = [value[1] for value in mro if value[0] == "class"]
            result._mro[cid] = project_classes
            table = any(k == "table" and v == ("const", True) for k, v in cs.keywords)
            tablename = any(
                "__tablename__" in found[1].attr_values
                for c in project_classes
                if (found := resolver.klass(c)) is not None
            )
            if tablename or table or any(e.startswith("sqlalchemy.") for e in externals):
                result.orm_classes.add(cid)
            if any(e.startswith(_SETTINGS_PREFIXES) for e in externals):
                continue
            if any(e.startswith(("pydantic.", "sqlmodel.")) for e in externals):
                fact = class_facts.get(cid)
                result.models[cid] = ModelClass(
                    cid=cid,
                    path=module.path,
                    qualname=qualname,
                    line=cs.line,
                    fields=fact.fields if fact is not None else (),
                    config_class_line=fact.config_class_line if fact is not None else 0,
                    v1_compat=any(e.startswith("pydantic.v1.") for e in externals),
                    config_options=fact.config_options if fact is not None else (),
                )
    _route_uses(project, result)
    named_inputs = {
        cid
        for cid, model in result.models.items()
        if model.qualname.rpartition(".")[2].endswith(INPUT_SUFFIXES)
        and cid not in result.response_models
    }
    result.request_models |= named_inputs
    result.request_models = with_nested(project, result, result.request_models)
    result.response_models = with_nested(project, result, result.response_models)
    return result


def _field_names(expr: Expr) -> frozenset[str] | None:
    """`{"a", "b"}` / `["a"]` / `{"a": True}` -> {"a", "b"}; None when not a literal."""
    if expr[0] == "seq":
        items: tuple[Expr, ...] = expr[1]
    elif expr[0] == "dict":
        items = expr[1]
    else:
        return None
    names = [item[1] for item in items if item[0] == "const" and isinstance(item[1], str)]
    return frozenset(names) if len(names) == len(items) else None


def _route_uses(project: Project, result: PydanticModels) -> None:
    for route in project.routes:
        info = project.function(route.handler)
        if info is None:
            continue
        module, fs = info.module, info.summary
        uses = result.routes.get(route.handler)
        if uses is None:
            uses = RouteModels(route.handler, route.method, fs.line)
            result.routes[route.handler] = uses
        for param in fs.params:
            if _is_function_dependency(param.default) or _is_annotated_dependency(param.annotation):
                continue
            for cid in classes_in_annotation(project, module, fs, param.annotation):
                if result.is_model(cid) and (param.name, cid) not in uses.bodies:
                    uses.bodies.append((param.name, cid))
                    result.request_models.add(cid)
        for cid in _validated_bodies(project, module, fs):
            if result.is_model(cid):
                result.request_models.add(cid)
        keywords = declaration_keywords(project, route)
        declared = keywords.get("response_model")
        if "response_model" in keywords:
            uses.declares_response_model = True
            uses.response_model_is_none = declared == ("const", None)
        if "response_model_exclude" in keywords:
            uses.excluded = frozenset(_field_names(keywords["response_model_exclude"]) or ())
        if "response_model_include" in keywords:
            uses.included = _field_names(keywords["response_model_include"])
        annotation = declared if uses.declares_response_model else fs.returns
        for cid in classes_in_annotation(project, module, fs, annotation):
            if result.is_model(cid) and cid not in uses.responses:
                uses.responses.append(cid)
                result.response_models.add(cid)


def with_nested(project: Project, result: PydanticModels, roots: set[str]) -> set[str]:
    """``roots`` plus every model reachable through field annotations (nested models)."""
    found = set(roots)
    stack = list(roots)
    while stack:
        cid = stack.pop()
        for owner, fact in result.all_fields(cid):
            module_name, _ = split_fid(owner.cid)
            module = project.modules.get(module_name)
            if module is None:
                continue
            for name in fact.type_names:
                value = project.resolver.resolve(module, module.body, ("name", name))
                if value is None or value[0] != "class" or value[1] not in result.models:
                    continue
                if value[1] not in found:
                    found.add(value[1])
                    stack.append(value[1])
    return found


def pydantic_models(project: Project) -> PydanticModels:
    """The project's Pydantic model (computed once per scan)."""
    return project.memo("pydantic_models", lambda: _build(project))


MANIFEST_NAMES = ("pyproject.toml", "setup.cfg", "setup.py", "Pipfile")
# pydantic itself as a requirement (not pydantic-settings, pydantic_core, pydantic.mypy ...).
_PYDANTIC_NAME = re.compile(r"""(?<![\w.-])pydantic(?:\[[^\]]*\])?(?![\w.-])""")
# `==1.10`, `~=1.10`, `^1.9`, `~1.10`, `<=1.10` or an upper bound `<2` / `<2.0`.
_V1_SPEC = re.compile(r"""(?:==|~=|\^|~|<=)\s*1(?:\.|\b)|<\s*2(?:\.0)*(?![\d.])""")


def _pins_v1(text: str) -> bool:
    """`pydantic==1.10`, `"pydantic>=1.8,<2.0"`, `pydantic = { version = "^1.9" }` ..."""
    for raw_line in text.splitlines():
        line = raw_line.partition("#")[0]
        for match in _PYDANTIC_NAME.finditer(line):
            spec = line[match.end() :]
            opening = line[match.start() - 1] if match.start() else ""
            if opening and opening in "\"'":
                spec = spec.partition(opening)[0]  # the quoted requirement string ends here
            if spec.lstrip()[:1] in ("=", "<", ">", "~", "^", "!", "{", '"', "'") and (
                _V1_SPEC.search(spec)
            ):
                return True
    return False


def pinned_to_pydantic_v1(root: Path) -> bool:
    """Whether the dependency files (at the root or one folder below) pin Pydantic 1.x."""
    candidates: list[Path] = []
    for folder in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        candidates += [folder / name for name in MANIFEST_NAMES]
        candidates += sorted(folder.glob("requirements*.txt"))
    for path in candidates:
        try:
            if path.is_file() and _pins_v1(path.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False
