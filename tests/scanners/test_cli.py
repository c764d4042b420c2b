"""``python -m scanners``: formats, exit codes, errors, progress and the rules listing."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scanners.cli import main
from tests.scanners.test_semgrep_runner import semgrep_or_skip

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
MAIN = """\
import time

from fastapi import FastAPI

app = FastAPI()
API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


@app.get("/slow")
async def slow() -> dict[str, str]:
    time.sleep(1)
    return {"status": "ok"}


@app.on_event("startup")
async def warm_up() -> None:
    pass
"""


@pytest.fixture
def service(tmp_path: Path) -> Path:
    root = tmp_path / "service"
    (root / "app").mkdir(parents=True)
    (root / "app" / "main.py").write_text(MAIN, encoding="utf-8")
    (root / "app" / "broken.py").write_text("def broken(:\n", encoding="utf-8")
    (root / "legacy").mkdir()
    (root / "legacy" / "old.py").write_text(
        "import asyncio\nimport time\n\n\nasync def old() -> None:\n    time.sleep(5)\n"
        "    await asyncio.sleep(0)\n",
        encoding="utf-8",
    )
    return root


def run_cli(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def scan_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run_cli("scan", *argv, "--format", "json", "--no-semgrep")
    return code, json.loads(out)


def test_json_output_has_the_documented_shape_ordered_by_blast_radius(service: Path) -> None:
    code, report = scan_json(str(service))
    assert code == 0
    assert report["schema"] == "audit-scanners/scan/v1"
    assert report["root"] == service.resolve().as_posix()
    assert set(report) == {
        "schema",
        "root",
        "versions",
        "stats",
        "timings",
        "findings",
        "skipped",
        "warnings",
        "artifacts",
        "load_test",
    }
    located = [(f["category"], f["path"], f["start_line"]) for f in report["findings"]]
    assert located == [
        ("ASYNC-BLOCKING-SLEEP", "app/main.py", 11),
        ("ASYNC-BLOCKING-SLEEP", "legacy/old.py", 6),
        ("ASYNC-DEPRECATED-ON-EVENT", "app/main.py", 15),
    ]
    first = report["findings"][0]
    assert first["severity"] == "high"
    assert first["reach"] == ["GET /slow"]
    assert first["blast_radius"] >= report["findings"][1]["blast_radius"]
    assert [s["path"] for s in report["skipped"]] == ["app/broken.py"]
    assert report["skipped"][0]["reason"].startswith("syntax error at line")


def test_exclude_glob_skips_matching_paths(service: Path) -> None:
    _, report = scan_json(str(service), "--exclude", "legacy/**")
    assert {f["path"] for f in report["findings"]} == {"app/main.py"}


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [("critical", 0), ("high", 1), ("medium", 1), ("low", 1), ("info", 1)],
)
def test_fail_on_sets_the_exit_status(service: Path, threshold: str, expected: int) -> None:
    code, _ = scan_json(str(service), "--fail-on", threshold)
    assert code == expected


def test_fail_on_counts_only_reaching_severities(tmp_path: Path) -> None:
    root = tmp_path / "events"
    root.mkdir()
    (root / "main.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        '@app.on_event("startup")\nasync def up() -> None:\n    pass\n',
        encoding="utf-8",
    )
    code_low, report = scan_json(str(root), "--fail-on", "low")
    code_medium, _ = scan_json(str(root), "--fail-on", "medium")
    assert [f["category"] for f in report["findings"]] == ["ASYNC-DEPRECATED-ON-EVENT"]
    assert (code_low, code_medium) == (1, 0)


def test_text_output_is_a_table_with_skipped_files_at_the_end(service: Path) -> None:
    code, out, _ = run_cli("scan", str(service), "--no-semgrep")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["blast", "severity", "category", "location", "reach", "message"]
    assert lines[2].split()[1:5] == ["high", "ASYNC-BLOCKING-SLEEP", "app/main.py:11", "1"]
    assert "time.sleep" in lines[2]
    assert "3 finding(s): 2 high, 1 low." in out
    assert out.index("Skipped files (1):") > out.index("3 finding(s)")
    assert "  app/broken.py: syntax error at line" in out


def test_sarif_output_written_to_a_file_is_valid(service: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "scan.sarif"
    code, out, _ = run_cli(
        "scan", str(service), "--format", "sarif", "--output", str(target), "--no-semgrep"
    )
    assert (code, out) == (0, "")
    sarif = json.loads(target.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [
        (
            r["properties"]["category"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        )
        for r in results
    ] == [
        ("ASYNC-BLOCKING-SLEEP", "app/main.py"),
        ("ASYNC-BLOCKING-SLEEP", "legacy/old.py"),
        ("ASYNC-DEPRECATED-ON-EVENT", "app/main.py"),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", "{missing}"], "is not a directory"),
        (["scan", "{root}", "--artifact", "pyspy"], "--artifact expects KIND=FILE"),
        (["scan", "{root}", "--artifact", "pyspy={root}/nope.txt"], "is not a readable file"),
        (["scan", "{root}", "--artifact", "nonsense={root}/app/main.py"], "unknown kind"),
        (["scan", "{root}", "--jobs", "-1"], "--jobs must be 0"),
    ],
)
def test_usage_errors_exit_2_with_a_message(service: Path, argv: list[str], message: str) -> None:
    filled = [a.format(root=service, missing=service / "missing") for a in argv]
    code, out, err = run_cli(*filled, "--no-semgrep")
    assert code == 2
    assert out == ""
    assert message in err


def test_argparse_usage_errors_exit_2(service: Path) -> None:
    assert run_cli("scan", str(service), "--format", "xml")[0] == 2
    assert run_cli("scan", str(service), "--fail-on", "urgent")[0] == 2
    assert run_cli()[0] == 2


def test_progress_lines_on_request(service: Path) -> None:
    code, _, err = run_cli("scan", str(service), "--no-semgrep", "--progress", "--format", "json")
    assert code == 0
    lines = err.splitlines()
    assert lines, "no progress printed"
    assert all(line.startswith("[") and "%]" in line for line in lines)
    assert lines[-1].startswith("[100%]")


def test_rules_lists_every_category_and_both_rule_sources() -> None:
    code, out, _ = run_cli("rules", "--format", "json")
    assert code == 0
    listing = json.loads(out)
    assert len(listing["categories"]) == 33
    sources = {(r["rule_id"], r["source"]) for r in listing["rules"]}
    assert ("blocking-sleep-in-async", "semgrep") in sources
    assert ("cors-wildcard-credentials", "semgrep") in sources
    assert any(source == "engine" for _, source in sources)
    code, text, _ = run_cli("rules")
    assert code == 0
    assert "  SEC-CORS-WILDCARD-CREDENTIALS" in text
    assert "      semgrep  cors-wildcard-credentials (confidence high)" in text


def test_module_entry_point_exits_2_on_internal_and_usage_errors(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "scanners", "scan", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().endswith("is not a directory")


@pytest.mark.semgrep
def test_scan_with_semgrep_merges_its_findings(service: Path) -> None:
    semgrep_or_skip()
    code, out, _ = run_cli("scan", str(service), "--format", "json", "--jobs", "1")
    assert code == 0
    report = json.loads(out)
    by_location = {(f["category"], f["path"], f["start_line"]): f for f in report["findings"]}
    # Only Semgrep knows about secrets; the engine's sleep finding absorbed Semgrep's.
    secret = by_location[("SEC-HARDCODED-SECRET", "app/main.py", 6)]
    assert secret["source"] == "semgrep"
    sleep = by_location[("ASYNC-BLOCKING-SLEEP", "app/main.py", 11)]
    assert sleep["source"] == "engine"
    assert sleep["properties"]["also_reported_by"] == ["semgrep:blocking-sleep-in-async"]
    assert len(report["findings"]) == 4
    assert report["versions"]["semgrep"] == "1.182.0"


@pytest.mark.parametrize("form", ["prefix", "directory"])
def test_locust_artifact_accepts_a_csv_prefix_or_its_directory(
    service: Path, tmp_path: Path, form: str
) -> None:
    """`locust --csv results/run` writes run_stats.csv, run_stats_history.csv, run_failures.csv;
    the prefix or the folder names the whole set."""
    samples = Path(__file__).parent / "ingest" / "samples" / "locust"
    folder = tmp_path / "results"
    folder.mkdir()
    for suffix in ("stats", "stats_history", "failures"):
        (folder / f"run_{suffix}.csv").write_bytes((samples / f"many_{suffix}.csv").read_bytes())
    target = folder / "run" if form == "prefix" else folder
    code, out, err = run_cli(
        "scan", str(service), "--format", "json", "--no-semgrep", "--artifact", f"locust={target}"
    )
    assert code == 0, err
    artifacts = json.loads(out)["artifacts"]
    assert [(a["kind"], a["name"], a["ok"]) for a in artifacts] == [("locust", target.name, True)]
