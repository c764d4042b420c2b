"""The rule pack: metadata every rule needs, annotated test files, and Semgrep's own rule tests."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from scanners.catalog import CATEGORIES
from scanners.semgrep.pack import PackRule, RulePackError, load_rule_pack
from scanners.semgrep.runner import RULES_DIR, semgrep_environment
from tests.scanners.test_semgrep_runner import semgrep_or_skip

RULES = load_rule_pack()
# Rules about code "on the event loop" must prove the decorated-function trap is handled.
ASYNC_SCOPED = {rule.rule_id for rule in RULES if rule.rule_id.endswith("-in-async")}
_ROUTE_DECORATOR = r"^@\w+\.(?:get|post|put|patch|delete)\((?:[^()]|\([^()]*\))*\)\n(?:[@#].*\n)*"
DECORATED_ASYNC = re.compile(_ROUTE_DECORATOR + "async def ", re.MULTILINE)
DECORATED_SYNC = re.compile(_ROUTE_DECORATOR + "def ", re.MULTILINE)


def test_rule_pack_covers_the_expected_rules_with_catalog_metadata() -> None:
    assert {rule.rule_id: rule.category for rule in RULES} == {
        "blocking-cpu-in-async": "ASYNC-BLOCKING-CPU",
        "blocking-db-in-async": "ASYNC-BLOCKING-DB",
        "blocking-file-in-async": "ASYNC-BLOCKING-FILE",
        "blocking-http-in-async": "ASYNC-BLOCKING-HTTP",
        "blocking-sleep-in-async": "ASYNC-BLOCKING-SLEEP",
        "blocking-subprocess-in-async": "ASYNC-BLOCKING-SUBPROCESS",
        "deprecated-on-event": "ASYNC-DEPRECATED-ON-EVENT",
        "sql-built-from-strings": "DB-SQL-INJECTION",
        "pydantic-v1-config-class": "PYD-V1-API",
        "pydantic-v1-methods": "PYD-V1-API",
        "pydantic-v1-orm-mode": "PYD-V1-API",
        "pydantic-v1-validator": "PYD-V1-API",
        "cors-wildcard-credentials": "SEC-CORS-WILDCARD-CREDENTIALS",
        "hardcoded-secret": "SEC-HARDCODED-SECRET",
        "secret-compared-with-eq": "SEC-HARDCODED-SECRET",
    }


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.rule_id)
def test_rule_has_metadata_and_an_annotated_test_file(rule: PackRule) -> None:
    assert rule.yaml_path.stem == rule.rule_id
    assert rule.severity == CATEGORIES[rule.category].severity
    assert rule.confidence in {"high", "medium", "low"}
    assert rule.title and rule.remediation and rule.references
    # Blocking calls and SQL strings matter only in code the service runs.
    expected_service_only = rule.category.startswith("ASYNC-BLOCKING-") or (
        rule.category == "DB-SQL-INJECTION"
    )
    assert rule.service_code_only == expected_service_only
    source = rule.test_path.read_text(encoding="utf-8")
    assert f"# ruleid: {rule.rule_id}" in source
    assert f"# ok: {rule.rule_id}" in source
    # Every rule's tests include decorated routes of both kinds.
    assert DECORATED_ASYNC.search(source), "no decorated async route"
    assert DECORATED_SYNC.search(source), "no decorated sync route"


def test_rule_pack_loader_rejects_a_rule_without_a_catalog_category(tmp_path: Path) -> None:
    (tmp_path / "async").mkdir()
    (tmp_path / "async" / "bad.yaml").write_text(
        "rules:\n  - id: bad\n    metadata:\n"
        "      category: NOT-A-CATEGORY\n      severity: high\n",
        encoding="utf-8",
    )
    with pytest.raises(RulePackError, match="unknown category 'NOT-A-CATEGORY'"):
        load_rule_pack(tmp_path)


@pytest.mark.semgrep
def test_semgrep_rule_tests_pass() -> None:
    """Semgrep's own rule tests: every `# ruleid:` line matches, no `# ok:` line does."""
    binary = semgrep_or_skip()
    completed = subprocess.run(
        [
            binary,
            "scan",
            "--test",
            "--json",
            "--metrics=off",
            "--disable-version-check",
            "--config",
            str(RULES_DIR),
            str(RULES_DIR),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=semgrep_environment(),
        check=False,
    )
    report = json.loads(completed.stdout)
    assert report["config_with_errors"] == []
    assert report["config_missing_tests"] == []
    outcome: dict[str, tuple[bool, list[int], list[int]]] = {}
    for checks in report["results"].values():
        for rule_id, check in checks["checks"].items():
            [matches] = check["matches"].values()
            outcome[rule_id.rsplit(".", 1)[-1]] = (
                check["passed"],
                matches["expected_lines"],
                matches["reported_lines"],
            )
    assert set(outcome) == {rule.rule_id for rule in RULES}
    failed = {rule_id: lines for rule_id, (passed, *lines) in outcome.items() if not passed}
    assert failed == {}
    assert completed.returncode == 0
    # The decorated-route trap: the sleep rule reports both decorated async routes and
    # nothing in the decorated sync ones (see the annotations in its test file).
    assert outcome["blocking-sleep-in-async"][2] == [14, 34, 58, 70]
    assert {"blocking-sleep-in-async", "blocking-http-in-async"} <= ASYNC_SCOPED
