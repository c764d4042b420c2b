from pathlib import Path

from scanners import scan
from scanners.catalog import Severity
from scanners.context import attach_code_context
from scanners.findings import Finding, ScanOptions


def _finding(path: str, line: int) -> Finding:
    return Finding(
        rule_id="r",
        category="ASYNC-BLOCKING-SLEEP",
        severity=Severity.HIGH,
        title="t",
        message="m",
        path=path,
        start_line=line,
    )


def test_context_keeps_lines_around_the_finding_clipped_at_file_edges(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("".join(f"line{n}\n" for n in range(1, 21)), encoding="utf-8")
    near_top, middle = _finding("a.py", 2), _finding("a.py", 10)
    attach_code_context(tmp_path, [near_top, middle], radius=3)
    assert near_top.properties["context"] == {
        "start_line": 1,
        "code": "line1\nline2\nline3\nline4\nline5",
    }
    assert middle.properties["context"]["start_line"] == 7
    assert middle.properties["context"]["code"].splitlines() == [f"line{n}" for n in range(7, 14)]


def test_context_skips_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "bin.py").write_bytes(b"\xff\xfe\x00bad")
    missing, binary = _finding("gone.py", 3), _finding("bin.py", 1)
    attach_code_context(tmp_path, [missing, binary])
    assert "context" not in missing.properties
    assert "context" not in binary.properties


def test_scan_findings_carry_their_context(tmp_path: Path) -> None:
    (tmp_path / "svc.py").write_text(
        "import time\n\n\nasync def handler():\n    time.sleep(1)\n", encoding="utf-8"
    )
    result = scan(tmp_path, ScanOptions(semgrep=False))
    sleeps = [f for f in result.findings if f.category == "ASYNC-BLOCKING-SLEEP"]
    assert sleeps, result.findings
    context = sleeps[0].properties["context"]
    assert context["start_line"] == 1
    assert "time.sleep(1)" in context["code"]
