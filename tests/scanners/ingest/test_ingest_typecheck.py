"""mypy (text and JSON) and pyright report parsers."""

from __future__ import annotations

import io

import pytest

from scanners.ingest import typecheck
from scanners.ingest.errors import ArtifactParseError
from tests.scanners.ingest.conftest import sample


def _mypy(relative: str) -> typecheck.TypeCheckReport:
    with sample(relative).open("rb") as handle:
        return typecheck.parse_mypy(handle)


def _pyright(relative: str) -> typecheck.TypeCheckReport:
    with sample(relative).open("rb") as handle:
        return typecheck.parse_pyright(handle)


def test_mypy_text_and_json_agree_on_the_real_run() -> None:
    text, json_report = _mypy("mypy_text/many.txt"), _mypy("mypy_json/many.json")
    assert (text.format, json_report.format) == ("text", "json")
    expected = [
        ("demoapp/typed.py", 6, 12, "return-value"),
        ("demoapp/typed.py", 10, 5, "no-any-return"),
        ("demoapp/typed.py", 10, 24, "operator"),
        ("demoapp/typed.py", 14, 12, "return-value"),
    ]
    for report in (text, json_report):
        assert [(d.file, d.line, d.column, d.code) for d in report.diagnostics] == expected
        assert {d.severity for d in report.diagnostics} == {"error"}
    assert (
        text.diagnostics[0].message
        == 'Incompatible return value type (got "float", expected "int")'
    )
    assert text.files_checked == 4
    assert text.summary() == {
        "tool": "mypy",
        "format": "text",
        "errors": 4,
        "warnings": 0,
        "files": 1,
        "files_checked": 4,
    }


def test_mypy_one_and_notes() -> None:
    (only,) = _mypy("mypy_text/one.txt").diagnostics
    assert (only.line, only.code) == (6, "return-value")
    report = typecheck.parse_mypy(
        io.StringIO(
            'app/x.py:3: error: Name "y" is not defined  [name-defined]\n'
            'app/x.py:3: note: Did you mean "x"?\n'
            "Found 1 error in 1 file (checked 2 source files)\n"
        )
    )
    (diagnostic,) = report.diagnostics
    assert (diagnostic.column, diagnostic.hint) == (0, 'Did you mean "x"?')


def test_pyright_many() -> None:
    report = _pyright("pyright/many.json")
    assert [
        (d.file.rsplit("/", 1)[-1], d.line, d.column, d.severity, d.code)
        for d in report.diagnostics
    ] == [
        ("typed.py", 6, 12, "error", "reportReturnType"),
        ("typed.py", 10, 12, "error", "reportOperatorIssue"),
        ("typed.py", 14, 12, "warning", "reportReturnType"),
        ("other.py", 1, 1, "error", "reportUndefinedVariable"),
    ]  # the "information" diagnostic is dropped
    assert report.files_checked == 5
    assert _pyright("pyright/one.json").diagnostics[0].end_column == 27


@pytest.mark.parametrize(
    ("parse", "relative", "message"),
    [
        ("mypy", "mypy_text/empty.txt", "empty file: no mypy output"),
        ("mypy", "mypy_json/empty.json", "empty file: no mypy output"),
        (
            "mypy",
            "mypy_text/malformed.txt",
            r"line 1: expected 'file:line:col: error: message  \[code\]'",
        ),
        ("mypy", "mypy_json/malformed.json", "line 1: not a JSON object"),
        ("pyright", "pyright/empty.json", "empty file: no pyright output"),
        ("pyright", "pyright/malformed.json", "not valid JSON"),
        ("pyright", "mypy_json/one.json", "no 'generalDiagnostics' list"),
    ],
)
def test_typecheck_bad_input(parse: str, relative: str, message: str) -> None:
    with pytest.raises(ArtifactParseError, match=message):
        (_mypy if parse == "mypy" else _pyright)(relative)


def test_typecheck_sniffers() -> None:
    assert typecheck.sniff_mypy(sample("mypy_text/many.txt").read_bytes())
    assert typecheck.sniff_mypy(sample("mypy_json/many.json").read_bytes())
    assert typecheck.sniff_pyright(sample("pyright/many.json").read_bytes())
    assert not typecheck.sniff_mypy(sample("pyright/many.json").read_bytes())
    assert not typecheck.sniff_pyright(sample("sarif/many.sarif").read_bytes())
