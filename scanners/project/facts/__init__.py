"""Per-file fact extractors: analyses that need the AST beyond what ``ModuleSummary`` keeps.

The summary is deliberately small (ASTs never leave the worker processes). A detector that needs
more of a file -- the fields of a Pydantic model with their ``Field(...)`` arguments, which
sessions are closed in a ``finally``, which queries run inside loops -- registers an extractor
here. Extractors run in the worker right after ``summarize_module``, get the parsed module and its
summary, and return a small picklable value (dataclasses, tuples, dicts of plain values) or
``None`` when the file has nothing of interest. Detectors read it back with
``project.facts(kind)`` (module name -> value) or ``summary.facts[kind]``.

Each extractor lives in its own module of this package (``facts/pydantic.py``,
``facts/sqlalchemy.py``, ...) and registers itself with ``@fact_extractor("kind")``; the package
is imported once per worker. An extractor that raises is recorded on the summary
(``facts_errors``) and never fails the file or the scan. Keep them cheap: they walk every file of
every scan (see ``benchmarks/scan_benchmark.py``).
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from scanners.project.summary import ModuleSummary

FactExtractor = Callable[[ast.Module, ModuleSummary], Any]

FACT_EXTRACTORS: dict[str, FactExtractor] = {}


def fact_extractor(kind: str) -> Callable[[FactExtractor], FactExtractor]:
    """Register ``function`` as the extractor of the facts named ``kind``."""

    def register(function: FactExtractor) -> FactExtractor:
        existing = FACT_EXTRACTORS.get(kind)
        if existing is not None and existing.__module__ != function.__module__:
            raise ValueError(f"fact extractor {kind!r} registered twice")
        FACT_EXTRACTORS[kind] = function
        return function

    return register


@functools.cache
def _import_extractor_modules() -> None:
    for module in pkgutil.iter_modules(__path__, __name__ + "."):
        importlib.import_module(module.name)


def load_fact_extractors() -> dict[str, FactExtractor]:
    """Import every module of this package so each registers itself (once per process)."""
    _import_extractor_modules()
    return FACT_EXTRACTORS


def extract_facts(tree: ast.Module, summary: ModuleSummary) -> None:
    """Run every extractor on one parsed file and store what they return on ``summary``."""
    for kind, extractor in load_fact_extractors().items():
        try:
            value = extractor(tree, summary)
        except RecursionError:
            summary.facts_errors[kind] = "too deeply nested to analyse"
            continue
        except Exception as exc:  # one analysis must not cost the whole file
            summary.facts_errors[kind] = f"{type(exc).__name__}: {exc}"
            continue
        if value is not None:
            summary.facts[kind] = value
