"""Stable identities for findings, in the spirit of SARIF ``partialFingerprints``.

A fingerprint must survive line shifts and unrelated edits, so it hashes what a finding *is*,
not where it sits: category, file, enclosing function/class, the normalized code of its line,
and the occurrence index among identical such tuples in the file (so two identical calls in one
function stay two findings).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

from scanners.findings import Finding

FINGERPRINT_VERSION = "v1"
_WHITESPACE = re.compile(r"\s+")
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def normalize_code(line: str) -> str:
    """Strip indentation, trailing comments and runs of whitespace."""
    code = _TRAILING_COMMENT.sub("", line.strip())
    return _WHITESPACE.sub(" ", code).strip()


def _identity(finding: Finding) -> tuple[str, str, str, str]:
    first_line = finding.snippet.splitlines()[0] if finding.snippet else ""
    return (finding.category, finding.path, finding.enclosing, normalize_code(first_line))


def compute_fingerprint(identity: tuple[str, str, str, str], occurrence: int) -> str:
    payload = "\x1f".join((FINGERPRINT_VERSION, *identity, str(occurrence)))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def assign_fingerprints(findings: Iterable[Finding]) -> None:
    """Fill ``finding.fingerprint`` for every finding, numbering identical identities by line."""
    groups: dict[tuple[str, str, str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        groups[_identity(finding)].append(finding)
    for identity, members in groups.items():
        members.sort(key=lambda f: (f.start_line, f.start_col, f.rule_id))
        for occurrence, finding in enumerate(members):
            finding.fingerprint = compute_fingerprint(identity, occurrence)
