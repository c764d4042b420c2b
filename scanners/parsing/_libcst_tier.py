"""The exact tier of ``scanners.parsing``: libcst's native parser, positions for every node.

Imported only when a file needs it: libcst takes longer to import than most files take to parse.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from scanners.parsing import (
    _CONVERSIONS,
    _NEWLINE,
    NEWEST_GRAMMAR,
    ParseNotes,
    RewriteKind,
    SyntaxRewrite,
    TypeParameter,
    TypeParameterKind,
    _Collected,
    _decode_literal,
    _Edit,
    _finish,
    _locate,
    _merge_constants,
    _parenthesize,
    _parse_embedded_expression,
    _parses_on_this_python,
    _Placeholder,
    _plain_string,
    _templatelib,
)

_CODEGEN_MODULE = cst.Module(body=[])


def describe_type_parameter_list(text: str, owner: str, owner_line: int) -> list[TypeParameter]:
    """The parameters of a ``[T: bound = default, *Ts, **P]`` list found by the fast tier."""
    statement = cst.parse_statement(f"class _{text}: pass")
    if not isinstance(statement, cst.ClassDef) or statement.type_parameters is None:
        raise SyntaxError(f"unreadable type parameters {text[:60]!r}")
    return _describe_type_parameters(statement.type_parameters, owner, owner_line)


class _SourceIndex:
    """Converts libcst (line, character column) positions to offsets and byte columns."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.line_starts = [0] + [match.end() for match in _NEWLINE.finditer(source)]

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[line - 1] + column

    def byte_column(self, line: int, column: int) -> int:
        start = self.line_starts[line - 1]
        return len(self.source[start : start + column].encode("utf-8"))


class _RewriteCollector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: cst.Module, index: _SourceIndex, filename: str) -> None:
        super().__init__()
        self.module = module
        self.index = index
        self.filename = filename
        self.collected = _Collected()

    # positions -------------------------------------------------------------------------------
    def _range(self, node: cst.CSTNode) -> CodeRange:
        return self.get_metadata(PositionProvider, node)

    def _offsets(self, node: cst.CSTNode) -> tuple[int, int]:
        code_range = self._range(node)
        return (
            self.index.offset(code_range.start.line, code_range.start.column),
            self.index.offset(code_range.end.line, code_range.end.column),
        )

    def _byte_start(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self._range(node).start
        return start.line, self.index.byte_column(start.line, start.column)

    def _note(self, kind: RewriteKind, node: cst.CSTNode, detail: str) -> None:
        line, column = self._byte_start(node)
        self.collected.rewrites.append(SyntaxRewrite(kind, line, column, detail))

    # PEP 695 type parameters and aliases -----------------------------------------------------
    def _record_type_parameters(self, parameters: cst.TypeParameters, owner: cst.Name) -> None:
        owner_line = self._range(owner).start.line
        self.collected.type_parameters.extend(
            _describe_type_parameters(parameters, owner.value, owner_line)
        )

    def _drop_type_parameters(self, parameters: cst.TypeParameters | None, owner: cst.Name) -> None:
        if parameters is None:
            return
        self._record_type_parameters(parameters, owner)
        start, end = self._offsets(parameters)
        self.collected.edits.append(_Edit(start, end, ""))
        names = ", ".join(p.param.name.value for p in parameters.params)
        self._note("type-parameters", parameters, f"{owner.value}[{names}]")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._drop_type_parameters(node.type_parameters, node.name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._drop_type_parameters(node.type_parameters, node.name)

    def visit_TypeParameters(self, node: cst.TypeParameters) -> bool:
        return False  # the whole list is blanked out: nothing inside needs a rewrite

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        start, _ = self._offsets(node)
        head_end = self._offsets(node.type_parameters or node.name)[1]
        self.collected.edits.append(_Edit(start, head_end, node.name.value))
        if node.type_parameters is not None:
            self._record_type_parameters(node.type_parameters, node.name)
        self._note("type-alias", node, f"type {node.name.value} = ... became an assignment")

    # PEP 758 unparenthesized exception groups ------------------------------------------------
    def _parenthesize_handler_types(
        self, handler: cst.ExceptHandler | cst.ExceptStarHandler
    ) -> None:
        types = handler.type
        if not isinstance(types, cst.Tuple) or types.lpar:
            return
        start, end = self._offsets(types)
        for edit_start, edit_end, replacement in _parenthesize(self.index.source, start, end):
            self.collected.edits.append(_Edit(edit_start, edit_end, replacement))
        self._note("except-group", types, f"except {self.module.code_for_node(types)}:")

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._parenthesize_handler_types(node)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._parenthesize_handler_types(node)

    # PEP 701 f-strings and PEP 750 t-strings -------------------------------------------------
    def visit_ConcatenatedString(self, node: cst.ConcatenatedString) -> bool:
        self._replace_string_if_needed(node)
        return False  # nested strings are handled when the expressions are parsed

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        self._replace_string_if_needed(node)
        return False

    def visit_TemplatedString(self, node: cst.TemplatedString) -> bool:
        self._replace_string_if_needed(node)
        return False

    def _replace_string_if_needed(
        self, node: cst.ConcatenatedString | cst.FormattedString | cst.TemplatedString
    ) -> None:
        parts = list(_string_parts(node))
        if not any(isinstance(p, cst.FormattedString | cst.TemplatedString) for p in parts):
            return
        start, end = self._offsets(node)
        if _parses_on_this_python(self.index.source[start:end]):
            return
        code_range = self._range(node)
        line, column = self._byte_start(node)
        end_line = code_range.end.line
        end_column = self.index.byte_column(end_line, code_range.end.column)
        kind: RewriteKind = "f-string"
        try:
            if any(isinstance(part, cst.TemplatedString) for part in parts):
                built, kind = self._template_call(parts), "t-string"
            else:
                built = self._joined_str(parts)
        except SyntaxError as error:
            if error.lineno is None:  # raised about the literal text: point at the string
                raise SyntaxError(error.msg, (self.filename, line, column + 1, None)) from None
            raise
        _locate(built, line, column, end_line, end_column)
        name = f"_{len(self.collected.placeholders)}"
        self.collected.placeholders.append(_Placeholder(name, line, column, built))
        self.collected.edits.append(_Edit(start, end, name))
        self._note(kind, node, "rebuilt from the Python 3.14 grammar")

    def _expression(self, expression: cst.BaseExpression) -> ast.expr:
        start, end = self._offsets(expression)
        line, column = self._byte_start(expression)
        return _parse_embedded_expression(self.index.source[start:end], line, column, self.filename)

    def _debug_text(
        self, part: cst.FormattedStringExpression | cst.TemplatedStringExpression
    ) -> str:
        """Text that ``f"{x = }"`` prints before the value: the field's source up to the '='."""
        if part.equal is None:
            return ""
        code = self.module.code_for_node
        return (
            code(part.whitespace_before_expression)
            + code(part.expression)
            + code(part.whitespace_after_expression)
            + code(part.equal)
        )

    def _formatted_value(
        self, part: cst.FormattedStringExpression | cst.TemplatedStringExpression, raw: bool
    ) -> ast.FormattedValue:
        conversion = part.conversion
        if part.equal is not None and conversion is None and part.format_spec is None:
            conversion = "r"  # f"{x=}" shows repr unless a conversion or spec is given
        format_spec = (
            ast.JoinedStr(values=self._field_values(part.format_spec, raw))
            if part.format_spec is not None
            else None
        )
        return ast.FormattedValue(
            value=self._expression(part.expression),
            conversion=_CONVERSIONS[conversion],
            format_spec=format_spec,
        )

    def _field_values(
        self,
        parts: Sequence[cst.BaseFormattedStringContent | cst.BaseTemplatedStringContent],
        raw: bool,
    ) -> list[ast.expr]:
        values: list[ast.expr] = []
        for part in parts:
            if isinstance(part, cst.FormattedStringText | cst.TemplatedStringText):
                values.append(ast.Constant(value=_decode_literal(part.value, raw)))
            elif isinstance(part, cst.FormattedStringExpression | cst.TemplatedStringExpression):
                debug_text = self._debug_text(part)
                if debug_text:
                    values.append(ast.Constant(value=debug_text))
                values.append(self._formatted_value(part, raw))
        return _merge_constants(values)

    def _joined_str(self, parts: Sequence[cst.BaseString]) -> ast.expr:
        values: list[ast.expr] = []
        for part in parts:
            if isinstance(part, cst.SimpleString):
                values.append(ast.Constant(value=ast.literal_eval(part.value)))
            elif isinstance(part, cst.FormattedString):
                values.extend(self._field_values(part.parts, "r" in part.prefix.lower()))
        merged = _merge_constants(values)
        if len(merged) == 1 and isinstance(merged[0], ast.Constant):
            return merged[0]
        return ast.JoinedStr(values=merged)

    def _template_call(self, parts: Sequence[cst.BaseString]) -> ast.expr:
        """``t"a{x!r:>4}"`` evaluates to ``Template("a", Interpolation(x, "x", "r", ">4"))``."""
        arguments: list[ast.expr] = []
        for part in parts:
            if isinstance(part, cst.SimpleString):
                arguments.append(ast.Constant(value=ast.literal_eval(part.value)))
                continue
            if not isinstance(part, cst.TemplatedString):
                raise SyntaxError("cannot concatenate a t-string with an f-string")
            raw = "r" in part.prefix.lower()
            for content in part.parts:
                if isinstance(content, cst.TemplatedStringText):
                    arguments.append(ast.Constant(value=_decode_literal(content.value, raw)))
                    continue
                if not isinstance(content, cst.TemplatedStringExpression):
                    continue
                debug_text = self._debug_text(content)
                if debug_text:
                    arguments.append(ast.Constant(value=debug_text))
                field_value = self._formatted_value(content, raw)
                spec = _plain_string(field_value.format_spec)
                conversion = chr(field_value.conversion) if field_value.conversion >= 0 else None
                interpolation = ast.Call(
                    func=_templatelib("Interpolation"),
                    args=[
                        field_value.value,
                        ast.Constant(value=self.module.code_for_node(content.expression)),
                        ast.Constant(value=conversion),
                        spec,
                    ],
                    keywords=[],
                )
                arguments.append(interpolation)
        return ast.Call(func=_templatelib("Template"), args=arguments, keywords=[])


def _string_parts(node: cst.BaseExpression) -> list[cst.BaseString]:
    if isinstance(node, cst.ConcatenatedString):
        return _string_parts(node.left) + _string_parts(node.right)
    if isinstance(node, cst.BaseString):
        return [node]
    return []


def _describe_type_parameters(
    parameters: cst.TypeParameters, owner: str, owner_line: int
) -> list[TypeParameter]:
    described: list[TypeParameter] = []
    code = _CODEGEN_MODULE.code_for_node
    for type_param in parameters.params:
        param = type_param.param
        kind: TypeParameterKind
        bound: str | None = None
        if isinstance(param, cst.TypeVar):
            kind = "TypeVar"
            if param.bound is not None:
                bound = code(param.bound)
        elif isinstance(param, cst.TypeVarTuple):
            kind = "TypeVarTuple"
        else:
            kind = "ParamSpec"
        default = (
            type_param.star + code(type_param.default)  # "*" of ``*Ts = *tuple[int]``
            if type_param.default is not None
            else None
        )
        described.append(TypeParameter(param.name.value, kind, bound, default, owner, owner_line))
    return described


_LIBCST_ERROR_POSITION = re.compile(r"error at (\d+):(\d+)")


def _libcst_error(error: Exception, filename: str) -> SyntaxError:
    detail = getattr(error, "message", None)
    message = detail if isinstance(detail, str) and detail else type(error).__name__
    # The native parser's "error at LINE:COLUMN" is where it failed; raw_line is not always.
    position = _LIBCST_ERROR_POSITION.search(message)
    line: int | None = int(position.group(1)) if position else None
    column: int | None = int(position.group(2)) if position else None
    if line is None and isinstance(getattr(error, "raw_line", None), int):
        line, column = error.raw_line, error.raw_column + 1  # type: ignore[attr-defined]
    message = _LIBCST_ERROR_POSITION.sub("", message).replace("parser error: :", "").strip()
    return SyntaxError(
        f"invalid syntax for Python {NEWEST_GRAMMAR} too: {message}",
        (filename, line, column, None),
    )


def _check_round_trip(module: cst.Module, source: str, filename: str) -> None:
    """libcst's positions are only right when its tree reproduces the source exactly."""
    code = module.code
    if code == source:
        return
    differs_at = next(
        (i for i, (ours, theirs) in enumerate(zip(code, source, strict=False)) if ours != theirs),
        min(len(code), len(source)),
    )
    line = source.count("\n", 0, differs_at) + 1
    raise SyntaxError(
        f"libcst cannot reproduce this source exactly (Python {NEWEST_GRAMMAR} grammar)",
        (filename, line, None, None),
    )


def rewrite_with_libcst(
    source: str, filename: str, first_error: SyntaxError
) -> tuple[ast.Module, ParseNotes]:
    try:
        module = cst.parse_module(
            source, config=cst.PartialParserConfig(python_version=NEWEST_GRAMMAR)
        )
    except Exception as error:  # libcst raises ParserSyntaxError and, rarely, CSTLogicError
        newer_error = _libcst_error(error, filename)
        # The file is invalid in every grammar from the later of the two errors on; when
        # Python 3.11 stopped there or later, its message is the more precise one.
        if (newer_error.lineno or 0) <= (first_error.lineno or 0):
            raise first_error from None
        raise newer_error from None
    _check_round_trip(module, source, filename)
    collector = _RewriteCollector(module, _SourceIndex(source), filename)
    MetadataWrapper(module, unsafe_skip_copy=True).visit(collector)
    if not collector.collected.edits:
        # Nothing of the newer grammar here: the file is broken for a reason 3.11 reports well.
        raise first_error
    return _finish(source, filename, collector.collected)
