"""The ingest stage on the engine's project model, and runtime signals in the ranking."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scanners import scan
from scanners.detectors.registry import run_detectors
from scanners.findings import ArtifactInput, Finding, ScanOptions, ScanResult
from scanners.project.build import build_project
from scanners.ranking import RuntimeSignals, rank
from scanners.runtime.stage import routes_from_project, run_ingest_stage, spans_from_project
from tests.support.runtime_service import PROFILE, SERVICE, locust_stats


@pytest.fixture
def service(tmp_path: Path) -> tuple[Path, list[ArtifactInput]]:
    root = tmp_path / "service"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "__init__.py").write_text("")
    (root / "svc" / "main.py").write_text(SERVICE)
    stats = tmp_path / "load_stats.csv"
    stats.write_text(locust_stats())
    profile = tmp_path / "profile.txt"
    profile.write_text(PROFILE)
    return root, [ArtifactInput("locust", stats), ArtifactInput("pyspy", profile)]


def _static_scan(root: Path, options: ScanOptions) -> tuple[list[Finding], ScanResult, object]:
    project = build_project(root, options).project
    findings, failures = run_detectors(project)
    assert failures == []
    return findings, ScanResult(root=root), project


def test_stage_adapts_routes_and_spans_of_the_project(
    service: tuple[Path, list[ArtifactInput]],
) -> None:
    root, _ = service
    project = build_project(root, ScanOptions(semgrep=False)).project
    routes = sorted((r.key, r.path, r.line, r.function) for r in routes_from_project(project))
    assert routes == [
        ("GET /api/cold", "svc/main.py", 15, "cold"),
        ("GET /api/hot/{item_id}", "svc/main.py", 9, "hot"),
    ]
    spans = {(s.qualname, s.is_async, s.line, s.end_line) for s in spans_from_project(project)}
    assert spans == {("hot", True, 9, 11), ("cold", True, 15, 17)}


def test_stage_hot_high_traffic_finding_outranks_the_identical_cold_one(
    service: tuple[Path, list[ArtifactInput]],
) -> None:
    root, artifacts = service
    options = ScanOptions(semgrep=False, artifacts=tuple(artifacts))
    project = build_project(root, options).project
    findings, failures = run_detectors(project)
    assert failures == []
    result = ScanResult(root=root)
    inputs = run_ingest_stage(project, options, findings, result)
    assert inputs.route_traffic == {"GET /api/hot/{item_id}": 0.95, "GET /api/cold": 0.05}
    assert inputs.function_heat[("svc/main.py", "hot")] == 0.8
    assert inputs.function_heat[("svc/main.py", "cold")] == 0.02
    assert [o.ok for o in result.artifacts] == [True, True]
    assert inputs.confirmed == 2  # both static sleeps were sampled on the loop

    static_only = rank([f for f in findings if f.category == "ASYNC-BLOCKING-SLEEP"])
    assert static_only[0].blast_radius == static_only[1].blast_radius  # identical without data

    ranked = rank(findings, RuntimeSignals(inputs.route_traffic, inputs.function_heat))
    sleeps = [f for f in ranked if f.category == "ASYNC-BLOCKING-SLEEP"]
    assert [(f.enclosing, f.start_line) for f in sleeps] == [("hot", 10), ("cold", 16)]
    hot, cold = sleeps
    assert hot.blast_radius > cold.blast_radius
    assert "95% of traffic" in hot.blast_explanation and "80% of samples" in hot.blast_explanation
    assert "confirmed at runtime" in hot.blast_explanation
    blocking = [f for f in ranked if f.category == "RUNTIME-BLOCKING-STACK"]
    assert [(f.enclosing, f.reach) for f in blocking] == [
        ("hot", ("GET /api/hot/{item_id}",)),
        ("cold", ("GET /api/cold",)),
    ]


def test_scan_ranks_with_uploaded_artifacts_end_to_end(
    service: tuple[Path, list[ArtifactInput]],
) -> None:
    root, artifacts = service
    result = scan(root, ScanOptions(semgrep=False, artifacts=tuple(artifacts)))
    sleeps = [f for f in result.findings if f.category == "ASYNC-BLOCKING-SLEEP"]
    assert [f.enclosing for f in sleeps] == ["hot", "cold"]
    assert sleeps[0].blast_radius > sleeps[1].blast_radius
    assert all(f.confirmed_at_runtime for f in sleeps)
    assert result.stats["confirmed_at_runtime"] == sum(
        1 for f in result.findings if f.confirmed_at_runtime
    )
    assert result.stats["confirmed_at_runtime"] >= len(sleeps)
    assert [(o.kind, o.ok) for o in result.artifacts] == [("locust", True), ("pyspy", True)]
    assert {row["name"] for row in result.load_test["endpoints"]} >= {"/api/hot/[id]", "/api/cold"}
    assert "ingest" in result.timings


def test_scan_keeps_going_past_a_malformed_artifact(
    service: tuple[Path, list[ArtifactInput]], tmp_path: Path
) -> None:
    root, artifacts = service
    broken = tmp_path / "broken_stats.csv"
    broken.write_text("this is not a locust file\n\x00\x01")
    options = ScanOptions(semgrep=False, artifacts=(ArtifactInput("locust", broken), *artifacts))
    result = scan(root, options)
    outcomes = [(o.name, o.ok) for o in result.artifacts]
    assert outcomes[0] == ("broken_stats.csv", False)
    assert result.artifacts[0].error
    assert [ok for _, ok in outcomes[1:]] == [True, True]
    assert any(f.category == "RUNTIME-BLOCKING-STACK" for f in result.findings)


def test_cli_takes_artifacts(service: tuple[Path, list[ArtifactInput]], tmp_path: Path) -> None:
    root, artifacts = service
    out = tmp_path / "out.json"
    command = [sys.executable, "-m", "scanners", "scan", str(root), "--no-semgrep"]
    command += ["--format", "json", "--output", str(out)]
    for artifact in artifacts:
        command += ["--artifact", f"{artifact.kind}={artifact.path}"]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    assert completed.returncode in (0, 1), completed.stderr
    document = json.loads(out.read_text())
    categories = {f["category"] for f in document["findings"]}
    assert {"ASYNC-BLOCKING-SLEEP", "RUNTIME-BLOCKING-STACK"} <= categories
