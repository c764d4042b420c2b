"""The project's SQLAlchemy / SQLModel declarative models: tables, columns and their indexes.

A class is a mapped model when it (or a project base class) declares ``__tablename__`` or
``__table__``, or is declared ``class X(SQLModel, table=True)``. Its columns are the class-level
attributes (its own and those of project bases and mixins) declared with ``mapped_column(...)``,
``Column(...)``, SQLModel's ``Field(...)`` or a bare ``Mapped[...]`` annotation; relationships,
association proxies and ``ClassVar`` are not columns.

A column is indexed when it is a primary key, ``unique=True`` or ``index=True`` (also through an
``Annotated[..., mapped_column(...)]`` alias and SQLModel's ``sa_column=Column(...)``), or named
in an ``Index``/``UniqueConstraint``/``PrimaryKeyConstraint`` of ``__table_args__``, in a
module-level ``Index("ix", Model.column)``, or in an Alembic ``op.create_index(...)`` /
``op.create_unique_constraint(...)`` on the model's table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from scanners.project.model import Project, is_offloop_path
from scanners.project.summary import MODULE_BODY, ClassSummary, Expr, ModuleSummary

COLUMN_FACTORIES = frozenset({"mapped_column", "Column", "Field", "column_property"})
NOT_COLUMNS = frozenset(
    {"relationship", "relation", "association_proxy", "synonym", "Relationship", "backref"}
)
INDEX_KEYWORDS = ("primary_key", "unique", "index")
TABLE_INDEXES = frozenset({"Index", "UniqueConstraint", "PrimaryKeyConstraint"})
MIGRATION_INDEXES = frozenset({"create_index", "create_unique_constraint", "create_primary_key"})


@dataclass
class Column:
    name: str
    path: str
    line: int
    owner: str  # the class that declares it ("module:Qualname"), maybe a mixin
    indexed: bool


@dataclass
class OrmModel:
    cid: str
    name: str
    table: str
    columns: dict[str, Column] = field(default_factory=dict)


def orm_models(project: Project) -> dict[str, OrmModel]:
    """Mapped model classes by class id (``"module:Qualname"``)."""
    return project.memo("orm-models", lambda: _build(project))


def _build(project: Project) -> dict[str, OrmModel]:
    resolver = project.resolver
    classes: dict[str, tuple[ModuleSummary, ClassSummary]] = {
        f"{module.module}:{qualname}": (module, cls)
        for module in project.modules.values()
        for qualname, cls in module.classes.items()
    }
    migration_indexes = _migration_indexes(project)
    models: dict[str, OrmModel] = {}
    for cid, (module, cls) in classes.items():
        if is_migration_module(module):
            continue  # models frozen inside a revision, or test models
        lineage = [
            entry[1] for entry in resolver.mro(cid) if entry[0] == "class" and entry[1] in classes
        ]
        if not _is_mapped(cls, [classes[c][1] for c in lineage]):
            continue
        table = _table_name(cls)
        model = OrmModel(cid, cls.name, table)
        table_indexed = _table_args_columns(cls) | migration_indexes.get(table, set())
        # Nearest declaration wins (the MRO lists the class first, then its bases).
        for owner in reversed(lineage):
            owner_module, owner_cls = classes[owner]
            for name, column in _declared_columns(project, owner_module, owner_cls, owner):
                model.columns[name] = column
        for name, column in model.columns.items():
            if name in table_indexed:
                column.indexed = True
        models[cid] = model
    for module in project.modules.values():
        for target, column_name in _module_level_indexes(module):
            value = resolver.resolve(module, module.body, target)
            if value is not None and value[0] == "class" and value[1] in models:
                found = models[value[1]].columns.get(column_name)
                if found is not None:
                    found.indexed = True
    return models


def _is_mapped(cls: ClassSummary, lineage: list[ClassSummary]) -> bool:
    if any(k == "table" and v == ("const", True) for k, v in cls.keywords):
        return True
    if "__abstract__" in cls.attr_values and cls.attr_values["__abstract__"] == ("const", True):
        return False
    return any("__tablename__" in c.attr_values or "__table__" in c.attr_values for c in lineage)


def _table_name(cls: ClassSummary) -> str:
    value = cls.attr_values.get("__tablename__")
    if value is not None and value[0] == "const" and isinstance(value[1], str):
        return value[1]
    return cls.name.lower()


def _callee_name(expr: Expr | None) -> str:
    if expr is None or expr[0] != "call":
        return ""
    func = expr[1]
    if func[0] == "name":
        return str(func[1])
    if func[0] == "attr":
        return str(func[2])
    return ""


def _flag(call: Expr) -> bool:
    """``primary_key=True`` / ``unique=True`` / ``index=True`` on a column call."""
    return any(key in INDEX_KEYWORDS and value == ("const", True) for key, value in call[3])


def _declared_columns(
    project: Project, module: ModuleSummary, cls: ClassSummary, owner: str
) -> Iterator[tuple[str, Column]]:
    names = set(cls.attr_annotations) | set(cls.attr_values)
    for name in sorted(names):
        if name.startswith("__"):
            continue
        value = cls.attr_values.get(name)
        annotation = cls.attr_annotations.get(name)
        callee = _callee_name(value)
        if callee in NOT_COLUMNS or _is_classvar(annotation):
            continue
        indexed = False
        if callee in COLUMN_FACTORIES and value is not None:
            indexed = _flag(value) or any(
                key == "sa_column" and _callee_name(inner) == "Column" and _flag(inner)
                for key, inner in value[3]
            )
        elif value is not None:
            continue  # a constant, a method alias, a hybrid: not a column
        elif not _is_mapped_annotation(annotation) and not _is_sqlmodel_field(annotation):
            continue  # SQLModel table models declare plain annotations as columns
        indexed = indexed or _annotation_indexed(project, module, annotation)
        line = cls.attr_lines.get(name, cls.line)
        yield name, Column(name, module.path, line, owner, indexed)


def _is_classvar(annotation: Expr | None) -> bool:
    return annotation is not None and "ClassVar" in repr(annotation)


def _is_mapped_annotation(annotation: Expr | None) -> bool:
    return (
        annotation is not None
        and annotation[0] == "sub"
        and annotation[1][0] in ("name", "attr")
        and annotation[1][-1] == "Mapped"
    )


def _is_sqlmodel_field(annotation: Expr | None) -> bool:
    return annotation is not None and annotation[0] in ("name", "sub", "binop", "attr")


def _annotation_indexed(project: Project, module: ModuleSummary, annotation: Expr | None) -> bool:
    """``Mapped[intpk]`` where ``intpk = Annotated[int, mapped_column(primary_key=True)]``."""
    if annotation is None or annotation[0] != "sub":
        return False
    for item in annotation[2]:
        if item[0] != "name":
            continue
        if _alias_indexed(project, module, item[1]):
            return True
        for alias in project.module_values(module, item[1]):
            if alias[0] == "sub" and any(
                _callee_name(meta) in COLUMN_FACTORIES and _flag(meta) for meta in alias[2]
            ):
                return True
    return False


def _alias_indexed(project: Project, module: ModuleSummary, name: str) -> bool:
    if name in module.facts.get("orm_indexed_aliases", ()):
        return True
    binding = module.imports.get(name)
    if binding is None or binding.is_module:
        return False
    source, _, symbol = binding.target.rpartition(".")
    imported = project.modules.get(source)
    return imported is not None and symbol in imported.facts.get("orm_indexed_aliases", ())


def is_migration_module(module: ModuleSummary) -> bool:
    """A migration: in a migrations folder, or an Alembic revision or environment (``env.py``)
    wherever it lives."""
    assigns = module.functions[MODULE_BODY].assigns
    return (
        is_offloop_path(module.path)
        or ("revision" in assigns and "down_revision" in assigns)
        or any(b.target.split(".")[0] == "alembic" for b in module.imports.values())
    )


def _table_args_columns(cls: ClassSummary) -> set[str]:
    value = cls.attr_values.get("__table_args__")
    found: set[str] = set()
    for call in _calls_in(value):
        if _callee_name(call) in TABLE_INDEXES:
            for arg in call[2]:
                found |= _column_names(arg)
    return found


def _column_names(arg: Expr) -> set[str]:
    """Names an index argument refers to: "col", col, Model.col, text/func wrappers."""
    if arg[0] == "const" and isinstance(arg[1], str):
        return {arg[1]}
    if arg[0] == "name":
        return {str(arg[1])}
    if arg[0] == "attr":
        return {str(arg[2])}
    if arg[0] == "call":
        names: set[str] = set()
        for inner in (*arg[2], arg[1][1] if arg[1][0] == "attr" else ("?",)):
            names |= _column_names(inner)
        return names
    return set()


def _calls_in(expr: Expr | None) -> Iterator[Expr]:
    if expr is None:
        return
    if expr[0] == "call":
        yield expr
    if expr[0] in ("seq", "call"):
        items = expr[1] if expr[0] == "seq" else expr[2]
        for item in items:
            if isinstance(item, tuple):
                yield from _calls_in(item)


def _module_level_indexes(module: ModuleSummary) -> Iterator[tuple[Expr, str]]:
    """``Index("ix", Model.col, ...)`` written at module level: (Model expression, column)."""
    for site in module.body.calls:
        if _callee_name(site.call) != "Index":
            continue
        for arg in site.args:
            if arg[0] == "attr" and arg[1][0] in ("name", "attr"):
                yield arg[1], str(arg[2])


def _migration_indexes(project: Project) -> dict[str, set[str]]:
    """Alembic ``op.create_index("ix", "table", ["col", ...])``: table -> indexed columns."""
    found: dict[str, set[str]] = {}
    for module in project.modules.values():
        for function in module.functions.values():
            for site in function.calls:
                if _callee_name(site.call) not in MIGRATION_INDEXES:
                    continue
                args = list(site.args)
                kwargs = {k: v for k, v in site.kwargs if k}
                table = kwargs.get("table_name", args[1] if len(args) > 1 else ("?",))
                columns = kwargs.get("columns", args[2] if len(args) > 2 else ("?",))
                if table[0] != "const" or columns[0] != "seq":
                    continue
                names = {str(c[1]) for c in columns[1] if c[0] == "const"}
                found.setdefault(str(table[1]), set()).update(names)
    return found
