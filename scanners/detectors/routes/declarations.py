"""How each route is declared: the keyword arguments of its decorator or ``add_api_route`` call."""

from __future__ import annotations

from scanners.project.model import FunctionInfo, Project
from scanners.project.summary import Expr

DICT_TYPES = frozenset({"dict", "typing.Dict", "typing.Mapping", "collections.abc.Mapping"})
ANY_TYPES = frozenset({"typing.Any", "object"})
RESPONSE_TYPE_SUFFIXES = ("Response",)  # Response, JSONResponse, StreamingResponse, ...


def type_name(project: Project, info: FunctionInfo, expr: Expr | None) -> str:
    """The dotted name a type expression refers to (``"dict"``, ``"typing.Any"``,
    ``"app.schemas:Item"``), "" when unknown; subscripts give their base."""
    if expr is None:
        return ""
    if expr[0] == "sub":
        return type_name(project, info, expr[1])
    if expr[0] == "const" and isinstance(expr[1], str):
        return expr[1]
    if expr[0] == "name" and expr[1] in ("dict", "object", "list"):
        return str(expr[1])
    value = project.resolve(info, expr)
    if value is None:
        return ""
    if value[0] in ("ext", "class"):
        return str(value[1])
    return ""


def is_loose_mapping(
    project: Project, info: FunctionInfo, expr: Expr | None, *, with_any: bool = True
) -> bool:
    """``dict``, ``Dict[str, Any]``, ``Mapping`` (and ``Any`` when ``with_any``): no schema for
    the data."""
    name = type_name(project, info, expr)
    if name in ANY_TYPES:
        return with_any
    if name not in DICT_TYPES:
        return False
    # `dict[str, Item]` documents its values; `dict[str, Any]` and bare `dict` do not.
    if expr is not None and expr[0] == "sub":
        items: tuple[Expr, ...] = expr[2]
        return len(items) < 2 or type_name(project, info, items[-1]) in ANY_TYPES
    return True


def unwrap_annotated(project: Project, info: FunctionInfo, expr: Expr | None) -> Expr | None:
    """``Annotated[T, ...]`` -> ``T``; anything else unchanged."""
    if (
        expr is not None
        and expr[0] == "sub"
        and expr[2]
        and type_name(project, info, expr[1]).endswith("Annotated")
    ):
        inner: Expr = expr[2][0]
        return inner
    return expr


def is_response_type(project: Project, info: FunctionInfo, expr: Expr | None) -> bool:
    """A Starlette/FastAPI ``Response`` class (or a subclass named like one)."""
    name = type_name(project, info, expr)
    return bool(name) and name.rsplit(".", 1)[-1].rsplit(":", 1)[-1].endswith(
        RESPONSE_TYPE_SUFFIXES
    )


def _is_false(expr: Expr | None) -> bool:
    return expr is not None and expr[0] == "const" and expr[1] is False


def _hides_schema(keywords: dict[str, Expr]) -> bool:
    """Constructor keywords that take the routes out of the OpenAPI schema or make them return
    something other than JSON by default (HTML pages, plain text)."""
    openapi_url = keywords.get("openapi_url")
    response_class = keywords.get("default_response_class")
    return (
        _is_false(keywords.get("include_in_schema"))
        or (openapi_url is not None and openapi_url == ("const", None))
        or (response_class is not None and not _names_json_response(response_class))
    )


def _names_json_response(expr: Expr) -> bool:
    """``JSONResponse``, ``ORJSONResponse``, ``fastapi.responses.UJSONResponse``..."""
    name = expr[1] if expr[0] == "name" else expr[2] if expr[0] == "attr" else ""
    return isinstance(name, str) and name.endswith("JSONResponse")


def schemaless_routers(project: Project) -> set[str]:
    """Origins of apps/routers whose routes are out of the schema (``include_in_schema=False``,
    ``openapi_url=None``) or answer with a custom ``default_response_class``, on every path
    they are served under."""

    def compute() -> set[str]:
        own: set[str] = set()
        hidden_includes: set[tuple[str, str]] = set()  # (parent, child)
        for info in project.functions():
            calls = zip(info.summary.calls, project.resolved_calls(info), strict=True)
            for site, callee in calls:
                if not site.kwargs:
                    continue  # every marker this looks for is a keyword argument
                keywords = {key: value for key, value in site.kwargs if key is not None}
                if site.usage == "assign" and site.target and callee is not None:
                    if callee[0] in ("ext", "class") and project.fastapi.framework_kind(
                        str(callee[1])
                    ):
                        scope = "" if info.summary.is_module_body else info.summary.qualname + "."
                        if _hides_schema(keywords):
                            own.add(f"{info.module.module}:{scope}{site.target}")
                    continue
                if site.func[0] != "attr" or site.func[2] != "include_router" or not site.args:
                    continue
                if not _is_false(keywords.get("include_in_schema")):
                    continue
                parent = project.resolve(info, site.func[1])
                child = project.resolve(info, site.args[0])
                if parent and child and parent[0] == "inst" and child[0] == "inst":
                    hidden_includes.add((str(parent[2]), str(child[2])))
        hidden: dict[str, bool] = {}

        def is_hidden(origin: str, active: frozenset[str]) -> bool:
            if origin in hidden:
                return hidden[origin]
            if origin in own:
                return True
            router = project.fastapi.routers.get(origin)
            if router is None or router.is_app or not router.included_in or origin in active:
                return False  # a mounted sub-application serves its own schema
            result = all(
                (parent, origin) in hidden_includes or is_hidden(parent, active | {origin})
                for parent, _prefix, _deps in router.included_in
            )
            hidden[origin] = result
            return result

        return {origin for origin in project.fastapi.routers if is_hidden(origin, frozenset())}

    return project.memo("routes.schemaless_routers", compute)
