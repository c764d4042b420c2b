"""The bundled sample (``samples/inventory_service``) holds what its comments say it holds.

Planted lines carry ``# planted: CATEGORY``; look-alikes that must not be reported carry
``# not a finding``. The engine grows category by category, so these tests check the planted
categories the engine covers today and that no correct look-alike is ever reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanners.api import scan
from scanners.catalog import CATEGORIES
from scanners.findings import Finding, ScanOptions

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "inventory_service"
PLANTED = re.compile(r"#\s*planted:\s*([A-Z][A-Z0-9-]+)")


def marked_lines(pattern: re.Pattern[str] | str) -> dict[tuple[str, int], str]:
    """(path, line) -> the marker's text, for every file of the sample."""
    marked: dict[tuple[str, int], str] = {}
    for file in sorted(SAMPLE.rglob("*")):
        if file.suffix not in (".py", ".txt"):
            continue
        for number, line in enumerate(file.read_text().splitlines(), start=1):
            match = re.search(pattern, line)
            if match:
                marked[(file.relative_to(SAMPLE).as_posix(), number)] = match.group(
                    match.lastindex or 0
                )
    return marked


@pytest.fixture(scope="module")
def sample_findings() -> list[Finding]:
    return scan(SAMPLE, ScanOptions()).findings


def test_every_planted_category_is_in_the_catalog() -> None:
    planted = set(marked_lines(PLANTED).values())
    assert planted <= set(CATEGORIES)
    # The issue asks for these in the sample; keep them there.
    assert {
        "ASYNC-BLOCKING-HTTP",
        "ASYNC-BLOCKING-SLEEP",
        "ASYNC-BLOCKING-FILE",
        "ASYNC-BLOCKING-DB",
        "ASYNC-MISSING-AWAIT",
        "ASYNC-DEPRECATED-ON-EVENT",
        "PYD-ANY-FIELD",
        "SEC-HARDCODED-SECRET",
        "SEC-CORS-WILDCARD-CREDENTIALS",
    } <= planted


def test_planted_sleep_in_async_route_is_reported(sample_findings: list[Finding]) -> None:
    sleeps = {
        (finding.path, finding.start_line, finding.enclosing)
        for finding in sample_findings
        if finding.category == "ASYNC-BLOCKING-SLEEP"
    }
    assert ("inventory/routers/items.py", 40, "restock") in sleeps
    planted = {
        key for key, value in marked_lines(PLANTED).items() if value == "ASYNC-BLOCKING-SLEEP"
    }
    assert planted == {("inventory/routers/items.py", 40)}


def test_def_route_look_alikes_are_not_reported(sample_findings: list[Finding]) -> None:
    look_alikes = set(marked_lines(r"#\s*not a finding"))
    assert len(look_alikes) == 3
    reported = {(finding.path, finding.start_line) for finding in sample_findings}
    assert reported.isdisjoint(look_alikes)
