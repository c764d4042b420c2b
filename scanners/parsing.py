"""Parse Python source into the standard ``ast`` of the running interpreter."""

from __future__ import annotations

import ast


def parse_python(source: str, filename: str = "<unknown>") -> ast.Module:
    """Parse ``source`` into an ``ast.Module``; raises ``SyntaxError`` when it does not parse."""
    return ast.parse(source, filename=filename)
