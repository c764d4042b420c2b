"""Source lines around each finding, so a report can show the code without the repository.

The scanned tree is gone once a scan ends (clones live in temp dirs), so the few lines around a
finding are kept on the finding itself: ``properties["context"] = {"start_line": N, "code": ...}``.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from scanners.findings import Finding

CONTEXT_RADIUS = 6  # lines kept above and below a finding


def attach_code_context(root: Path, findings: list[Finding], radius: int = CONTEXT_RADIUS) -> None:
    """Read each file that has findings once and store the surrounding lines on its findings.

    Files that cannot be read (deleted, binary, not UTF-8) are left without context: the
    finding's own snippet still stands.
    """
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.path and finding.start_line > 0:
            by_path[finding.path].append(finding)
    for rel, members in by_path.items():
        try:
            lines = (root / rel).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for finding in members:
            first = max(1, finding.start_line - radius)
            last = min(len(lines), max(finding.end_line, finding.start_line) + radius)
            if first > last:
                continue
            finding.properties["context"] = {
                "start_line": first,
                "code": "\n".join(lines[first - 1 : last]),
            }
