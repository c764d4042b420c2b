from __future__ import annotations

from scanners.catalog import Severity
from scanners.findings import Finding, WitnessStep
from scanners.merge import ALSO_REPORTED_BY, merge_findings


def make(
    rule_id: str,
    category: str,
    line: int,
    *,
    source: str,
    path: str = "app/api.py",
    column: int = 5,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        category=category,
        severity=Severity.HIGH,
        title=rule_id,
        message=f"{rule_id} at {line}",
        path=path,
        start_line=line,
        start_col=column,
        source=source,
    )


def test_merge_same_category_and_line_keeps_engine_finding_with_its_reach() -> None:
    engine = make("blocking-http-in-async", "ASYNC-BLOCKING-HTTP", 12, source="engine")
    engine.reach = ("GET /rates",)
    engine.witness = (WitnessStep("app/api.py", 10, "app.api.rates", "GET /rates"),)
    semgrep = make("blocking-http-in-async", "ASYNC-BLOCKING-HTTP", 12, source="semgrep", column=9)

    merged = merge_findings([engine], [semgrep])

    assert merged == [engine]
    assert merged[0].reach == ("GET /rates",)
    assert merged[0].properties[ALSO_REPORTED_BY] == ["semgrep:blocking-http-in-async"]


def test_merge_keeps_findings_on_other_lines_categories_and_files() -> None:
    engine = make("blocking-http-in-async", "ASYNC-BLOCKING-HTTP", 12, source="engine")
    next_line = make("blocking-http-in-async", "ASYNC-BLOCKING-HTTP", 13, source="semgrep")
    other_category = make("hardcoded-secret", "SEC-HARDCODED-SECRET", 12, source="semgrep")
    other_file = make(
        "blocking-http-in-async", "ASYNC-BLOCKING-HTTP", 12, source="semgrep", path="app/other.py"
    )

    merged = merge_findings([engine], [next_line, other_category, other_file])

    assert [(f.path, f.start_line, f.category, f.source) for f in merged] == [
        ("app/api.py", 12, "ASYNC-BLOCKING-HTTP", "engine"),
        ("app/api.py", 12, "SEC-HARDCODED-SECRET", "semgrep"),
        ("app/api.py", 13, "ASYNC-BLOCKING-HTTP", "semgrep"),
        ("app/other.py", 12, "ASYNC-BLOCKING-HTTP", "semgrep"),
    ]
    assert ALSO_REPORTED_BY not in engine.properties


def test_merge_collapses_two_semgrep_rules_on_one_location() -> None:
    first = make("pydantic-v1-methods", "PYD-V1-API", 30, source="semgrep", column=10)
    second = make("pydantic-v1-orm-mode", "PYD-V1-API", 30, source="semgrep", column=20)

    merged = merge_findings([], [second, first])

    assert merged == [first]
    assert first.properties[ALSO_REPORTED_BY] == ["semgrep:pydantic-v1-orm-mode"]


def test_merge_keeps_engine_duplicates_and_lists_each_absorbed_rule_once() -> None:
    one = make("blocking-file-io-in-async", "ASYNC-BLOCKING-FILE", 7, source="engine", column=5)
    two = make("blocking-file-io-in-async", "ASYNC-BLOCKING-FILE", 7, source="engine", column=30)
    semgrep = make("blocking-file-in-async", "ASYNC-BLOCKING-FILE", 7, source="semgrep")

    merged = merge_findings([one, two], [semgrep, semgrep])

    assert merged == [one, two]
    assert one.properties[ALSO_REPORTED_BY] == ["semgrep:blocking-file-in-async"]
    assert ALSO_REPORTED_BY not in two.properties
