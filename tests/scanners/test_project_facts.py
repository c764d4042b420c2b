"""The per-file fact extractor hook: values reach the summary, failures are recorded, not fatal."""

from __future__ import annotations

import ast
from collections.abc import Iterator

import pytest

from scanners.project.extract import summarize_module
from scanners.project.facts import FACT_EXTRACTORS, fact_extractor, load_fact_extractors
from scanners.project.summary import ModuleSummary

SOURCE = "class User:\n    name: str\n\n\ndef handler():\n    return 1\n"


@pytest.fixture
def temporary_extractors() -> Iterator[None]:
    load_fact_extractors()
    before = dict(FACT_EXTRACTORS)
    yield
    FACT_EXTRACTORS.clear()
    FACT_EXTRACTORS.update(before)


def summarize(source: str) -> ModuleSummary:
    return summarize_module(ast.parse(source), "app/m.py", "app.m", False, source.count("\n"))


@pytest.mark.usefixtures("temporary_extractors")
def test_extractor_value_is_stored_and_none_is_not() -> None:
    @fact_extractor("test-class-names")
    def class_names(tree: ast.Module, summary: ModuleSummary) -> tuple[str, ...]:
        return tuple(node.name for node in tree.body if isinstance(node, ast.ClassDef))

    @fact_extractor("test-nothing")
    def nothing(tree: ast.Module, summary: ModuleSummary) -> None:
        return None

    summary = summarize(SOURCE)
    assert summary.facts["test-class-names"] == ("User",)
    assert "test-nothing" not in summary.facts
    assert summary.functions["handler"].line == 5  # the ordinary summary is still built


@pytest.mark.usefixtures("temporary_extractors")
def test_failing_extractor_is_recorded_and_others_still_run() -> None:
    @fact_extractor("test-broken")
    def broken(tree: ast.Module, summary: ModuleSummary) -> int:
        raise KeyError("surprise")

    @fact_extractor("test-count")
    def count(tree: ast.Module, summary: ModuleSummary) -> int:
        return len(tree.body)

    summary = summarize(SOURCE)
    assert summary.facts_errors["test-broken"] == "KeyError: 'surprise'"
    assert summary.facts["test-count"] == 2


@pytest.mark.usefixtures("temporary_extractors")
def test_same_kind_from_two_modules_is_refused() -> None:
    @fact_extractor("test-dup")
    def first(tree: ast.Module, summary: ModuleSummary) -> int:
        return 1

    def second(tree: ast.Module, summary: ModuleSummary) -> int:
        return 2

    second.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match="registered twice"):
        fact_extractor("test-dup")(second)
