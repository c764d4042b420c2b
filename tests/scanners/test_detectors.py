"""Detector fixtures: `# ruleid: <rule-id>` / `# ok: <rule-id>` on the line before each case.

Each folder under fixtures/detectors is a small multi-file project scanned as a whole (the
analyses are cross-module); what the detectors report must equal the `ruleid` annotations.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanners import scan
from scanners.catalog import CATEGORIES
from scanners.detectors.registry import DOC_SECTIONS, load_detectors, rules_markdown, run_detectors
from scanners.findings import ScanOptions
from scanners.project.build import build_project

FIXTURES = Path(__file__).parent / "fixtures" / "detectors"
ANNOTATION = re.compile(r"#\s*(ruleid|ok):\s*([\w-]+)")
PROJECTS = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def annotations(root: Path) -> tuple[set[tuple[str, int, str]], set[tuple[str, int, str]]]:
    expected: set[tuple[str, int, str]] = set()
    ok: set[tuple[str, int, str]] = set()
    files = [f for f in root.rglob("*") if f.is_file() and _annotated_kind(f.name)]
    for file in sorted(files):
        rel = file.relative_to(root).as_posix()
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            # Several rules on one line: `# ruleid: a  # ruleid: b`.
            for match in ANNOTATION.finditer(line):
                kind = expected if match.group(1) == "ruleid" else ok
                kind.add((rel, number + 1, match.group(2)))
    return expected, ok


def _annotated_kind(name: str) -> bool:
    """Python sources, and the dependency manifests the DEP-* checks read (`#` comments too)."""
    return name.endswith((".py", ".txt", ".toml", ".in")) or name == "Pipfile"


@pytest.mark.parametrize("project_name", PROJECTS)
def test_detectors_report_exactly_the_annotated_lines(project_name: str) -> None:
    root = FIXTURES / project_name
    expected, ok = annotations(root)
    project = build_project(root, ScanOptions(jobs=1)).project
    findings, failures = run_detectors(project)
    assert failures == []
    reported = {(f.path, f.start_line, f.rule_id) for f in findings}
    assert reported - expected == set(), "reported but not annotated"
    assert expected - reported == set(), "annotated but not reported"
    assert reported & ok == set()


def test_every_detector_has_docs_a_catalog_category_and_fixture_cases() -> None:
    detectors = load_detectors()
    annotated: set[str] = set()
    for name in PROJECTS:
        expected, ok = annotations(FIXTURES / name)
        annotated.update(rule for _path, _line, rule in expected | ok)
    assert len(detectors) >= 10
    for rule_id, detector in detectors.items():
        assert detector.category in CATEGORIES
        for section in DOC_SECTIONS:
            assert f"## {section}" in detector.doc, f"{rule_id} lacks '{section}'"
        assert rule_id in annotated, f"{rule_id} has no fixture case"


def test_blocking_finding_carries_reach_witness_remediation_and_snippet() -> None:
    root = FIXTURES / "blocking_service"
    project = build_project(root, ScanOptions(jobs=1)).project
    findings, _ = run_detectors(project, only=["blocking-http-in-async"])
    charge = next(f for f in findings if f.path == "app/services/payments.py")
    assert charge.category == "ASYNC-BLOCKING-HTTP"
    assert charge.reach == ("POST /api/items/orders",)
    assert charge.enclosing == "charge"
    assert charge.snippet.strip().startswith("resp = rq.post(")
    assert "httpx.AsyncClient" in charge.remediation
    assert [step.function for step in charge.witness] == [
        "app.routers.items.create_order",
        "app.services.payments.charge",
    ]
    assert charge.witness[0].note == "POST /api/items/orders"
    assert charge.witness[0].line == 27  # the call of charge_card() in the route
    assert charge.witness[-1].line == charge.start_line
    assert "create_order -> charge" in charge.message


def test_scan_returns_ranked_fingerprinted_findings_with_stats_and_progress() -> None:
    stages: list[tuple[str, float]] = []
    result = scan(
        FIXTURES / "async_service",
        ScanOptions(semgrep=False, jobs=1, progress=lambda stage, pct: stages.append((stage, pct))),
    )
    assert result.skipped == []
    assert result.stats["files"] == 7
    assert result.stats["routes"] == 3
    assert result.stats["findings"] == len(result.findings) == 19
    assert {"discover", "parse", "link", "detectors", "total"} <= set(result.timings)
    assert stages[-1] == ("done", 100.0)
    radii = [f.blast_radius for f in result.findings]
    assert radii == sorted(radii, reverse=True)
    top = result.findings[0]
    assert top.category == "ASYNC-MISSING-AWAIT"
    assert top.blast_explanation == "high severity; reached from 2 routes"
    assert all(len(f.fingerprint) == 64 for f in result.findings)
    assert len({f.fingerprint for f in result.findings}) == len(result.findings)


def test_rule_docs_page_is_generated_from_every_docstring() -> None:
    page = rules_markdown()
    for rule_id, detector in load_detectors().items():
        assert f"## {rule_id}\n" in page
        assert f"Category `{detector.category}`" in page
    assert "### Use instead" in page
    assert "await asyncio.sleep(0.5)" in page
