"""Mapping runtime data onto the scanned code: files, functions and routes.

- ``PathMapper``: a path from another machine (``/app/src/pkg/x.py``, or py-spy's shortened
  ``pkg/x.py``) to a file of the scanned tree by the longest common path suffix.
- ``FunctionIndex``: the innermost function around a line, and whether it is ``async def``.
- ``RouteMatcher``: a request (``GET /items/123``, Locust's ``/items/[id]`` or ``/items/{id}``,
  a full URL) to one of the route templates the engine found (``GET /api/items/{item_id}``).
"""

from __future__ import annotations

import ast
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", "site-packages", ".tox"}
_GENERIC_NAMES = {"__init__.py", "__main__.py"}  # a top-level one is rarely what a frame means


def list_python_files(root: Path) -> list[str]:
    """Posix paths, relative to ``root``, of the Python files under it (virtualenvs skipped)."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        base = Path(dirpath).relative_to(root)
        found.extend((base / name).as_posix() for name in sorted(filenames) if name.endswith(".py"))
    return found


class PathMapper:
    """Maps foreign paths onto the tree's relative paths by their longest common suffix."""

    def __init__(self, files: Iterable[str]) -> None:
        self._files = {f.replace("\\", "/").removeprefix("./") for f in files}
        self._by_name: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for rel in self._files:
            parts = tuple(rel.split("/"))
            self._by_name[parts[-1]].append(parts)
        self._cache: dict[str, str | None] = {}

    def map(self, path: str) -> str | None:
        """The tree path for ``path``, or None when no file matches it well enough."""
        cached = self._cache.get(path, "")
        if cached != "":
            return cached
        mapped = self._map(path)
        self._cache[path] = mapped
        return mapped

    def _map(self, path: str) -> str | None:
        posix = path.replace("\\", "/")
        if posix in self._files:
            return posix
        parts = tuple(p for p in posix.split("/") if p and p != ".")
        if not parts:
            return None
        best: tuple[str, ...] | None = None
        best_score = 0
        ambiguous = False
        for candidate in self._by_name.get(parts[-1], ()):
            score = _common_suffix(candidate, parts)
            full = score == len(candidate)
            # A full suffix match is evidence enough; a partial one needs a folder in common.
            weight = score * 2 + (1 if full else 0)
            if not full and score < 2:
                continue
            if full and score == 1 and parts[-1] in _GENERIC_NAMES and len(parts) > 1:
                continue  # "/elsewhere/__init__.py" says nothing about our top-level __init__.py
            if weight > best_score:
                best, best_score, ambiguous = candidate, weight, False
            elif weight == best_score:
                ambiguous = True
        if best is None or ambiguous:
            return None
        return "/".join(best)


def _common_suffix(left: Sequence[str], right: Sequence[str]) -> int:
    count = 0
    for a, b in zip(reversed(left), reversed(right), strict=False):
        if a != b:
            break
        count += 1
    return count


@dataclass(frozen=True, slots=True)
class FunctionSpan:
    path: str  # posix, relative to the scanned root
    qualname: str  # "f", "Cls.method", "f.inner"
    is_async: bool
    line: int  # the def line
    end_line: int


class FunctionIndex:
    """Function spans per file: given by the engine's project model, or read lazily with ``ast``."""

    def __init__(self, root: Path, spans: Iterable[FunctionSpan] | None = None) -> None:
        self._root = root
        self._spans: dict[str, list[FunctionSpan]] = defaultdict(list)
        self._given = spans is not None
        for span in spans or ():
            self._spans[span.path].append(span)
        self._loaded: set[str] = set(self._spans)
        self._lines: dict[str, list[str]] = {}

    def spans(self, path: str) -> list[FunctionSpan]:
        if path not in self._loaded:
            self._loaded.add(path)
            if not self._given:
                self._spans[path] = _read_spans(self._root, path)
        return self._spans.get(path, [])

    def innermost(self, path: str, line: int) -> FunctionSpan | None:
        """The deepest function whose lines contain ``line`` (decorators excluded)."""
        best: FunctionSpan | None = None
        for span in self.spans(path):
            if span.line <= line <= span.end_line and (best is None or span.line >= best.line):
                best = span
        return best

    def starting_at(self, path: str, line: int) -> FunctionSpan | None:
        """The function defined on ``line`` (asyncio reports the def line), or around it."""
        for span in self.spans(path):
            if span.line == line:
                return span
        return self.innermost(path, line)

    def by_name(self, path: str, name: str) -> FunctionSpan | None:
        cleaned = name.replace(".<locals>", "")
        for span in self.spans(path):
            if span.qualname == cleaned or span.qualname.endswith("." + cleaned):
                return span
        return None

    def source_line(self, path: str, line: int) -> str:
        lines = self._lines.get(path)
        if lines is None:
            try:
                text = (self._root / path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            lines = self._lines[path] = text.splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else ""


def _read_spans(root: Path, path: str) -> list[FunctionSpan]:
    try:
        tree = ast.parse((root / path).read_bytes(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return []
    spans: list[FunctionSpan] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = prefix + child.name
                spans.append(
                    FunctionSpan(
                        path,
                        qualname,
                        isinstance(child, ast.AsyncFunctionDef),
                        child.lineno,
                        child.end_lineno or child.lineno,
                    )
                )
                visit(child, qualname + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


# --- routes -----------------------------------------------------------------------------------

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "WEBSOCKET"}
_TEMPLATE_PARAM = re.compile(r"^\{(?P<name>[^{}:]+)(?::(?P<converter>[^{}]+))?\}$")
_NAME_PLACEHOLDER = re.compile(r"^(?:\[[^\]]+\]|\{[^}]+\}|:[A-Za-z_]\w*|<[^>]+>)$")
_URL_HOST = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]+", re.I)


@dataclass(frozen=True, slots=True)
class RouteTarget:
    """A route the engine found: method, full template (router prefixes included), handler."""

    method: str  # "GET"; "*" when any method
    template: str  # "/items/{item_id}"
    path: str = ""  # handler file, posix relative to the root ("" when unknown)
    line: int = 0  # handler def line
    function: str = ""  # handler qualname

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}" if self.method != "*" else self.template

    @classmethod
    def parse(cls, text: str) -> RouteTarget:
        """``"GET /items/{id}"`` or a bare ``"/items/{id}"`` (any method)."""
        method, _, template = text.strip().partition(" ")
        if method.upper() in _METHODS and template.strip():
            return cls(method.upper(), template.strip())
        return cls("*", text.strip())


def _split(path: str) -> list[str]:
    path = _URL_HOST.sub("", path.strip())
    path = path.split("?", 1)[0].split("#", 1)[0]
    return [segment for segment in path.split("/") if segment]


def split_request(name: str) -> tuple[str, str]:
    """``"GET /items/1"`` -> ("GET", "/items/1"); a bare path -> ("", path)."""
    method, _, rest = name.strip().partition(" ")
    if method.upper() in _METHODS and rest.strip():
        return method.upper(), rest.strip()
    return "", name.strip()


class RouteMatcher:
    def __init__(self, routes: Iterable[RouteTarget]) -> None:
        self.routes = list(routes)
        self._compiled = [(route, _split(route.template)) for route in self.routes]
        self._cache: dict[tuple[str, str], RouteTarget | None] = {}

    def match(self, method: str, name: str) -> RouteTarget | None:
        """The best route for a request; literal segments weigh more than parameters."""
        key = (method.upper(), name)
        if key not in self._cache:
            self._cache[key] = self._match(method.upper(), name)
        return self._cache[key]

    def match_request(self, request: str) -> RouteTarget | None:
        method, path = split_request(request)
        return self.match(method, path)

    def _match(self, method: str, name: str) -> RouteTarget | None:
        segments = _split(name)
        for skip in range(len(segments) + 1):
            # skip > 0: the load test ran against a mount prefix (root_path) the code lacks
            tail = segments[skip:]
            best: RouteTarget | None = None
            best_score = -1
            for route, template in self._compiled:
                if (
                    method
                    and route.method not in {"*", method}
                    and not (method == "HEAD" and route.method == "GET")
                ):
                    continue
                score = _score(template, tail)
                if score > best_score:
                    best, best_score = route, score
            if best is not None:
                return best
            if skip == 0 and not segments:
                break
        return None


def _score(template: list[str], segments: list[str]) -> int:
    """-1 when ``segments`` do not fit ``template``; else 2 per literal and 1 per parameter."""
    score = 0
    for index, part in enumerate(template):
        param = _TEMPLATE_PARAM.match(part)
        if param is not None and param.group("converter") == "path":
            return score + 1 if len(segments) > index else -1
        if index >= len(segments):
            return -1
        segment = segments[index]
        if param is not None:
            score += 1
        elif _NAME_PLACEHOLDER.match(segment) or segment != part:
            return -1
        else:
            score += 2
    return score if len(segments) == len(template) else -1
