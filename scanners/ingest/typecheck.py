"""Type-checker reports: mypy (text and ``--output json``) and pyright (``--outputjson``).

- mypy text: ``path:line:col: error: message  [code]`` (``:col`` only with
  ``--show-column-numbers``), ``note:`` lines, and a closing ``Found N errors in M files`` or
  ``Success: no issues found``.
- mypy JSON: one object per line: ``{"file", "line", "column", "message", "hint", "code",
  "severity"}`` (lines 1-based, columns 0-based).
- pyright JSON: one document ``{"generalDiagnostics": [{"file", "severity", "message", "rule",
  "range": {"start": {"line", "character"}}}], "summary": {...}}`` (lines 0-based).

Notes/information are folded into the preceding diagnostic's hint (mypy) or dropped (pyright).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TextIO

from scanners.ingest.errors import ArtifactParseError
from scanners.ingest.textio import (
    first_lines,
    head_text,
    iter_lines,
    read_json_document,
    shorten,
)

MYPY_KIND = "mypy"
PYRIGHT_KIND = "pyright"

_MYPY_LINE = re.compile(
    r"^(?P<file>[^:\n]+(?::\\[^:\n]+)?):(?P<line>\d+):(?:(?P<col>\d+):)?(?:\d+:\d+:)? "
    r"(?P<severity>error|warning|note): (?P<message>.*?)(?:  \[(?P<code>[\w-]+)\])?$"
)
_MYPY_SUMMARY = re.compile(r"^(Found \d+ errors? in \d+ files?|Success: no issues found)")


@dataclass(slots=True)
class Diagnostic:
    file: str  # as the checker wrote it (relative to where it ran, or absolute)
    line: int  # 1-based
    column: int  # 1-based, 0 when unknown
    severity: str  # "error" or "warning"
    message: str
    code: str  # mypy error code or pyright rule, "" when absent
    hint: str = ""
    end_line: int = 0
    end_column: int = 0


@dataclass
class TypeCheckReport:
    tool: str  # "mypy" or "pyright"
    diagnostics: list[Diagnostic] = field(default_factory=list)
    format: str = ""  # "text" or "json"
    files_checked: int = 0  # when the report says it

    def summary(self) -> dict[str, Any]:
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        return {
            "tool": self.tool,
            "format": self.format,
            "errors": errors,
            "warnings": len(self.diagnostics) - errors,
            "files": len({d.file for d in self.diagnostics}),
            "files_checked": self.files_checked,
        }


def sniff_mypy(head: bytes) -> bool:
    for line in first_lines(head, 3):
        stripped = line.strip()
        if stripped.startswith("{"):
            return '"file"' in stripped and '"severity"' in stripped and '"line"' in stripped
        return bool(_MYPY_LINE.match(stripped) or _MYPY_SUMMARY.match(stripped))
    return False


def sniff_pyright(head: bytes) -> bool:
    text = head_text(head).lstrip()
    return text.startswith("{") and ('"generalDiagnostics"' in text or '"filesAnalyzed"' in text)


def parse_mypy(stream: BinaryIO | TextIO) -> TypeCheckReport:
    report = TypeCheckReport(tool=MYPY_KIND)
    seen = False
    for number, line in iter_lines(stream, "mypy output"):
        stripped = line.strip()
        if not stripped:
            continue
        if not seen:
            seen = True
            report.format = "json" if stripped.startswith("{") else "text"
        if report.format == "json":
            _mypy_json_line(stripped, number, report)
        else:
            _mypy_text_line(stripped, number, report)
    if not seen:
        raise ArtifactParseError("empty file: no mypy output")
    return report


def _mypy_text_line(line: str, number: int, report: TypeCheckReport) -> None:
    match = _MYPY_LINE.match(line)
    if match is None:
        summary = _MYPY_SUMMARY.match(line)
        if summary is not None:
            checked = re.search(r"(\d+) source files?", line)
            report.files_checked = int(checked.group(1)) if checked else report.files_checked
            return
        if report.diagnostics and line.startswith(" "):
            return  # a source excerpt under an error (--pretty)
        raise ArtifactParseError(
            f"line {number}: expected 'file:line:col: error: message  [code]', got {shorten(line)}"
        )
    severity = match.group("severity")
    if severity == "note":
        if report.diagnostics and report.diagnostics[-1].file == match.group("file"):
            previous = report.diagnostics[-1]
            previous.hint = (previous.hint + "\n" if previous.hint else "") + match.group("message")
        return
    report.diagnostics.append(
        Diagnostic(
            file=match.group("file"),
            line=int(match.group("line")),
            column=int(match.group("col") or 0),
            severity=severity,
            message=match.group("message").strip(),
            code=match.group("code") or "",
        )
    )


def _mypy_json_line(line: str, number: int, report: TypeCheckReport) -> None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ArtifactParseError(
            f"line {number}: not a JSON object ({exc.msg}); mypy --output json writes one object "
            "per line, and the file may be truncated"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("file"), str):
        raise ArtifactParseError(f"line {number}: expected a mypy JSON diagnostic with a 'file'")
    severity = str(record.get("severity") or "error")
    if severity == "note":
        return
    line_no = record.get("line")
    column = record.get("column")
    report.diagnostics.append(
        Diagnostic(
            file=record["file"],
            line=line_no if isinstance(line_no, int) and line_no > 0 else 1,
            column=column + 1 if isinstance(column, int) and column >= 0 else 0,
            severity=severity,
            message=str(record.get("message") or ""),
            code=str(record.get("code") or ""),
            hint=str(record.get("hint") or ""),
        )
    )


def parse_pyright(stream: BinaryIO | TextIO) -> TypeCheckReport:
    document = read_json_document(stream, "pyright output")
    if not isinstance(document, dict) or not isinstance(document.get("generalDiagnostics"), list):
        raise ArtifactParseError(
            "not a pyright --outputjson report: no 'generalDiagnostics' list at the top level"
        )
    report = TypeCheckReport(tool=PYRIGHT_KIND, format="json")
    summary = document.get("summary")
    if isinstance(summary, dict) and isinstance(summary.get("filesAnalyzed"), int):
        report.files_checked = summary["filesAnalyzed"]
    for index, item in enumerate(document["generalDiagnostics"]):
        if not isinstance(item, dict) or not isinstance(item.get("file"), str):
            raise ArtifactParseError(
                f"generalDiagnostics[{index}]: expected an object with a 'file'"
            )
        severity = str(item.get("severity") or "error")
        if severity not in {"error", "warning"}:
            continue  # "information": not a defect
        start, end = _range(item.get("range"))
        report.diagnostics.append(
            Diagnostic(
                file=item["file"],
                line=start[0] + 1,
                column=start[1] + 1,
                severity=severity,
                message=str(item.get("message") or ""),
                code=str(item.get("rule") or ""),
                end_line=end[0] + 1,
                end_column=end[1] + 1,
            )
        )
    return report


def _range(value: object) -> tuple[tuple[int, int], tuple[int, int]]:
    def point(raw: object) -> tuple[int, int]:
        if isinstance(raw, dict):
            line, character = raw.get("line"), raw.get("character")
            if isinstance(line, int) and isinstance(character, int):
                return max(0, line), max(0, character)
        return (0, 0)

    if not isinstance(value, dict):
        return (0, 0), (0, 0)
    start = point(value.get("start"))
    end = point(value.get("end")) if value.get("end") else start
    return start, end
