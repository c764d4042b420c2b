"""scanners.parsing: Python 3.12-3.14 source parsed on 3.11 into the standard ``ast``.

Positions are checked against an independent reading of the *original* source: libcst's
position metadata for every statement, except handler, call and await.
"""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from scanners import parsing
from scanners.parsing import ParseNotes, TypeParameter, parse_python, parse_python_with_notes

FIXTURES = Path(__file__).parent / "fixtures" / "newer_syntax"
VALID = sorted(FIXTURES.glob("*.py"))
INVALID = sorted((FIXTURES / "invalid").glob("*.py"))
# libcst 1.9 cannot build concatenated t-strings (CSTLogicError) and drops the blanks after an
# f-string conversion; the tree-sitter tier handles both, libcst cannot serve as oracle there.
LIBCST_MISREADS = {"tstrings_concatenated.py", "libcst_misreads.py"}
READABLE_BY_LIBCST = [path for path in VALID if path.name not in LIBCST_MISREADS]
# tree-sitter does not know PEP 696 defaults on aliases: its tier hands this file to libcst's.
TREE_SITTER_MISREADS = {"type_parameter_corners.py"}
REPO_ROOT = Path(__file__).resolve().parents[2]

Span = tuple[str, int, int, int, int]  # kind, line, byte column, end line, end byte column


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _byte_column(lines: list[str], line: int, column: int) -> int:
    return len(lines[line - 1][:column].encode("utf-8"))


def _expected_spans(source: str) -> list[Span]:
    """Spans of statements, handlers, calls and awaits as written in the original source."""
    module = cst.parse_module(source)
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    lines = source.split("\n")
    inside_type_parameters: set[cst.CSTNode] = set()

    class TypeParameterContents(cst.CSTVisitor):
        def visit_TypeParameters(self, node: cst.TypeParameters) -> bool:
            inside_type_parameters.update(_descendants(node))
            return False

    module.visit(TypeParameterContents())
    spans: list[Span] = []
    for node, code_range in positions.items():
        if node in inside_type_parameters:
            continue
        if isinstance(node, cst.BaseSmallStatement | cst.BaseCompoundStatement):
            kind = "statement"
        elif isinstance(node, cst.ExceptHandler | cst.ExceptStarHandler):
            kind = "handler"
        elif isinstance(node, cst.Call):
            kind = "call"
        elif isinstance(node, cst.Await):
            kind = "await"
        else:
            continue
        start, end = code_range.start, code_range.end
        spans.append(
            (
                kind,
                start.line,
                _byte_column(lines, start.line, start.column),
                end.line,
                _byte_column(lines, end.line, end.column),
            )
        )
    return sorted(spans)


def _descendants(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = [node]
    for child in node.children:
        found.extend(_descendants(child))
    return found


def _is_template_call(node: ast.AST) -> bool:
    """The Template/Interpolation calls that stand for a t-string are not in the source."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and ast.unparse(node.func).startswith("string.templatelib.")
    )


def _actual_spans(tree: ast.Module) -> list[Span]:
    spans: list[Span] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            kind = "statement"
        elif isinstance(node, ast.ExceptHandler):
            kind = "handler"
        elif isinstance(node, ast.Call) and not _is_template_call(node):
            kind = "call"
        elif isinstance(node, ast.Await):
            kind = "await"
        else:
            continue
        assert node.end_lineno is not None and node.end_col_offset is not None
        spans.append((kind, node.lineno, node.col_offset, node.end_lineno, node.end_col_offset))
    return sorted(spans)


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return type(node).__name__


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_fixture_needs_the_newer_grammar_and_parses(path: Path) -> None:
    source = _source(path)
    with pytest.raises(SyntaxError):
        ast.parse(source)
    tree, notes = parse_python_with_notes(source, str(path))
    assert isinstance(tree, ast.Module)
    assert notes.used_newer_grammar
    assert notes.rewrites
    assert _dump(parse_python(source, str(path))) == _dump(tree)
    # The tree is a real 3.11 tree: the compiler accepts it.
    compile(tree, str(path), "exec")


@pytest.mark.parametrize("path", READABLE_BY_LIBCST, ids=lambda p: p.name)
def test_positions_of_statements_handlers_calls_and_awaits_match_the_source(path: Path) -> None:
    source = _source(path)
    expected = _expected_spans(source)
    assert expected, "the oracle found nothing to compare"
    assert _actual_spans(parse_python(source, str(path))) == expected


@pytest.mark.parametrize(
    "path",
    [path for path in READABLE_BY_LIBCST if path.name not in TREE_SITTER_MISREADS],
    ids=lambda p: p.name,
)
def test_tree_sitter_and_libcst_tiers_build_the_same_tree(path: Path) -> None:
    source = _source(path)
    with pytest.raises(SyntaxError) as first_error:
        ast.parse(source)
    fast = parsing._rewrite_with_tree_sitter(source, str(path))
    assert fast is not None, "the tree-sitter tier declined a valid fixture"
    exact = parsing._rewrite_with_libcst(source, str(path), first_error.value)
    assert _dump(fast[0]) == _dump(exact[0])
    assert fast[1] == exact[1]


def test_the_same_file_with_crlf_newlines_gives_the_same_tree() -> None:
    source = _source(FIXTURES / "generics.py")
    assert _dump(parse_python(source.replace("\n", "\r\n"))) == _dump(parse_python(source))


def test_pep701_fstrings_evaluate_to_the_values_python_312_gives() -> None:
    path = FIXTURES / "fstrings_pep701.py"
    namespace: dict[str, object] = {"__name__": "fixture"}
    exec(compile(parse_python(_source(path), str(path)), str(path), "exec"), namespace)
    assert namespace["quotes"] == "ada has 2 roles"
    assert namespace["joined"] == "Playlist: Take me back to Eden\nAlkaline\nAscensionism"
    assert namespace["nested"] == "ada"
    assert namespace["debug"] == "width = 10 user[\"name\"]=     'ada' Take me back to Eden"
    assert namespace["tail"] == "éADAdone"
    assert namespace["after"] == 8
    assert namespace["raw"] == "\\d+ada\\w"
    assert namespace["triple"] == "report:\nTAKE ME BACK TO EDEN, ALKALINE, ASCENSIONISM\nend"
    assert namespace["multi"] == "total: 40 chars (approx)"
    assert namespace["concat"] == "prefix ada middle         10 suffix"
    assert namespace["plain_ok"] == "10 ada"


def test_fstrings_libcst_misreads_keep_their_values_and_positions() -> None:
    path = FIXTURES / "libcst_misreads.py"
    source = _source(path)
    tree = parse_python(source, str(path))
    namespace: dict[str, object] = {}
    exec(compile(tree, str(path), "exec"), namespace)
    assert namespace["spaced"] == "'v'"
    assert namespace["spaced_spec"] == "     v ada"
    assert namespace["after"] == 10
    assert namespace["backslash"] == "\\v"

    lines = source.split("\n")
    fields = {
        (node.lineno, node.col_offset, ast.unparse(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript | ast.Name) and node.lineno >= 5
    }
    assert (5, lines[4].index('d["k"]'), "d['k']") in fields
    assert (6, lines[5].index('d["k"]'), "d['k']") in fields
    assert (6, lines[5].index("name}"), "name") in fields
    assert (7, lines[6].index('d["k"]'), "d['k']") in fields
    after = next(
        node
        for node in tree.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "after"
    )
    assert (after.lineno, after.col_offset) == (6, lines[5].index("after"))


def test_type_parameter_lists_with_defaults_and_brackets_in_strings() -> None:
    path = FIXTURES / "type_parameter_corners.py"
    tree, notes = parse_python_with_notes(_source(path), str(path))
    assert [(node.lineno, ast.unparse(node)) for node in tree.body[2:4]] == [
        (5, "Shape = tuple[*Ts,]"),
        (6, "Tricky = list[T]"),
    ]
    pick = tree.body[4]
    assert isinstance(pick, ast.FunctionDef)
    assert (pick.lineno, pick.body[0].lineno, pick.body[0].col_offset) == (9, 9, 43)
    assert notes.type_parameters == (
        TypeParameter("Ts", "TypeVarTuple", None, "*tuple[int, str]", "Shape", 5),
        TypeParameter("T", "TypeVar", 'Annotated[int, "]"]', "int", "Tricky", 6),
        TypeParameter("T", "TypeVar", 'Literal["[", "]"]', None, "pick", 9),
        TypeParameter("T", "TypeVar", None, 'Annotated[str, "[("]', "Holder", 12),
    )


def test_template_prefixes_in_either_order_and_lone_backslashes() -> None:
    tree = parse_python('x = tr"\\d{name}" + "" if False else Rt"\\{name}"\ny = t"\\{name}"\n')
    template = "string.templatelib.Template"
    interpolation = "string.templatelib.Interpolation(name, 'name', None, '')"
    assert ast.unparse(tree).split("\n") == [
        f"x = {template}('\\\\d', {interpolation}) + '' if False else "
        f"{template}('\\\\', {interpolation})",
        f"y = {template}('\\\\', {interpolation})",
    ]


def test_what_the_engine_needs_from_a_service_in_newer_syntax() -> None:
    path = FIXTURES / "service_mix.py"
    tree, notes = parse_python_with_notes(_source(path), str(path))

    functions = {
        node.name: (node.lineno, isinstance(node, ast.AsyncFunctionDef))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assert functions == {
        "get_db": (18, False),
        "__init__": (23, False),
        "refresh": (27, False),
        "load_item": (36, False),
        "read_item": (44, True),
        "create_item": (52, False),
        "startup": (58, True),
    }
    classes = {node.name: node.lineno for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    assert classes == {"Cache": 22}

    decorators = {
        (node.name, node.lineno): [(_dotted(d), d.lineno) for d in node.decorator_list]
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.decorator_list
    }
    assert decorators == {
        ("read_item", 44): [("router.get()", 43)],
        ("create_item", 52): [("router.post()", 51)],
        ("startup", 58): [("app.on_event()", 57)],
    }

    calls = {
        (node.lineno, _dotted(node.func)) for node in ast.walk(tree) if isinstance(node, ast.Call)
    }
    assert {
        (24, "requests.Session"),
        (28, "self.http.get"),
        (29, "time.sleep"),
        (30, "parse"),
        (38, "requests.get"),
        (38, "requests.get().json"),
        (44, "Depends"),
        (45, "asyncio.sleep"),
        (46, "load_item"),
        (47, "db.execute"),
        (53, "time.sleep"),
        (59, "asyncio.to_thread"),
        (62, "app.include_router"),
    } <= calls
    awaited = {
        (node.lineno, _dotted(node.value.func))
        for node in ast.walk(tree)
        if isinstance(node, ast.Await) and isinstance(node.value, ast.Call)
    }
    assert awaited == {(45, "asyncio.sleep"), (59, "asyncio.to_thread")}

    # Type aliases became assignments the model can resolve.
    assignments = {
        node.targets[0].id: (node.lineno, ast.unparse(node.value))
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert assignments["ItemId"] == (14, "int")
    assert assignments["Loader"] == (15, "'Callable[[ItemId], T]'")

    # except ValueError, KeyError: catches both.
    handler = next(node for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler))
    assert handler.lineno == 39
    assert isinstance(handler.type, ast.Tuple)
    assert [_dotted(element) for element in handler.type.elts] == ["ValueError", "KeyError"]

    # The PEP 701 f-string handed to db.execute is still an f-string with its field.
    execute = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _dotted(node.func) == "db.execute"
    )
    argument = execute.args[0]
    assert isinstance(argument, ast.JoinedStr)
    field = argument.values[1]
    assert isinstance(field, ast.FormattedValue)
    assert field.conversion == ord("r")
    assert ast.unparse(field.value) == "item['name']"
    assert (field.value.lineno, field.value.col_offset) == (47, 25)

    assert notes.type_parameter_names(44) == {"T"}
    assert notes.type_parameter_names(22) == {"K", "V"}
    assert notes.type_parameter_names(27) == {"T"}
    assert notes.type_parameter_names(15) == {"T"}
    assert notes.type_parameter_names(18) == frozenset()
    assert [(r.kind, r.line) for r in notes.rewrites] == [
        ("type-alias", 14),
        ("type-alias", 15),
        ("type-parameters", 22),
        ("type-parameters", 27),
        ("except-group", 39),
        ("type-parameters", 44),
        ("f-string", 47),
    ]


def test_type_parameters_are_reported_with_bounds_and_defaults() -> None:
    path = FIXTURES / "generics.py"
    _, notes = parse_python_with_notes(_source(path), str(path))
    by_owner: dict[str, list[TypeParameter]] = {}
    for parameter in notes.type_parameters:
        by_owner.setdefault(parameter.owner, []).append(parameter)
    assert by_owner["clamp"] == [TypeParameter("N", "TypeVar", "(int, float)", None, "clamp", 13)]
    assert by_owner["fetch_all"] == [
        TypeParameter("T", "TypeVar", "object", "dict", "fetch_all", 17)
    ]
    assert by_owner["spread"] == [
        TypeParameter("K", "TypeVar", "str", None, "spread", 33),
        TypeParameter("V", "TypeVar", None, "int", "spread", 33),
        TypeParameter("Ts", "TypeVarTuple", None, "*tuple[int, ...]", "spread", 33),
        TypeParameter("P", "ParamSpec", None, "[int, str]", "spread", 33),
    ]
    assert by_owner["Repository"] == [
        TypeParameter("ModelT", "TypeVar", None, None, "Repository", 41),
        TypeParameter("IdT", "TypeVar", "(int, str)", "int", "Repository", 41),
    ]
    assert [p.kind for p in by_owner["retry"]] == ["ParamSpec", "TypeVar"]
    assert [p.kind for p in by_owner["pack"]] == ["TypeVarTuple"]
    assert sorted(p.owner_line for p in by_owner["inner"] + by_owner["Local"]) == [66, 69]


def test_multi_line_type_parameters_keep_the_code_after_them_in_place() -> None:
    path = FIXTURES / "generics.py"
    tree = parse_python(_source(path), str(path))
    spread = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "spread")
    assert spread.lineno == 33
    assert [(a.arg, a.lineno, a.col_offset) for a in spread.args.args] == [
        ("key", 38, 2),
        ("value", 38, 10),
    ]
    returned = spread.body[0]
    assert isinstance(returned, ast.Return)
    assert (returned.lineno, returned.col_offset) == (38, 35)


def test_except_groups_are_tuples_and_bodies_keep_their_columns() -> None:
    path = FIXTURES / "except_groups.py"
    tree, notes = parse_python_with_notes(_source(path), str(path))
    handlers = [
        (h.lineno, h.col_offset, [_dotted(e) for e in h.type.elts])
        for h in ast.walk(tree)
        if isinstance(h, ast.ExceptHandler) and isinstance(h.type, ast.Tuple)
    ]
    assert handlers == [
        (9, 4, ["ValueError", "TypeError"]),
        (11, 4, ["KeyError", "IndexError"]),
        (12, 4, ["OSError", "RuntimeError"]),
        (19, 4, ["ValueError", "TypeError"]),
        (21, 4, ["OSError", "ConnectionError"]),
    ]
    one_liner = next(
        h for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.lineno == 11
    )
    assert (one_liner.body[0].lineno, one_liner.body[0].col_offset) == (11, 33)
    assert [(r.kind, r.line) for r in notes.rewrites] == [
        ("except-group", 9),
        ("except-group", 11),
        ("except-group", 19),
        ("except-group", 21),
    ]


@pytest.mark.parametrize("name", ["tstrings.py", "tstrings_concatenated.py"])
def test_template_strings_become_the_template_they_evaluate_to(name: str) -> None:
    path = FIXTURES / name
    tree, notes = parse_python_with_notes(_source(path), str(path))
    values = {
        node.targets[0].id: ast.unparse(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    template = "string.templatelib.Template"
    interpolation = "string.templatelib.Interpolation"
    if name == "tstrings.py":
        assert values["query"] == (
            f"{template}('SELECT * FROM users WHERE name = ', "
            f"{interpolation}(name, 'name', None, ''))"
        )
        assert values["greeting"] == (
            f"html({template}('<p>Hello ', "
            f"{interpolation}(name, 'name', 'r', f'>{{width}}'), '</p>'))"
        )
    else:
        assert values["debug"] == (
            f"{template}('name=', {interpolation}(name, 'name', 'r', ''), ' and ', "
            f"{interpolation}(width, 'width', None, ''))"
        )
        assert values["split"] == (
            f"{template}('<b>', {interpolation}(name, 'name', None, ''), '</b><i>', "
            f"{interpolation}(width, 'width', None, '>4'), '</i>')"
        )
    assert {r.kind for r in notes.rewrites} == {"t-string"}


def _expected_error_line(path: Path) -> int:
    header = _source(path).splitlines()[0]
    assert header.startswith("# error-line: ")
    return int(header.removeprefix("# error-line: "))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_broken_files_raise_syntax_error_at_the_broken_line(path: Path) -> None:
    with pytest.raises(SyntaxError) as raised:
        parse_python(_source(path), str(path))
    assert raised.value.lineno == _expected_error_line(path)
    assert raised.value.filename == str(path)
    assert raised.value.msg


def test_python2_print_keeps_the_precise_message_of_python_311() -> None:
    path = FIXTURES / "invalid" / "python2_print.py"
    with pytest.raises(SyntaxError, match="Missing parentheses in call to 'print'"):
        parse_python(_source(path), str(path))


def test_an_error_after_newer_syntax_is_reported_where_it_is_not_at_the_newer_syntax() -> None:
    path = FIXTURES / "invalid" / "newer_then_broken.py"
    with pytest.raises(SyntaxError, match=r"invalid syntax for Python 3\.14 too") as raised:
        parse_python(_source(path), str(path))
    assert raised.value.lineno == 8  # Python 3.11 alone would blame line 2, the generic def


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\x00",
        "def",
        "f'{",
        't"{x',
        "class C[T",
        "type",
        "type X[",
        "except A, B:\n",
        "x = f'{'",
        "def f[T](x: T) -> T:\n  return f'{x!z}'\n",
        "type X = int\n" + "(" * 300 + ")" * 300 + "\n",
        "\ufeffx = 1\n",
        "type X = int\nx" + ".a" * 100_000 + "\n",
    ],
)
def test_garbage_either_parses_or_raises_syntax_error(source: str) -> None:
    try:
        tree = parse_python(source, "garbage.py")
    except SyntaxError as error:
        assert error.msg
    else:
        assert isinstance(tree, ast.Module)


def test_sources_too_deep_for_the_parser_raise_syntax_error() -> None:
    for source in ("x" + ".a" * 100_000, "type X = int\ny = x" + ".a" * 100_000):
        with pytest.raises(SyntaxError, match="nested too deeply") as raised:
            parse_python(source, "deep.py")
        assert raised.value.filename == "deep.py"


def _python_311_sources(min_lines: int = 1500) -> str:
    """Whole files of this repository's engine: Python 3.11 by construction (mypy checks it)."""
    sources: list[str] = []
    for path in sorted((REPO_ROOT / "scanners").rglob("*.py")):
        sources.append(path.read_text(encoding="utf-8"))
        if sum(source.count("\n") for source in sources) >= min_lines:
            break
    return "\n".join(sources)


def test_python_311_source_takes_the_fast_path_unchanged() -> None:
    source = _python_311_sources()
    tree, notes = parse_python_with_notes(source, "scanners.py")
    assert notes == ParseNotes()
    assert not notes.used_newer_grammar
    assert _dump(tree) == _dump(ast.parse(source, "scanners.py"))
    assert _dump(parse_python(source, "scanners.py")) == _dump(tree)
