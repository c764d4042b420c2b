"""The detector registry: every check registers itself with a decorator (as Bandit's plugins do).

A detector is a function ``(project: Project) -> Iterable[Finding]`` that reads the shared
project model and never re-parses files. Its docstring has the sections *What it does*,
*Why is this bad?*, *Example* and *Use instead* (ruff style); the rule docs are generated from it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scanners.catalog import Severity, category
from scanners.findings import Finding
from scanners.project.model import Project

DetectorFunction = Callable[[Project], Iterable[Finding]]
DOC_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")


@dataclass(frozen=True)
class Detector:
    rule_id: str  # named after the bad pattern: "blocking-http-in-async"
    category: str  # catalog id
    severity: Severity
    confidence: str  # high / medium / low
    run: DetectorFunction
    module: str

    @property
    def doc(self) -> str:
        return self.run.__doc__ or ""


REGISTRY: dict[str, Detector] = {}


def detector(
    rule_id: str, category_id: str, *, severity: Severity | None = None, confidence: str = "high"
) -> Callable[[DetectorFunction], DetectorFunction]:
    """Register a detector. ``severity`` defaults to the catalog category's."""
    entry = category(category_id)

    def register(function: DetectorFunction) -> DetectorFunction:
        if rule_id in REGISTRY and REGISTRY[rule_id].module != function.__module__:
            raise ValueError(f"detector rule id {rule_id!r} registered twice")
        REGISTRY[rule_id] = Detector(
            rule_id, entry.id, severity or entry.severity, confidence, function, function.__module__
        )
        return function

    return register


def load_detectors() -> dict[str, Detector]:
    """Import every module under ``scanners.detectors`` so each registers itself."""
    import scanners.detectors as package  # noqa: PLC0415 - the package imports this module

    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
    return REGISTRY


@dataclass(frozen=True)
class DetectorFailure:
    rule_id: str
    error: str


def run_detectors(
    project: Project, only: Iterable[str] | None = None
) -> tuple[list[Finding], list[DetectorFailure]]:
    """Run every registered detector (or the ``only`` rule ids). A failing detector is recorded,
    never fatal."""
    detectors = load_detectors()
    wanted = set(only) if only is not None else None
    findings: list[Finding] = []
    failures: list[DetectorFailure] = []
    for rule_id in sorted(detectors):
        if wanted is not None and rule_id not in wanted:
            continue
        try:
            findings.extend(detectors[rule_id].run(project))
        except Exception as exc:  # one broken check must not fail the scan
            failures.append(DetectorFailure(rule_id, f"{type(exc).__name__}: {exc}"))
    return findings, failures


def rules_markdown() -> str:
    """The rule reference page, generated from the detectors' docstrings (as ruff does)."""
    detectors = load_detectors()
    parts = ["# Engine rules", ""]
    for rule_id in sorted(detectors, key=lambda r: (detectors[r].category, r)):
        entry = detectors[rule_id]
        summary, _, body = inspect.cleandoc(entry.doc).partition("\n")
        parts += [
            f"## {rule_id}",
            "",
            f"Category `{entry.category}`, severity {entry.severity.label}, "
            f"confidence {entry.confidence}. {summary.strip()}",
            "",
            body.strip().replace("## ", "### "),
            "",
        ]
    return "\n".join(parts)
