"""Parse Python source into the standard ``ast`` of the running interpreter (3.11).

Services are often written for a newer Python than the engine runs on. ``parse_python`` tries
``ast.parse`` first (the fast path: nothing else runs for a file 3.11 accepts). Only when that
raises ``SyntaxError`` does it look for the constructs of the 3.12-3.14 grammar, rewrite each
into its 3.11 equivalent *in the text*, and ``ast.parse`` the result:

- PEP 695 type-parameter lists (``def f[T]``, ``class C[T: int = str]``) are blanked out; the
  parameters are reported in ``ParseNotes.type_parameters``.
- ``type X[T] = expr`` (PEP 695 aliases) becomes ``X = expr``.
- ``except A, B:`` / ``except* A, B:`` (PEP 758) get their parentheses.
- f-strings that only the PEP 701 grammar accepts (nested same quotes, backslashes or comments
  in replacement fields, multi-line fields in single-quoted strings) are replaced by a
  placeholder name and rebuilt as an ``ast.JoinedStr`` whose expressions are parsed (recursively)
  at their original positions.
- t-strings (PEP 750) become the ``string.templatelib.Template(...)`` call they evaluate to.

Every rewrite keeps the number of lines and, wherever the replacement fits, the byte columns of
the code after it, so findings point at the original lines; a span over several lines is
blanked with backslash line continuations.

Two tiers find the constructs. tree-sitter (a C parser: fast) locates them first; when its tree
has errors it cannot explain, or its rewrite does not parse, libcst's exact native parser (with
positions for every node: about 15 times slower) decides. A file neither accepts raises
``SyntaxError`` with the line where it is invalid in every grammar.
"""

from __future__ import annotations

import ast
import codecs
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeGuard

import tree_sitter
import tree_sitter_python

RewriteKind = Literal["type-parameters", "type-alias", "except-group", "f-string", "t-string"]
TypeParameterKind = Literal["TypeVar", "TypeVarTuple", "ParamSpec"]

# The newest grammar libcst's native parser is asked for; it accepts every older form too.
NEWEST_GRAMMAR = "3.14"

_NEWLINE = re.compile(r"\r\n|\r|\n")
_CONVERSIONS: dict[str | None, int] = {None: -1, "s": ord("s"), "r": ord("r"), "a": ord("a")}


@dataclass(frozen=True, slots=True)
class SyntaxRewrite:
    """One construct of newer syntax that was rewritten into its 3.11 equivalent."""

    kind: RewriteKind
    line: int
    column: int  # 0-based UTF-8 byte offset, like ``ast`` col_offset
    detail: str


@dataclass(frozen=True, slots=True)
class TypeParameter:
    """A PEP 695 type parameter dropped from a function, class or type alias."""

    name: str
    kind: TypeParameterKind
    bound: str | None  # source text of the bound or constraints tuple
    default: str | None  # source text of the PEP 696 default
    owner: str  # name of the function, class or alias that declares it
    owner_line: int  # line of the owner's name: the ``def``/``class``/``type`` line


@dataclass(frozen=True, slots=True)
class ParseNotes:
    """What it took to parse a file: empty when ``ast.parse`` accepted it as it is."""

    used_newer_grammar: bool = False
    rewrites: tuple[SyntaxRewrite, ...] = ()
    type_parameters: tuple[TypeParameter, ...] = ()

    def type_parameter_names(self, owner_line: int) -> frozenset[str]:
        """Names of the type parameters declared by the definition whose name is on that line."""
        return frozenset(p.name for p in self.type_parameters if p.owner_line == owner_line)


_NO_NOTES = ParseNotes()


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """Parse ``source`` into an ``ast.Module``; raises ``SyntaxError`` when it does not parse.

    Source in 3.12-3.14 syntax is rewritten into equivalent 3.11 syntax first (see the module
    docstring); the fast path is a plain ``ast.parse``.
    """
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as error:
        first_error = error
    except (RecursionError, MemoryError) as error:
        raise _too_complex(error, filename) from None
    return _parse_newer_syntax(source, filename, first_error)[0]


def parse_python_with_notes(
    source: str, filename: str = "<unknown>"
) -> tuple[ast.Module, ParseNotes]:
    """Like ``parse_python``, and also tell which rewrites were needed and which type
    parameters were dropped."""
    try:
        return ast.parse(source, filename=filename), _NO_NOTES
    except SyntaxError as error:
        first_error = error
    except (RecursionError, MemoryError) as error:
        raise _too_complex(error, filename) from None
    return _parse_newer_syntax(source, filename, first_error)


def _too_complex(error: BaseException, filename: str) -> SyntaxError:
    reason = "nested too deeply" if isinstance(error, RecursionError) else "too large"
    return SyntaxError(f"source {reason} to parse", (filename, None, None, None))


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int  # character offsets into the source
    end: int
    replacement: str


@dataclass(slots=True)
class _Placeholder:
    """A string literal replaced by a name, rebuilt as an ``ast`` node after parsing."""

    name: str
    line: int
    column: int  # byte offset
    node: ast.expr


@dataclass(slots=True)
class _Collected:
    edits: list[_Edit] = field(default_factory=list)
    rewrites: list[SyntaxRewrite] = field(default_factory=list)
    type_parameters: list[TypeParameter] = field(default_factory=list)
    placeholders: list[_Placeholder] = field(default_factory=list)


def _utf8_width(text: str) -> int:
    return len(text.encode("utf-8"))


def _render_edit(original: str, replacement: str) -> str:
    """Replacement text for ``original`` that keeps its line count and, where it fits, the
    byte width of its last line, so the code after it keeps its line and column."""
    segments = _NEWLINE.split(original)
    if len(segments) == 1:
        return replacement + " " * max(0, _utf8_width(original) - _utf8_width(replacement))
    newlines = _NEWLINE.findall(original)
    # Backslash continuations join the blanked lines into one logical line.
    rendered = [replacement + " \\" + newlines[0]]
    rendered.extend("\\" + newline for newline in newlines[1:])
    rendered.append(" " * _utf8_width(segments[-1]))
    return "".join(rendered)


def _apply_edits(source: str, edits: Sequence[_Edit]) -> str:
    pieces: list[str] = []
    cursor = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < cursor:
            raise SyntaxError(f"overlapping rewrites of newer syntax at offset {edit.start}")
        pieces.append(source[cursor : edit.start])
        pieces.append(_render_edit(source[edit.start : edit.end], edit.replacement))
        cursor = edit.end
    pieces.append(source[cursor:])
    return "".join(pieces)


def _parenthesize(text: str | bytes, start: int, end: int) -> list[tuple[int, int, str]]:
    """Edits that wrap text[start:end] (the types of ``except A, B:``) in parentheses.

    The blank before the types takes the "("; the ")" takes the blank after them, or else
    the one after the ":" (``except A, B: pass`` becomes ``except(A, B):pass``), so the
    body keeps its column.
    """
    blanks = (" ", "\t", b" ", b"\t")
    opening = (start - 1, start, "(") if text[start - 1 : start] in blanks else (start, start, "(")
    if text[end : end + 1] in blanks:
        return [opening, (end, end + 1, ")")]
    if text[end : end + 1] in (":", b":") and text[end + 1 : end + 2] in blanks:
        return [opening, (end, end + 2, "):")]
    return [opening, (end, end, ")")]


_OPENING, _CLOSING = b"([{", b")]}"
_QUOTES = (b"'''", b'"""', b"'", b'"')


def _after_closing_bracket(data: bytes, opening: int) -> int:
    """Offset just after the bracket that closes ``data[opening]``; skips strings and comments."""
    depth, index = 0, opening
    while index < len(data):
        quote = next((q for q in _QUOTES if data.startswith(q, index)), None)
        if quote is not None:
            end = index + len(quote)
            while True:
                end = data.find(quote, end)
                escapes = len(data[:end]) - len(data[:end].rstrip(b"\\"))
                if end < 0 or escapes % 2 == 0:
                    break
                end += 1  # an escaped quote does not close the string
            if end < 0:
                break
            index = end + len(quote)
            continue
        byte = data[index]
        if byte == ord("#"):
            newline = data.find(b"\n", index)
            index = len(data) if newline < 0 else newline
            continue
        if byte in _OPENING:
            depth += 1
        elif byte in _CLOSING:
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    raise SyntaxError("unbalanced brackets in a type parameter list")


def _parses_on_this_python(snippet: str) -> bool:
    try:
        ast.parse("(" + snippet + "\n)", mode="eval")
    except SyntaxError:
        return False
    return True


def _decode_literal(text: str, raw: bool) -> str:
    """Value of the literal text of an f-string part (escapes and doubled braces resolved)."""
    text = text.replace("{{", "{").replace("}}", "}").replace("\r\n", "\n").replace("\r", "\n")
    if raw:
        return text
    # A part may end in a lone backslash (``f"\\{x}"``): an invalid escape, kept as it is.
    trailing = len(text) - len(text.rstrip("\\"))
    kept = "\\" if trailing % 2 else ""
    text = text[:-1] if kept else text
    with warnings.catch_warnings():
        # Invalid escapes such as "\d" stay as they are, as in the compiler; no warning here.
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            decoded = codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")
        except UnicodeDecodeError as error:
            raise SyntaxError(f"invalid escape in an f-string: {error.reason}") from None
    return decoded + kept


def _templatelib_module() -> ast.expr:
    string_module = ast.Name(id="string", ctx=ast.Load())
    return ast.Attribute(value=string_module, attr="templatelib", ctx=ast.Load())


def _templatelib(attribute: str) -> ast.expr:
    return ast.Attribute(value=_templatelib_module(), attr=attribute, ctx=ast.Load())


_TEMPLATELIB_DUMP = ast.dump(_templatelib_module())


def _locate(built: ast.expr, line: int, column: int, end_line: int, end_column: int) -> None:
    """Give the nodes made here (not the parsed expressions) the span of the whole string."""
    for node in ast.walk(built):
        if isinstance(node, ast.expr) and not hasattr(node, "lineno"):
            node.lineno, node.col_offset = line, column
            node.end_lineno, node.end_col_offset = end_line, end_column


def _concatenate_templates(parts: Sequence[ast.expr]) -> ast.expr:
    """``t"a" t"{b}"`` is one ``Template``: the arguments of both, in order."""
    arguments: list[ast.expr] = []
    for part in parts:
        if not _is_template_call(part):
            raise SyntaxError("cannot mix t-string literals with string or bytes literals")
        arguments.extend(part.args)
    return ast.Call(func=_templatelib("Template"), args=_merge_constants(arguments), keywords=[])


def _plain_string(format_spec: ast.expr | None) -> ast.expr:
    """A format spec as an ``Interpolation`` holds it: a plain ``str`` when it has no fields."""
    if format_spec is None:
        return ast.Constant(value="")
    if isinstance(format_spec, ast.JoinedStr):
        texts = [v.value for v in format_spec.values if isinstance(v, ast.Constant)]
        if len(texts) == len(format_spec.values):
            return ast.Constant(value="".join(str(text) for text in texts))
    return format_spec


def _merge_constants(values: list[ast.expr]) -> list[ast.expr]:
    """Adjacent string constants become one and empty ones vanish, as the compiler does."""
    merged: list[ast.expr] = []
    for value in values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if not value.value:
                continue
            previous = merged[-1] if merged else None
            if isinstance(previous, ast.Constant) and isinstance(previous.value, str):
                merged[-1] = ast.Constant(value=previous.value + value.value)
                continue
        merged.append(value)
    return merged


_ParseFunction = Callable[[str, str], tuple[ast.Module, ParseNotes]]


def _parse_embedded_expression(
    text: str,
    line: int,
    column: int,
    filename: str,
    parse: _ParseFunction = parse_python_with_notes,
) -> ast.expr:
    """Parse an expression found at (line, byte column) of the file, with its positions."""
    # "(" plus padding puts the expression at its original column; the newline before ")"
    # ends a trailing comment inside a multi-line f-string field.
    if column > 0:
        snippet, line_shift = "(" + " " * (column - 1) + text + "\n)", line - 1
    else:
        snippet, line_shift = "(\n" + text + "\n)", line - 2
    try:
        module, _ = parse(snippet, filename)
    except SyntaxError as error:
        if error.lineno is not None:
            error.lineno += line_shift
        if error.end_lineno is not None:
            error.end_lineno += line_shift
        raise
    statement = module.body[0] if len(module.body) == 1 else None
    if not isinstance(statement, ast.Expr):
        raise SyntaxError(
            f"not a single expression: {text[:60]!r}", (filename, line, column + 1, text)
        )
    ast.increment_lineno(statement, line_shift)
    return statement.value


class _PlaceholderSubstitution(ast.NodeTransformer):
    def __init__(self, placeholders: Sequence[_Placeholder]) -> None:
        self.by_position = {(p.name, p.line, p.column): p.node for p in placeholders}

    def visit_Name(self, node: ast.Name) -> ast.expr:
        replacement = self.by_position.pop((node.id, node.lineno, node.col_offset), None)
        return replacement if replacement is not None else node


_POSITIONED_NODES = (ast.expr, ast.stmt, ast.excepthandler, ast.arg, ast.keyword)


def _restore_end_positions(tree: ast.Module, placeholders: Sequence[_Placeholder]) -> None:
    """Nodes that ended with a placeholder name end where the original string ended."""
    original_ends: dict[tuple[int, int], tuple[int | None, int | None]] = {
        (p.line, p.column + len(p.name)): (p.node.end_lineno, p.node.end_col_offset)
        for p in placeholders
    }
    for node in ast.walk(tree):
        if not isinstance(node, _POSITIONED_NODES) or node.end_lineno is None:
            continue
        original = original_ends.get((node.end_lineno, node.end_col_offset or 0))
        if original is not None:
            node.end_lineno, node.end_col_offset = original


def _finish(source: str, filename: str, collected: _Collected) -> tuple[ast.Module, ParseNotes]:
    """Apply the edits, parse the 3.11 text and put the rebuilt strings in place."""
    rewritten = _apply_edits(source, collected.edits)
    try:
        tree = ast.parse(rewritten, filename=filename)
    except SyntaxError as error:
        raise SyntaxError(
            f"{error.msg} (after rewriting Python {NEWEST_GRAMMAR} syntax for 3.11)",
            (filename, error.lineno, error.offset, error.text, error.end_lineno, error.end_offset),
        ) from None
    if collected.placeholders:
        _restore_end_positions(tree, collected.placeholders)
        tree = _PlaceholderSubstitution(collected.placeholders).visit(tree)
    notes = ParseNotes(
        used_newer_grammar=True,
        rewrites=tuple(sorted(collected.rewrites, key=lambda r: (r.line, r.column))),
        type_parameters=tuple(sorted(collected.type_parameters, key=lambda p: p.owner_line)),
    )
    return tree, notes


# Tier 1: tree-sitter locates the few constructs to rewrite (fast: the parser is C) ----------

_TS_LANGUAGE = tree_sitter.Language(tree_sitter_python.language())
_TS_QUERY = tree_sitter.Query(
    _TS_LANGUAGE,
    """
    (function_definition type_parameters: (type_parameter) @type_parameters)
    (class_definition type_parameters: (type_parameter) @type_parameters)
    (type_alias_statement) @type_alias
    (except_clause) @except_clause
    (interpolation) @interpolation
    ((string_start) @template_start (#match? @template_start "^[^\\"']*[tT]"))
    """,
)
_TS_STRING_QUERY = tree_sitter.Query(
    _TS_LANGUAGE, "(string_start) @start (type_conversion) @conversion"
)
_TS_NOT_VALUES = frozenset({"except", "*", ":", "line_continuation", "comment", "block"})
_TS_STRING_NODES = frozenset({"string", "concatenated_string"})


class _TreeSitterRewriter:
    """Collects the edits for one file from a tree-sitter tree (byte positions)."""

    def __init__(self, source: str, filename: str) -> None:
        self.source = source
        self.data = source.encode("utf-8")
        self.filename = filename
        self.collected = _Collected()
        self.blanked: list[tuple[int, int]] = []  # byte spans whose content disappears
        self._ascii = source.isascii()

    def char_offset(self, byte_offset: int) -> int:
        if self._ascii:
            return byte_offset
        return len(self.data[:byte_offset].decode("utf-8", errors="replace"))

    def text(self, node: tree_sitter.Node) -> str:
        return self.data[node.start_byte : node.end_byte].decode("utf-8", errors="replace")

    def edit(self, start_byte: int, end_byte: int, replacement: str) -> None:
        self.collected.edits.append(
            _Edit(self.char_offset(start_byte), self.char_offset(end_byte), replacement)
        )

    def note(self, kind: RewriteKind, node: tree_sitter.Node, detail: str) -> None:
        row, column = node.start_point
        self.collected.rewrites.append(SyntaxRewrite(kind, row + 1, column, detail))

    def inside_blanked(self, node: tree_sitter.Node) -> bool:
        return any(s <= node.start_byte and node.end_byte <= e for s, e in self.blanked)

    def type_parameters(
        self, node: tree_sitter.Node, owner: tree_sitter.Node, *, note: bool, text: str = ""
    ) -> None:
        if not text:
            text = self.text(node)
            if _after_closing_bracket(self.data, node.start_byte) != node.end_byte:
                raise SyntaxError(f"tree-sitter misread type parameters {text[:60]!r}")
        if not (text.startswith("[") and text.endswith("]")):
            raise SyntaxError(f"tree-sitter misread type parameters {text[:60]!r}")
        from scanners.parsing._libcst_tier import describe_type_parameter_list  # noqa: PLC0415

        owner_name, owner_line = self.text(owner), owner.start_point[0] + 1
        described = describe_type_parameter_list(text, owner_name, owner_line)
        self.collected.type_parameters.extend(described)
        if note:
            names = ", ".join(p.name for p in described)
            self.note("type-parameters", node, f"{owner_name}[{names}]")

    def drop_type_parameters(self, node: tree_sitter.Node) -> None:
        owner = node.parent.child_by_field_name("name") if node.parent else None
        if owner is None:
            raise SyntaxError("type parameters without a definition")
        self.type_parameters(node, owner, note=True)
        self.blanked.append((node.start_byte, node.end_byte))
        self.edit(node.start_byte, node.end_byte, "")

    def type_alias(self, node: tree_sitter.Node) -> None:
        head = node.child_by_field_name("left")
        if head is None:
            raise SyntaxError("tree-sitter misread a type alias")
        name = head
        while name.type != "identifier" and name.named_children:
            name = name.named_children[0]
        # tree-sitter does not know PEP 696 defaults: the parameter list is found by its brackets.
        head_end = name.end_byte
        if self.data[head_end : head_end + 1] == b"[":
            head_end = _after_closing_bracket(self.data, head_end)
            text = self.data[name.end_byte : head_end].decode("utf-8", errors="replace")
            self.type_parameters(name, name, note=False, text=text)
        self.blanked.append((node.start_byte, head_end))
        self.edit(node.start_byte, head_end, self.text(name))
        self.note("type-alias", node, f"type {self.text(name)} = ... became an assignment")

    def except_group(self, node: tree_sitter.Node) -> None:
        children = node.children
        if not any(child.type == "," for child in children):
            return
        values = [c for c in children if c.type not in _TS_NOT_VALUES]
        start, end = values[0].start_byte, values[-1].end_byte
        for edit_start, edit_end, replacement in _parenthesize(self.data, start, end):
            self.edit(edit_start, edit_end, replacement)
        types = self.data[start:end].decode("utf-8", errors="replace")
        self.note("except-group", values[0], f"except {types}:")

    def string(self, node: tree_sitter.Node) -> None:
        text = self.text(node)
        is_template = node.type == "string_start"
        if is_template:
            node = self.outermost_string(node)
            text = self.text(node)
        elif _parses_on_this_python(text):
            return
        row, column = node.start_point
        if is_template and node.type == "concatenated_string":
            # libcst rejects concatenated t-strings: build each one, then join them.
            parts = [self.build_string(c) for c in node.named_children if c.type == "string"]
            built = _concatenate_templates(parts)
            _locate(built, row + 1, column, node.end_point[0] + 1, node.end_point[1])
        else:
            built = self.build_string(node)
        name = f"_{len(self.collected.placeholders)}"
        self.collected.placeholders.append(_Placeholder(name, row + 1, column, built))
        self.edit(node.start_byte, node.end_byte, name)
        kind: RewriteKind = "t-string" if is_template else "f-string"
        self.note(kind, node, f"rebuilt from the Python {NEWEST_GRAMMAR} grammar")

    def build_string(self, node: tree_sitter.Node) -> ast.expr:
        row, column = node.start_point
        return _parse_embedded_expression(
            self.libcst_readable(node), row + 1, column, self.filename, _parse_strings_with_libcst
        )

    def libcst_readable(self, node: tree_sitter.Node) -> str:
        """The string's text, with what libcst 1.9 misreads respelled at equal length.

        libcst rejects the ``tr`` prefix order (``rt`` means the same) and drops the blanks
        between a conversion and "}" or ":", which shifts every position after them; the blanks
        are moved in front of the "!", where they mean nothing either.
        """
        text = bytearray(self.data[node.start_byte : node.end_byte])
        base = node.start_byte
        captures = tree_sitter.QueryCursor(_TS_STRING_QUERY).captures(node)
        for start in captures.get("start", []):
            prefix = self.data[start.start_byte : start.end_byte].rstrip(b"\"'")
            if prefix.lower() == b"tr":
                text[start.start_byte - base : start.start_byte - base + 2] = prefix[::-1]
        for conversion in captures.get("conversion", []):
            following = conversion.next_sibling
            if following is None:
                continue
            blanks = self.data[conversion.end_byte : following.start_byte]
            if blanks and not blanks.strip():
                bang = self.data[conversion.start_byte : conversion.end_byte]
                moved = blanks + bang
                text[conversion.start_byte - base : following.start_byte - base] = moved
        return text.decode("utf-8", errors="replace")

    @staticmethod
    def outermost_string(node: tree_sitter.Node) -> tree_sitter.Node:
        outermost = node
        current: tree_sitter.Node | None = node
        while current is not None:
            if current.type in _TS_STRING_NODES:
                outermost = current
            current = current.parent
        return outermost

    def has_unexplained_errors(self, node: tree_sitter.Node) -> bool:
        """Parse errors outside the blanked spans mean tree-sitter did not understand the file."""
        if (node.is_error or node.is_missing) and not self.inside_blanked(node):
            return True
        return any(
            self.has_unexplained_errors(c) for c in node.children if c.has_error or c.is_missing
        )

    def collect(self) -> _Collected | None:
        tree = tree_sitter.Parser(_TS_LANGUAGE).parse(self.data)  # cheap; not thread-safe
        captures = tree_sitter.QueryCursor(_TS_QUERY).captures(tree.root_node)
        for node in captures.get("type_parameters", []):
            self.drop_type_parameters(node)
        for node in captures.get("type_alias", []):
            self.type_alias(node)
        if tree.root_node.has_error and self.has_unexplained_errors(tree.root_node):
            return None
        for node in captures.get("except_clause", []):
            if not self.inside_blanked(node):
                self.except_group(node)
        strings: dict[tuple[int, int], tree_sitter.Node] = {}
        for node in captures.get("interpolation", []) + captures.get("template_start", []):
            outermost = self.outermost_string(node)
            if not self.inside_blanked(outermost):
                strings[(outermost.start_byte, outermost.end_byte)] = (
                    node if node.type == "string_start" else outermost
                )
        for node in strings.values():
            self.string(node)
        return self.collected


def _is_template_call(node: ast.AST) -> TypeGuard[ast.Call]:
    """Whether ``node`` is the ``string.templatelib.Template(...)`` call built for a t-string."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "Template"
        and ast.dump(node.func.value) == _TEMPLATELIB_DUMP
    )


def _rewrite_with_tree_sitter(source: str, filename: str) -> tuple[ast.Module, ParseNotes] | None:
    """The fast tier; ``None`` when it cannot vouch for the result."""
    try:
        collected = _TreeSitterRewriter(source, filename).collect()
        if collected is None or not collected.edits:
            return None
        return _finish(source, filename, collected)
    except (RecursionError, MemoryError):
        raise  # too deep or too large for any tier: libcst would not do better
    except Exception:  # best effort: the exact libcst tier gives the answer
        return None


# Tier 2: libcst's exact parser with positions for every node (slower, but complete) ----------


def _parse_strings_with_libcst(snippet: str, filename: str) -> tuple[ast.Module, ParseNotes]:
    """Parse a snippet holding one string literal: ``ast`` when it can, else libcst."""
    try:
        return ast.parse(snippet, filename=filename), _NO_NOTES
    except SyntaxError as error:
        return _rewrite_with_libcst(snippet, filename, error)


# CPython 3.11 cannot build trees much deeper than ~3,000 levels anyway, and libcst's native
# parser overflows its stack (a crash, not an exception) somewhere past 5,000.
MAX_SYNTAX_DEPTH = 3000


def _syntax_depth_exceeds(source: str, limit: int) -> bool:
    cursor = tree_sitter.Parser(_TS_LANGUAGE).parse(source.encode("utf-8")).walk()
    depth = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            if depth > limit:
                return True
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return False
            depth -= 1


def _rewrite_with_libcst(
    source: str, filename: str, first_error: SyntaxError
) -> tuple[ast.Module, ParseNotes]:
    if _syntax_depth_exceeds(source, MAX_SYNTAX_DEPTH):
        raise RecursionError(f"deeper than {MAX_SYNTAX_DEPTH} levels")
    # Imported on first use: libcst takes longer to import than most files take to parse.
    from scanners.parsing._libcst_tier import rewrite_with_libcst  # noqa: PLC0415

    return rewrite_with_libcst(source, filename, first_error)


def _parse_newer_syntax(
    source: str, filename: str, first_error: SyntaxError
) -> tuple[ast.Module, ParseNotes]:
    try:
        return _rewrite_with_tree_sitter(source, filename) or _rewrite_with_libcst(
            source, filename, first_error
        )
    except (RecursionError, MemoryError) as error:
        raise _too_complex(error, filename) from None
