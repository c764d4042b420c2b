"""SARIF import: results, rule mapping onto catalog categories, URI bases."""

from __future__ import annotations

import pytest

from scanners.ingest import sarif_import
from scanners.ingest.errors import ArtifactParseError
from tests.scanners.ingest.conftest import sample


def _parse(relative: str) -> sarif_import.SarifLog:
    with sample(relative).open("rb") as handle:
        return sarif_import.parse(handle)


def test_sarif_one_ruff_result() -> None:
    (result,) = _parse("sarif/one.sarif").results
    assert (result.tool, result.rule_id, result.level) == ("ruff", "ASYNC251", "error")
    assert (result.uri, result.line, result.column, result.end_column) == (
        "/home/ci/work/demoapp/services.py",
        5,
        5,
        21,
    )
    assert result.catalog_category == "ASYNC-BLOCKING-SLEEP"


def test_sarif_many_runs_and_mapping() -> None:
    log = _parse("sarif/many.sarif")
    assert log.tools == ["ruff", "bandit"]
    assert [
        (r.tool, r.rule_id, r.uri.rsplit("work/", 1)[-1], r.line, r.catalog_category)
        for r in log.results
    ] == [
        ("ruff", "ASYNC251", "demoapp/routes.py", 21, "ASYNC-BLOCKING-SLEEP"),
        ("ruff", "PLR2004", "demoapp/routes.py", 30, ""),
        ("ruff", "ASYNC251", "vendor/legacy.py", 3, "ASYNC-BLOCKING-SLEEP"),
        ("bandit", "B608", "demoapp/typed.py", 10, "DB-SQL-INJECTION"),
        ("bandit", "B311", "demoapp/services.py", 4, ""),
    ]
    assert log.results[3].snippet == '    return "items: " + count'
    assert log.results[3].rule_name == "hardcoded_sql_expressions"
    assert log.skipped == 1
    assert log.summary()["mapped_to_catalog"] == 3


def test_sarif_semgrep_and_type_checker_rules() -> None:
    semgrep = sarif_import.ImportedResult(
        "semgrep",
        "python.sqlalchemy.security.sqlalchemy-execute-raw-query",
        "error",
        "m",
        "a.py",
        1,
        1,
        1,
        0,
    )
    assert semgrep.catalog_category == "DB-SQL-INJECTION"
    mypy = sarif_import.ImportedResult("mypy", "arg-type", "error", "m", "a.py", 1, 1, 1, 0)
    assert mypy.catalog_category == "TYPE-CHECK"


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("sarif/empty.sarif", "empty file: no SARIF document"),
        ("sarif/malformed.sarif", "not valid JSON"),
        ("pyright/one.json", "not a SARIF log: no 'runs' list"),
    ],
)
def test_sarif_bad_input(relative: str, message: str) -> None:
    with pytest.raises(ArtifactParseError, match=message):
        _parse(relative)
