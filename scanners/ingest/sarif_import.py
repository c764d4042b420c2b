"""SARIF 2.1.0 from other tools (ruff, bandit, Semgrep, CodeQL, mypy converters).

Each result becomes an ``ImportedResult``; the runtime stage turns it into a ``Finding`` with the
catalog category when the rule is known (``FOREIGN_RULES``) and the foreign rule id otherwise,
``source = "sarif:<tool>"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO
from urllib.parse import unquote, urlparse

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.textio import head_text, read_json_document

KIND = "sarif"

# Foreign rule ids whose meaning matches a catalog category. Keys are lower-case; a tool's rule
# may appear with or without its plugin prefix (ruff's S608 is bandit's B608).
FOREIGN_RULES: dict[str, str] = {
    # ruff / flake8-async
    "async210": "ASYNC-BLOCKING-HTTP",
    "async211": "ASYNC-BLOCKING-HTTP",
    "async212": "ASYNC-BLOCKING-HTTP",
    "async220": "ASYNC-BLOCKING-SUBPROCESS",
    "async221": "ASYNC-BLOCKING-SUBPROCESS",
    "async222": "ASYNC-BLOCKING-SUBPROCESS",
    "async230": "ASYNC-BLOCKING-FILE",
    "async251": "ASYNC-BLOCKING-SLEEP",
    "asy100": "ASYNC-BLOCKING-HTTP",  # flake8-async's historic codes
    "asy101": "ASYNC-BLOCKING-FILE",
    "asy102": "ASYNC-BLOCKING-SUBPROCESS",
    "ruf006": "ASYNC-MISSING-AWAIT",  # dangling asyncio.create_task
    # bandit and ruff's flake8-bandit
    "b608": "DB-SQL-INJECTION",
    "s608": "DB-SQL-INJECTION",
    "b105": "SEC-HARDCODED-SECRET",
    "b106": "SEC-HARDCODED-SECRET",
    "b107": "SEC-HARDCODED-SECRET",
    "s105": "SEC-HARDCODED-SECRET",
    "s106": "SEC-HARDCODED-SECRET",
    "s107": "SEC-HARDCODED-SECRET",
    # CodeQL
    "py/sql-injection": "DB-SQL-INJECTION",
    "py/hardcoded-credentials": "SEC-HARDCODED-SECRET",
    # pylint
    "w0104": "ASYNC-MISSING-AWAIT",
    # Semgrep community rules (last dotted part of the rule id)
    "sqlalchemy-execute-raw-query": "DB-SQL-INJECTION",
    "formatted-sql-query": "DB-SQL-INJECTION",
    "detected-generic-secret": "SEC-HARDCODED-SECRET",
    "hardcoded-password-default-argument": "SEC-HARDCODED-SECRET",
    "wildcard-cors": "SEC-CORS-WILDCARD-CREDENTIALS",
}
_TYPE_CHECKERS = ("mypy", "pyright", "pytype", "pyre")


@dataclass(slots=True)
class ImportedResult:
    tool: str  # the run's tool.driver.name, lower-cased: "ruff", "bandit", "semgrep", "codeql"
    rule_id: str
    level: str  # SARIF level: error / warning / note / none
    message: str
    uri: str  # as written, made relative to its uriBaseId when that base is known
    line: int
    column: int
    end_line: int
    end_column: int
    snippet: str = ""
    rule_name: str = ""
    help_uri: str = ""
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def catalog_category(self) -> str:
        """The catalog category this rule maps to, or "" when the rule is not known."""
        rule = self.rule_id.lower()
        if rule in FOREIGN_RULES:
            return FOREIGN_RULES[rule]
        tail = rule.rsplit(".", 1)[-1]
        if tail in FOREIGN_RULES:
            return FOREIGN_RULES[tail]
        if self.tool in _TYPE_CHECKERS:
            return "TYPE-CHECK"
        declared = self.properties.get("category")
        return declared if isinstance(declared, str) and declared.isupper() else ""


@dataclass
class SarifLog:
    results: list[ImportedResult] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    skipped: int = 0  # results without a file location

    def summary(self) -> dict[str, Any]:
        mapped = sum(1 for result in self.results if result.catalog_category)
        return {
            "tools": list(self.tools),
            "results": len(self.results),
            "mapped_to_catalog": mapped,
            "kept_under_own_rule": len(self.results) - mapped,
            "without_location": self.skipped,
        }


def sniff(head: bytes) -> bool:
    text = head_text(head).lstrip()
    return (
        text.startswith("{")
        and '"runs"' in text
        and ("sarif" in text.lower() or '"version"' in text)
    )


def _uri_path(uri: str) -> str:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:
        return unquote(parsed.path)
    return unquote(uri)


def parse(stream: BinaryIO | TextIO) -> SarifLog:
    document = read_json_document(stream, "SARIF document")
    if not isinstance(document, dict) or not isinstance(document.get("runs"), list):
        raise ArtifactParseError("not a SARIF log: no 'runs' list at the top level")
    log = SarifLog()
    for run_index, run in enumerate(document["runs"]):
        if not isinstance(run, dict):
            raise ArtifactParseError(f"runs[{run_index}]: expected an object")
        driver = (run.get("tool") or {}).get("driver") or {}
        tool = str(driver.get("name") or f"tool{run_index}").strip().lower()
        log.tools.append(tool)
        rules = _rules(driver)
        bases = {
            name: _uri_path(str((value or {}).get("uri") or ""))
            for name, value in (run.get("originalUriBaseIds") or {}).items()
            if isinstance(value, dict)
        }
        for index, result in enumerate(run.get("results") or []):
            if not isinstance(result, dict):
                raise ArtifactParseError(f"runs[{run_index}].results[{index}]: expected an object")
            imported = _result(result, tool, rules, bases)
            if imported is None:
                log.skipped += 1
            else:
                log.results.append(imported)
    return log


def _rules(driver: dict[str, Any]) -> list[dict[str, Any]]:
    rules = driver.get("rules")
    return [rule for rule in rules if isinstance(rule, dict)] if isinstance(rules, list) else []


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _result(
    result: dict[str, Any], tool: str, rules: list[dict[str, Any]], bases: dict[str, str]
) -> ImportedResult | None:
    rule_index = result.get("ruleIndex")
    rule: dict[str, Any] = (
        rules[rule_index] if isinstance(rule_index, int) and 0 <= rule_index < len(rules) else {}
    )
    rule_id = str(result.get("ruleId") or rule.get("id") or "unknown")
    message = result.get("message") or {}
    text = (
        str(message.get("text") or message.get("markdown") or "")
        if isinstance(message, dict)
        else ""
    )
    level = str(
        result.get("level") or (rule.get("defaultConfiguration") or {}).get("level") or "warning"
    )
    locations = result.get("locations") or []
    physical = (
        locations[0].get("physicalLocation")
        if locations and isinstance(locations[0], dict)
        else None
    )
    if not isinstance(physical, dict):
        return None
    artifact = physical.get("artifactLocation") or {}
    uri = _uri_path(str(artifact.get("uri") or ""))
    if not uri:
        return None
    base = bases.get(str(artifact.get("uriBaseId") or ""), "")
    if base and not uri.startswith("/"):
        uri = base.rstrip("/") + "/" + uri
    region = physical.get("region") or {}
    line = _int(region.get("startLine"), 1)
    column = _int(region.get("startColumn"), 1)
    end_line = _int(region.get("endLine"), line)
    end_column = _int(region.get("endColumn"), 0)
    snippet = (
        (region.get("snippet") or {}).get("text", "")
        if isinstance(region.get("snippet"), dict)
        else ""
    )
    properties = result.get("properties") if isinstance(result.get("properties"), dict) else {}
    return ImportedResult(
        tool=tool,
        rule_id=rule_id,
        level=level,
        message=text or str(rule.get("shortDescription", {}).get("text") or rule_id),
        uri=uri,
        line=max(1, line),
        column=max(1, column),
        end_line=max(line, end_line),
        end_column=max(0, end_column),
        snippet=str(snippet),
        rule_name=str(rule.get("name") or ""),
        help_uri=str(rule.get("helpUri") or ""),
        properties=dict(properties or {}),
    )
