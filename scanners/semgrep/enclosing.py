"""The enclosing function/class of a line, qualified within its module ("Cls.method.inner").

Semgrep reports a location only; fingerprints hash the enclosing scope too, so a Semgrep finding
and the engine's finding at the same place get the same identity. Qualified names follow the
project model's convention: class and function names joined by dots.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass

from scanners.parsing import parse_python

_Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    qualname: str


class EnclosingIndex:
    """Answers "which scope holds line N" for one file; an unparsable file has no scopes."""

    def __init__(self, spans: list[_Span]) -> None:
        # Outer scopes start before (or with) their inner ones; sorting by (start, -end) keeps
        # that order, so the last span containing a line is the innermost.
        self._spans = sorted(spans, key=lambda s: (s.start, -s.end))
        self._starts = [span.start for span in self._spans]

    @classmethod
    def from_source(cls, source: str, filename: str = "<semgrep target>") -> EnclosingIndex:
        try:
            tree = parse_python(source, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return cls([])
        spans: list[_Span] = []
        cls._collect(tree, "", spans)
        return cls(spans)

    @staticmethod
    def _collect(node: ast.AST, prefix: str, spans: list[_Span]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _Scope):
                qualname = prefix + child.name
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans.append(_Span(start, child.end_lineno or child.lineno, qualname))
                EnclosingIndex._collect(child, qualname + ".", spans)
            else:
                EnclosingIndex._collect(child, prefix, spans)

    def qualname_at(self, line: int) -> str:
        """The innermost scope containing ``line``; "" at module level."""
        for index in range(bisect.bisect_right(self._starts, line) - 1, -1, -1):
            span = self._spans[index]
            if span.start <= line <= span.end:
                return span.qualname
        return ""
