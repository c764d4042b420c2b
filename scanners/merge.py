"""Merge the engine's findings with Semgrep's: one finding per category and location.

Two findings are the same when category, path and start line are equal (``Finding.location_key``).
The engine's finding wins -- it carries reach and the witness path -- and records the rule ids of
the Semgrep findings it absorbed in ``properties["also_reported_by"]``. Duplicates inside one
source are left alone: the engine may report two calls on one line on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable

from scanners.findings import Finding

ALSO_REPORTED_BY = "also_reported_by"


def reporter(finding: Finding) -> str:
    return f"{finding.source}:{finding.rule_id}"


def _note_also_reported(kept: Finding, reporters: Iterable[str]) -> None:
    known: list[str] = list(kept.properties.get(ALSO_REPORTED_BY, []))
    for name in reporters:
        if name not in known and name != reporter(kept):
            known.append(name)
    if known:
        kept.properties[ALSO_REPORTED_BY] = known


def merge_findings(engine: list[Finding], semgrep: list[Finding]) -> list[Finding]:
    """Engine findings (all of them) plus the Semgrep findings no engine finding covers.

    Semgrep findings that share a location with each other collapse to the first one (in
    path/line/column order), noting the others the same way.
    """
    by_location: dict[tuple[str, str, int], Finding] = {}
    for finding in engine:
        by_location.setdefault(finding.location_key, finding)
    merged = list(engine)
    for finding in sorted(semgrep, key=lambda f: (f.path, f.start_line, f.start_col, f.rule_id)):
        kept = by_location.get(finding.location_key)
        if kept is None:
            by_location[finding.location_key] = finding
            merged.append(finding)
        else:
            absorbed = [reporter(finding), *finding.properties.get(ALSO_REPORTED_BY, [])]
            _note_also_reported(kept, absorbed)
    return merged
