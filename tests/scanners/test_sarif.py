from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanners.catalog import Severity
from scanners.findings import Finding, ScanResult, SkippedFile, WitnessStep
from scanners.fingerprint import assign_fingerprints
from scanners.sarif import OUR_FINGERPRINT_KEY, SRCROOT, fixes, to_sarif

SCHEMA_PATH = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

FIX = """\
--- a/app/routes/rates.py
+++ b/app/routes/rates.py
@@ -3,2 +3,3 @@
 async def rates() -> dict:
-    time.sleep(1)
+    await asyncio.sleep(1)
+    return {}
"""


def blocking_finding() -> Finding:
    return Finding(
        rule_id="blocking-sleep-in-async",
        category="ASYNC-BLOCKING-SLEEP",
        severity=Severity.HIGH,
        title="time.sleep blocks the event loop",
        message="time.sleep(1) blocks the event loop in GET /rates",
        path="app/routes/rates.py",
        start_line=4,
        start_col=5,
        end_col=18,
        enclosing="rates",
        snippet="    time.sleep(1)",
        remediation="Use `await asyncio.sleep(...)`.",
        suggested_fix=FIX,
        reach=("GET /rates", "GET /rates/{day}"),
        witness=(
            WitnessStep("app/routes/rates.py", 3, "app.routes.rates.rates", "GET /rates"),
            WitnessStep("app/routes/rates.py", 4, "app.routes.rates.rates", "time.sleep blocks"),
        ),
        blast_radius=20.7,
        blast_explanation="high severity; reached from 2 routes",
    )


def secret_finding(line: int) -> Finding:
    return Finding(
        rule_id="hardcoded-secret",
        category="SEC-HARDCODED-SECRET",
        severity=Severity.HIGH,
        title="hard-coded secret",
        message="`API_KEY` holds a literal secret",
        path="app/my settings.py",
        start_line=line,
        snippet='API_KEY = "sk_live_123456789"',
        source="semgrep",
        properties={"references": ["https://cwe.mitre.org/data/definitions/798.html"]},
        blast_radius=8.0,
    )


@pytest.fixture
def sarif(tmp_path: Path) -> dict[str, Any]:
    findings = [secret_finding(3), blocking_finding(), secret_finding(9)]
    assign_fingerprints(findings)
    result = ScanResult(
        root=tmp_path,
        findings=findings,
        skipped=[SkippedFile("app/broken.py", "syntax error at line 3: invalid syntax")],
        warnings=["semgrep: Timeout in app/huge.py"],
        stats={"files": 3, "lines": 120},
        versions={"engine": "0.2.0", "semgrep": "1.182.0"},
    )
    return to_sarif(result)


def test_sarif_output_is_valid_against_the_sarif_2_1_0_schema(sarif: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    assert sarif["version"] == "2.1.0"
    json.dumps(sarif)  # plain JSON types only


def test_sarif_rules_have_help_tags_and_security_severity_only_for_security(
    sarif: dict[str, Any],
) -> None:
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "audit-scanners"
    assert driver["version"] == "0.2.0"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert list(rules) == ["blocking-sleep-in-async", "hardcoded-secret"]  # by blast radius
    sleep = rules["blocking-sleep-in-async"]
    assert sleep["defaultConfiguration"] == {"level": "error"}
    assert "ASYNC-BLOCKING-SLEEP" in sleep["properties"]["tags"]
    assert "asyncio.sleep" in sleep["help"]["text"]
    assert "security-severity" not in sleep["properties"]
    secret = rules["hardcoded-secret"]
    assert secret["properties"]["security-severity"] == "8.0"
    assert "security" in secret["properties"]["tags"]
    assert secret["helpUri"] == "https://cwe.mitre.org/data/definitions/798.html"


def test_sarif_result_carries_location_category_reach_and_fingerprints(
    sarif: dict[str, Any], tmp_path: Path
) -> None:
    run = sarif["runs"][0]
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == tmp_path.resolve().as_uri() + "/"
    first = run["results"][0]
    assert first["ruleId"] == "blocking-sleep-in-async"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == first["ruleId"]
    assert first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "app/routes/rates.py", "uriBaseId": SRCROOT}
    assert location["region"] == {
        "startLine": 4,
        "startColumn": 5,
        "endLine": 4,
        "endColumn": 18,
        "snippet": {"text": "    time.sleep(1)"},
    }
    properties = first["properties"]
    assert properties["category"] == "ASYNC-BLOCKING-SLEEP"
    assert properties["blast_radius"] == 20.7
    assert properties["reach"] == ["GET /rates", "GET /rates/{day}"]
    assert properties["blast_explanation"] == "high severity; reached from 2 routes"
    fingerprints = first["partialFingerprints"]
    assert fingerprints[OUR_FINGERPRINT_KEY] and len(fingerprints[OUR_FINGERPRINT_KEY]) == 64
    assert fingerprints["primaryLocationLineHash"].endswith(":1")


def test_sarif_identical_lines_get_distinct_line_hash_occurrences(sarif: dict[str, Any]) -> None:
    secrets = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "hardcoded-secret"]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in secrets]
    assert [h.rsplit(":", 1)[1] for h in hashes] == ["1", "2"]
    assert hashes[0].rsplit(":", 1)[0] == hashes[1].rsplit(":", 1)[0]
    assert secrets[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "app/my%20settings.py"
    )


def test_sarif_code_flow_follows_the_witness_path(sarif: dict[str, Any]) -> None:
    flow = sarif["runs"][0]["results"][0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [
        (
            step["location"]["physicalLocation"]["region"]["startLine"],
            step["location"]["message"]["text"],
        )
        for step in flow
    ] == [(3, "GET /rates"), (4, "time.sleep blocks")]
    assert "codeFlows" not in sarif["runs"][0]["results"][1]


def test_sarif_fix_replaces_the_hunk_lines() -> None:
    [fix] = fixes(blocking_finding())
    [change] = fix["artifactChanges"]
    assert change["artifactLocation"] == {"uri": "app/routes/rates.py", "uriBaseId": SRCROOT}
    assert change["replacements"] == [
        {
            "deletedRegion": {"startLine": 3, "startColumn": 1, "endLine": 5, "endColumn": 1},
            "insertedContent": {
                "text": "async def rates() -> dict:\n    await asyncio.sleep(1)\n    return {}\n"
            },
        }
    ]


def test_sarif_fix_for_a_pure_insertion_starts_after_the_old_line() -> None:
    finding = blocking_finding()
    finding.suggested_fix = "--- a/x.py\n+++ b/x.py\n@@ -2,0 +3,1 @@\n+import asyncio\n"
    [fix] = fixes(finding)
    assert fix["artifactChanges"][0]["replacements"] == [
        {
            "deletedRegion": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 1},
            "insertedContent": {"text": "import asyncio\n"},
        }
    ]
    assert fix["artifactChanges"][0]["artifactLocation"]["uri"] == "x.py"


def test_sarif_skipped_files_and_warnings_become_notifications(sarif: dict[str, Any]) -> None:
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [(n["level"], n["message"]["text"]) for n in notes] == [
        ("note", "skipped app/broken.py: syntax error at line 3: invalid syntax"),
        ("warning", "semgrep: Timeout in app/huge.py"),
    ]


def test_sarif_of_an_empty_scan_is_valid(tmp_path: Path) -> None:
    sarif = to_sarif(ScanResult(root=tmp_path))
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert sarif["runs"][0]["results"] == []
    assert sarif["runs"][0]["tool"]["driver"]["rules"] == []
