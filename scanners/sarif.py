"""SARIF 2.1.0 output that GitHub code scanning accepts.

One ``run`` whose driver lists one rule per rule id used (help text carries the remediation),
results with paths relative to ``%SRCROOT%`` (the scanned root), ``partialFingerprints``, the
catalog category, blast radius, reach and explanation in ``properties``, ``codeFlows`` for
witness paths and ``fixes`` for suggested patches. Skipped files and scan warnings become tool
execution notifications, so nothing the scan knows is lost on the way to a SARIF consumer.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from scanners.catalog import CATEGORIES, Severity
from scanners.findings import Finding, ScanResult, WitnessStep
from scanners.fingerprint import FINGERPRINT_VERSION, normalize_code

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "audit-scanners"
# The project has no public home page yet; a URN is a valid URI and names the tool.
TOOL_INFORMATION_URI = "urn:audit-platform:scanners"
SRCROOT = "%SRCROOT%"
OUR_FINGERPRINT_KEY = f"auditFingerprint/{FINGERPRINT_VERSION}"
# GitHub ranks security alerts by this CVSS-like score (0.0-10.0).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}
_SECURITY_CATEGORIES = frozenset(
    {"DB-SQL-INJECTION", "API-RESPONSE-LEAK", "DEP-UNPINNED"}
    | {c for c in CATEGORIES if c.startswith("SEC-")}
)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def is_security_category(category_id: str) -> bool:
    return category_id in _SECURITY_CATEGORIES


def _uri(path: str) -> str:
    # SARIF wants URI references: percent-encode what a relative path may hold.
    return re.sub(
        r"[^A-Za-z0-9._~/\-]",
        lambda m: "".join(f"%{byte:02X}" for byte in m.group(0).encode("utf-8")),
        path,
    )


def _artifact(path: str) -> dict[str, Any]:
    return {"uri": _uri(path), "uriBaseId": SRCROOT}


def _region(finding: Finding) -> dict[str, Any]:
    region: dict[str, Any] = {
        "startLine": max(1, finding.start_line),
        "startColumn": max(1, finding.start_col),
        "endLine": max(finding.start_line, finding.end_line, 1),
    }
    if finding.end_col > 0 and (region["endLine"], finding.end_col) > (
        region["startLine"],
        region["startColumn"],
    ):
        region["endColumn"] = finding.end_col
    if finding.snippet:
        region["snippet"] = {"text": finding.snippet}
    return region


def _line_hash(finding: Finding) -> str:
    code = normalize_code(finding.snippet.splitlines()[0] if finding.snippet else "")
    payload = "\x1f".join((finding.rule_id, finding.path, code))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _witness_location(step: WitnessStep) -> dict[str, Any]:
    text = step.note or step.function
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": _artifact(step.path),
            "region": {"startLine": max(1, step.line)},
        },
        "message": {"text": text or f"{step.path}:{step.line}"},
    }
    if step.function:
        location["logicalLocations"] = [{"fullyQualifiedName": step.function, "kind": "function"}]
    return {"location": location}


def code_flows(finding: Finding) -> list[dict[str, Any]]:
    """The witness path (route -> helper -> ... -> blocking call) as one thread flow."""
    if not finding.witness:
        return []
    return [
        {
            "message": {"text": f"How the event loop reaches {finding.path}:{finding.start_line}"},
            "threadFlows": [{"locations": [_witness_location(s) for s in finding.witness]}],
        }
    ]


@dataclass
class _Hunk:
    old_start: int
    old_count: int
    new_lines: list[str] = field(default_factory=list)


def _parse_unified_diff(diff: str, default_path: str) -> dict[str, list[_Hunk]]:
    files: dict[str, list[_Hunk]] = defaultdict(list)
    path = default_path
    hunk: _Hunk | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].split("\t")[0].strip()
            path = target[2:] if target.startswith("b/") else target
            hunk = None
        elif line.startswith("--- "):
            hunk = None
        elif (match := _HUNK.match(line)) is not None:
            count = match.group(2)
            hunk = _Hunk(int(match.group(1)), 1 if count is None else int(count))
            files[path].append(hunk)
        elif hunk is not None and line[:1] in {" ", "+"}:
            hunk.new_lines.append(line[1:])
    return files


def fixes(finding: Finding) -> list[dict[str, Any]]:
    """``suggested_fix`` (a unified diff) as SARIF artifact changes, one replacement per hunk.

    A hunk replaces whole lines: its deleted region runs from column 1 of its first old line to
    column 1 of the line after its last, and the inserted text ends with a newline.
    """
    if not finding.suggested_fix.strip():
        return []
    changes: list[dict[str, Any]] = []
    for path, hunks in _parse_unified_diff(finding.suggested_fix, finding.path).items():
        replacements: list[dict[str, Any]] = []
        for hunk in hunks:
            # A pure insertion (-N,0) goes after old line N.
            first = hunk.old_start if hunk.old_count > 0 else hunk.old_start + 1
            replacement: dict[str, Any] = {
                "deletedRegion": {
                    "startLine": max(1, first),
                    "startColumn": 1,
                    "endLine": max(1, first + hunk.old_count),
                    "endColumn": 1,
                }
            }
            if hunk.new_lines:
                replacement["insertedContent"] = {"text": "".join(f"{t}\n" for t in hunk.new_lines)}
            replacements.append(replacement)
        if replacements:
            changes.append({"artifactLocation": _artifact(path), "replacements": replacements})
    if not changes:
        return []
    return [
        {
            "description": {"text": finding.remediation or "Suggested fix"},
            "artifactChanges": changes,
        }
    ]


def _rule(finding: Finding) -> dict[str, Any]:
    catalog = CATEGORIES.get(finding.category)
    summary = catalog.summary if catalog else finding.title
    area = catalog.area if catalog else finding.source
    severity = catalog.severity if catalog else finding.severity
    remediation = finding.remediation or (catalog.remediation if catalog else "")
    tags = [finding.category, area]
    if is_security_category(finding.category):
        tags.append("security")
    references = [str(r) for r in finding.properties.get("references", [])]
    help_markdown = f"**{finding.category}** — {summary}.\n\n**Fix:** {remediation}"
    if references:
        help_markdown += "\n\n" + "\n".join(f"- <{ref}>" for ref in references)
    rule: dict[str, Any] = {
        "id": finding.rule_id,
        "name": finding.rule_id,
        "shortDescription": {"text": finding.title or summary},
        "fullDescription": {"text": f"{finding.category}: {summary} ({area})."},
        "help": {"text": f"{summary}. Fix: {remediation}", "markdown": help_markdown},
        "defaultConfiguration": {"level": severity.sarif_level},
        "properties": {
            "tags": tags,
            "category": finding.category,
            "precision": {"high": "very-high", "medium": "high", "low": "medium"}.get(
                finding.confidence, "medium"
            ),
            "problem.severity": {"error": "error", "warning": "warning"}.get(
                severity.sarif_level, "recommendation"
            ),
        },
    }
    if references:
        rule["helpUri"] = references[0]
    if is_security_category(finding.category):
        rule["properties"]["security-severity"] = SECURITY_SEVERITY[severity]
    return rule


def _result(finding: Finding, rule_index: int, occurrence: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "category": finding.category,
        "severity": finding.severity.label,
        "blast_radius": round(finding.blast_radius, 3),
        "blast_explanation": finding.blast_explanation,
        "reach": list(finding.reach),
        "reach_count": len(finding.reach),
        "confidence": finding.confidence,
        "source": finding.source,
        "enclosing": finding.enclosing,
        "confirmed_at_runtime": finding.confirmed_at_runtime,
    }
    if finding.evidence:
        properties["evidence"] = [
            {"kind": e.kind, "summary": e.summary, "artifact": e.artifact, "metrics": e.metrics}
            for e in finding.evidence
        ]
    for key, value in finding.properties.items():
        properties.setdefault(key, value)
    fingerprints = {"primaryLocationLineHash": f"{_line_hash(finding)}:{occurrence}"}
    if finding.fingerprint:
        fingerprints[OUR_FINGERPRINT_KEY] = finding.fingerprint
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": finding.severity.sarif_level,
        "message": {"text": finding.message or finding.title},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": _region(finding),
                },
                **(
                    {"logicalLocations": [{"fullyQualifiedName": finding.enclosing}]}
                    if finding.enclosing
                    else {}
                ),
            }
        ],
        "partialFingerprints": fingerprints,
        "properties": properties,
    }
    flows = code_flows(finding)
    if flows:
        result["codeFlows"] = flows
    suggested = fixes(finding)
    if suggested:
        result["fixes"] = suggested
    return result


def _notifications(result: ScanResult) -> list[dict[str, Any]]:
    notes: list[dict[str, Any]] = [
        {
            "level": "note",
            "message": {"text": f"skipped {skipped.path}: {skipped.reason}"},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(skipped.path)}}],
            "descriptor": {"id": "skipped-file"},
        }
        for skipped in result.skipped
    ]
    notes.extend(
        {"level": "warning", "message": {"text": warning}, "descriptor": {"id": "scan-warning"}}
        for warning in result.warnings
    )
    return notes


def to_sarif(result: ScanResult) -> dict[str, Any]:
    """The scan as a SARIF 2.1.0 log (a JSON-ready dict)."""
    rule_index: dict[str, int] = {}
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    occurrences: dict[tuple[str, str, str], int] = defaultdict(int)
    ordered = sorted(
        result.findings,
        key=lambda f: (-f.blast_radius, -int(f.severity), f.path, f.start_line, f.start_col),
    )
    for finding in ordered:
        if finding.rule_id not in rule_index:
            rule_index[finding.rule_id] = len(rules)
            rules.append(_rule(finding))
        key = (finding.rule_id, finding.path, _line_hash(finding))
        occurrences[key] += 1
        results.append(_result(finding, rule_index[finding.rule_id], occurrences[key]))
    root_uri = result.root.resolve().as_uri().rstrip("/") + "/"
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": result.versions.get("engine", "0"),
                "semanticVersion": result.versions.get("engine", "0"),
                "informationUri": TOOL_INFORMATION_URI,
                "rules": rules,
                "properties": {"versions": dict(result.versions)},
            }
        },
        "originalUriBaseIds": {
            SRCROOT: {"uri": root_uri, "description": {"text": "The scanned root"}}
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": _notifications(result),
            }
        ],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"stats": dict(result.stats), "timings": dict(result.timings)},
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
