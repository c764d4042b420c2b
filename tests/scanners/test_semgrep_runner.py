"""The Semgrep runner: binary lookup, command, JSON mapping, failures as warnings, real runs."""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from scanners import scan
from scanners.catalog import Severity
from scanners.findings import ScanOptions
from scanners.semgrep.enclosing import EnclosingIndex
from scanners.semgrep.runner import (
    BUNDLED_BINARY,
    RULES_DIR,
    SemgrepHandle,
    SemgrepRun,
    build_command,
    describe_errors,
    find_semgrep,
    findings_from_json,
    run_semgrep,
    start_semgrep,
)
from scanners.semgrep.runner import _chunks as chunks

ROUTES = textwrap.dedent(
    """\
    import time

    import requests
    from fastapi import FastAPI

    app = FastAPI()


    @app.get("/rates")
    async def rates() -> dict:
        return requests.get("https://rates.example", timeout=5).json()


    @app.get("/rates-sync")
    def rates_sync() -> dict:
        return requests.get("https://rates.example", timeout=5).json()


    class Poller:
        @staticmethod
        async def poll() -> None:
            time.sleep(1)
    """
)


def executable(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_semgrep_prefers_semgrep_bin_then_bundled_then_path(tmp_path: Path) -> None:
    fake = executable(tmp_path / "semgrep", "exit 0\n")
    assert find_semgrep({"SEMGREP_BIN": str(fake), "PATH": ""}) == str(fake)
    relative = os.path.relpath(fake)
    assert find_semgrep({"SEMGREP_BIN": relative, "PATH": ""}) == str(fake.resolve())
    assert find_semgrep({"SEMGREP_BIN": str(tmp_path / "missing"), "PATH": str(tmp_path)}) is None
    expected = str(BUNDLED_BINARY) if BUNDLED_BINARY.is_file() else str(fake)
    assert find_semgrep({"PATH": str(tmp_path)}) == expected


def test_missing_binary_is_a_warning_not_an_exception(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMGREP_BIN", str(tmp_path / "no-such-semgrep"))
    run = run_semgrep(tmp_path, ["app.py"], ScanOptions())
    assert run.findings == []
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith("semgrep binary not found")
    assert "scripts/install-semgrep" in run.warnings[0]


def test_crashing_semgrep_becomes_a_warning_with_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = executable(tmp_path / "semgrep", 'echo "fatal: out of cheese" >&2\nexit 2\n')
    monkeypatch.setenv("SEMGREP_BIN", str(fake))
    run = run_semgrep(tmp_path, ["app.py"], ScanOptions())
    assert run.findings == []
    assert run.warnings == ["semgrep failed (exit 2) and reported no results: fatal: out of cheese"]


def test_command_is_offline_with_limits_and_explicit_targets() -> None:
    options = ScanOptions(jobs=3, semgrep_timeout=7, semgrep_memory_mb=900, max_file_bytes=1000)
    command = build_command("/opt/semgrep", ["app/a.py", "-odd.py"], options)
    assert command[:2] == ["/opt/semgrep", "scan"]
    assert command[command.index("--config") + 1] == str(RULES_DIR)
    for flag in ("--json", "--metrics=off", "--disable-version-check", "--no-git-ignore"):
        assert flag in command
    assert command[command.index("--timeout") + 1] == "7"
    assert command[command.index("--max-memory") + 1] == "900"
    assert command[command.index("--max-target-bytes") + 1] == "1000"
    assert command[command.index("--jobs") + 1] == "3"
    # Targets come after "--", so a file named like an option stays a file.
    assert command[-3:] == ["--", "app/a.py", "-odd.py"]


def test_targets_are_split_into_argv_sized_chunks() -> None:
    paths = [f"pkg/module_{i:05d}.py" for i in range(30_000)]
    parts = list(chunks(paths))
    assert len(parts) > 1
    assert [p for part in parts for p in part] == paths
    assert all(sum(len(p) + 1 for p in part) <= 256 * 1024 for part in parts)


def test_results_map_to_findings_with_catalog_metadata_and_enclosing(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "routes.py").write_text(ROUTES, encoding="utf-8")
    results = [
        {
            "check_id": "scanners.semgrep.rules.async.blocking-sleep-in-async",
            "path": "app/routes.py",
            "start": {"line": 22, "col": 13, "offset": 0},
            "end": {"line": 22, "col": 26, "offset": 0},
            "extra": {
                "message": "time.sleep() inside an async function\n blocks the event loop.",
                "severity": "ERROR",
                "metadata": {
                    "category": "ASYNC-BLOCKING-SLEEP",
                    "severity": "high",
                    "confidence": "high",
                    "title": "time.sleep blocks the event loop",
                    "service_code_only": True,
                    "remediation": "Use `await asyncio.sleep(...)`.",
                    "references": ["https://docs.python.org/3/library/asyncio-task.html"],
                },
            },
        },
        {
            "check_id": "foreign-rule",
            "path": str(tmp_path / "app" / "routes.py"),
            "start": {"line": 11, "col": 5},
            "end": {"line": 11, "col": 60},
            "extra": {"message": "Something else", "severity": "WARNING", "metadata": {}},
        },
    ]
    off_loop = {**results[0], "path": "scripts/seed_database.py"}  # never on the loop
    sleep, foreign = findings_from_json(tmp_path, [results[0], off_loop, results[1]])
    assert sleep.rule_id == "blocking-sleep-in-async"
    assert sleep.category == "ASYNC-BLOCKING-SLEEP"
    assert sleep.severity is Severity.HIGH
    assert sleep.message == "time.sleep() inside an async function blocks the event loop."
    assert (sleep.path, sleep.start_line, sleep.start_col, sleep.end_line, sleep.end_col) == (
        "app/routes.py",
        22,
        13,
        22,
        26,
    )
    assert sleep.enclosing == "Poller.poll"
    assert sleep.snippet == "        time.sleep(1)"
    assert sleep.remediation == "Use `await asyncio.sleep(...)`."
    assert (sleep.source, sleep.confidence) == ("semgrep", "high")
    assert sleep.properties == {
        "references": ["https://docs.python.org/3/library/asyncio-task.html"]
    }
    # A rule without our metadata keeps its own id as category and Semgrep's severity.
    assert (foreign.category, foreign.severity, foreign.path) == (
        "foreign-rule",
        Severity.MEDIUM,
        "app/routes.py",
    )
    assert foreign.enclosing == "rates"


def test_semgrep_errors_become_readable_warnings() -> None:
    errors = [
        {
            "type": "Timeout",
            "rule_id": "blocking-http-in-async",
            "path": "app/huge.py",
            "message": "Timeout when running\n rule",
        },
        {
            "type": ["PartialParsing", [{"path": "app/new.py"}]],
            "path": "app/new.py",
            "spans": [{"start": {"line": 3, "col": 1}}],
            "message": "Syntax error",
        },
        "not a dict",
    ]
    assert describe_errors(errors) == [
        "Timeout (rule blocking-http-in-async) in app/huge.py: Timeout when running rule",
        "PartialParsing in app/new.py:3: Syntax error",
    ]


def test_enclosing_index_finds_the_innermost_scope() -> None:
    index = EnclosingIndex.from_source(
        ROUTES
        + textwrap.dedent(
            """\

        def outer():
            def inner():
                return 1
            return inner
        """
        )
    )
    assert index.qualname_at(1) == ""
    assert index.qualname_at(9) == "rates"  # the decorator line belongs to the function
    assert index.qualname_at(11) == "rates"
    assert index.qualname_at(19) == "Poller"
    assert index.qualname_at(20) == "Poller.poll"
    assert index.qualname_at(22) == "Poller.poll"
    assert index.qualname_at(26) == "outer.inner"
    assert index.qualname_at(27) == "outer"
    assert EnclosingIndex.from_source("def broken(:\n    pass\n").qualname_at(2) == ""


def semgrep_or_skip() -> str:
    """The binary; skips the test where Semgrep is not installed, fails in CI."""
    binary = find_semgrep()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("Semgrep is not installed in CI: run scripts/install-semgrep")
        pytest.skip("Semgrep not installed (scripts/install-semgrep or SEMGREP_BIN)")
    return binary


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SemgrepRun]:
    semgrep_or_skip()
    root = tmp_path_factory.mktemp("service")
    (root / "app").mkdir()
    (root / "app" / "routes.py").write_text(ROUTES, encoding="utf-8")
    (root / "app" / "broken.py").write_text("async def f(:\n    pass\n", encoding="utf-8")
    # Ignored by git and by a .semgrepignore, but the engine discovered it: Semgrep must scan it.
    (root / "generated").mkdir()
    (root / "generated" / "jobs.py").write_text(
        "import subprocess\n\n\nasync def job() -> None:\n    subprocess.run(['true'])\n",
        encoding="utf-8",
    )
    (root / ".gitignore").write_text("generated/\n", encoding="utf-8")
    (root / ".semgrepignore").write_text("generated/\n", encoding="utf-8")
    handle = start_semgrep(
        root, ["app/broken.py", "app/routes.py", "generated/jobs.py"], ScanOptions(jobs=1)
    )
    return root, handle.wait()


@pytest.mark.semgrep
def test_real_semgrep_reports_async_routes_and_not_sync_ones(
    real_run: tuple[Path, SemgrepRun],
) -> None:
    _, run = real_run
    assert [(f.rule_id, f.path, f.start_line, f.enclosing) for f in run.findings] == [
        ("blocking-http-in-async", "app/routes.py", 11, "rates"),
        ("blocking-sleep-in-async", "app/routes.py", 22, "Poller.poll"),
        ("blocking-subprocess-in-async", "generated/jobs.py", 5, "job"),
    ]
    assert {f.category for f in run.findings} == {
        "ASYNC-BLOCKING-HTTP",
        "ASYNC-BLOCKING-SLEEP",
        "ASYNC-BLOCKING-SUBPROCESS",
    }
    assert all(f.source == "semgrep" and f.remediation for f in run.findings)
    assert run.version == "1.182.0"
    assert run.seconds > 0


@pytest.mark.semgrep
def test_real_semgrep_rule_errors_are_warnings_and_other_rules_still_run(
    real_run: tuple[Path, SemgrepRun], tmp_path: Path
) -> None:
    root, _ = real_run
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text(
        "rules:\n  - id: broken-rule\n    languages: [python]\n    severity: ERROR\n"
        "    message: x\n    pattern: 'lambda ...: ...'\n",
        encoding="utf-8",
    )
    (rules / "sleep.yaml").write_text(
        "rules:\n  - id: any-sleep\n    languages: [python]\n    severity: WARNING\n"
        "    message: sleep\n    pattern: time.sleep(...)\n",
        encoding="utf-8",
    )
    run = SemgrepHandle(root, ["app/routes.py"], ScanOptions(jobs=1), rules=rules).wait()
    assert len(run.warnings) == 1
    assert run.warnings[0].startswith("Rule parse error (rule broken-rule)")
    assert [(f.rule_id, f.start_line) for f in run.findings] == [("any-sleep", 22)]


V1_STYLE_MODEL = """\
from pydantic import BaseModel


class Item(BaseModel):
    name: str

    class Config:
        orm_mode = True


def dump(item: Item) -> dict:
    return item.dict()
"""


@pytest.mark.semgrep
@pytest.mark.parametrize(
    ("requirements", "reported"),
    [
        ("fastapi==0.110.0\npydantic==2.7.1\n", True),
        ("fastapi==0.99.1\npydantic==1.10.13\n", False),
    ],
)
def test_v1_api_rules_stay_quiet_in_a_project_pinned_to_pydantic_1(
    tmp_path: Path, requirements: str, reported: bool
) -> None:
    semgrep_or_skip()
    (tmp_path / "models.py").write_text(V1_STYLE_MODEL, encoding="utf-8")
    (tmp_path / "requirements.txt").write_text(requirements, encoding="utf-8")
    result = scan(tmp_path, ScanOptions(jobs=1))
    v1 = [f for f in result.findings if f.category == "PYD-V1-API"]
    assert bool(v1) is reported, [(f.rule_id, f.start_line) for f in result.findings]
