"""ingest_artifacts: every sample format through one call, placed on the demo service's code."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.catalog import Severity
from scanners.findings import ArtifactInput, Finding
from scanners.ingest import KINDS, IngestOptions, detect_kind, ingest_artifacts
from scanners.ingest.registry import read_head
from tests.scanners.ingest.conftest import DEMO_ROOT, DEMO_ROUTES, SAMPLES, sample

FORMATS = {
    "pyspy_raw": "pyspy",
    "pyspy_speedscope": "pyspy",
    "asyncio_log": "asyncio-log",
    "locust": "locust",
    "mypy_text": "mypy",
    "mypy_json": "mypy",
    "pyright": "pyright",
    "sql_sqlalchemy": "sql-log",
    "sql_postgres": "sql-log",
    "sarif": "sarif",
}


def _artifacts() -> list[ArtifactInput]:
    return [
        ArtifactInput("pyspy", sample("pyspy_speedscope/many.json"), "profile.json"),
        ArtifactInput("asyncio-log", sample("asyncio_log/many.log")),
        ArtifactInput("locust", sample("locust/many"), "run"),
        ArtifactInput("mypy", sample("mypy_text/many.txt")),
        ArtifactInput("pyright", sample("pyright/many.json")),
        ArtifactInput("sql-log", sample("sql_sqlalchemy/many.log")),
        ArtifactInput("sarif", sample("sarif/many.sarif")),
        ArtifactInput("pyspy", sample("pyspy_raw/malformed.txt")),
        ArtifactInput("auto", sample("demo_service/demoapp/routes.py")),
        ArtifactInput("flamegraph", sample("pyspy_raw/one.txt")),
    ]


def _by_category(findings: list[Finding]) -> dict[str, list[tuple[str, int]]]:
    placed: dict[str, list[tuple[str, int]]] = {}
    for finding in findings:
        placed.setdefault(finding.category, []).append((finding.path, finding.start_line))
    return {key: sorted(value) for key, value in placed.items()}


def test_ingest_places_every_runtime_finding_on_the_code() -> None:
    result = ingest_artifacts(_artifacts(), DEMO_ROOT, DEMO_ROUTES)
    assert _by_category(result.findings) == {
        "RUNTIME-BLOCKING-STACK": [("demoapp/services.py", 5)],
        "RUNTIME-SLOW-CALLBACK": [("demoapp/routes.py", 7), ("demoapp/routes.py", 20)],
        "ASYNC-MISSING-AWAIT": [("demoapp/routes.py", 30)],
        "RUNTIME-SLOW-ENDPOINT": [("demoapp/routes.py", 24)],
        "RUNTIME-N-PLUS-ONE": [("demoapp/routes.py", 24)],
        "TYPE-CHECK": [("demoapp/typed.py", line) for line in (6, 6, 10, 10, 10, 14, 14)],
        "ASYNC-BLOCKING-SLEEP": [("demoapp/routes.py", 21)],
        "PLR2004": [("demoapp/routes.py", 30)],
        "DB-SQL-INJECTION": [("demoapp/typed.py", 10)],
        "B311": [("demoapp/services.py", 4)],
    }


def test_ingest_blocking_stack_names_the_share_and_the_path() -> None:
    result = ingest_artifacts(_artifacts()[:1], DEMO_ROOT, DEMO_ROUTES)
    (finding,) = result.findings
    assert finding.category == "RUNTIME-BLOCKING-STACK"
    assert (finding.severity, finding.enclosing, finding.source) == (
        Severity.HIGH,
        "load_rates",
        "runtime",
    )
    assert finding.snippet.strip() == "time.sleep(0.05)"
    assert finding.properties["share"] == round(255 / 410, 4)
    assert finding.evidence[0].summary == "62% of event-loop samples (255 of 410) inside time.sleep"
    assert [(step.path, step.line, step.function) for step in finding.witness] == [
        ("demoapp/routes.py", 8, "get_rates"),
        ("demoapp/services.py", 5, "load_rates"),
    ]
    assert finding.witness[-1].note == "blocks in time.sleep"
    outcome = result.outcomes[0]
    assert outcome.ok and outcome.summary["event_loop_samples"] == 410
    assert outcome.summary["unplaced"] == [
        {"what": "time.sleep in flush_metrics (no async def frame)", "samples": 98}
    ]


def test_ingest_outcomes_report_failures_without_stopping() -> None:
    result = ingest_artifacts(_artifacts(), DEMO_ROOT, DEMO_ROUTES)
    outcomes = {(o.kind, o.name): o for o in result.outcomes}
    assert len(result.outcomes) == 10
    assert sum(o.ok for o in result.outcomes) == 7
    broken = outcomes[("pyspy", "malformed.txt")]
    assert broken.error.startswith("line 5: expected 'frame;frame;... count', got")
    unknown = outcomes[("auto", "routes.py")]
    assert unknown.error.startswith("unknown format: none of sarif, pyright, pyspy")
    wrong_kind = outcomes[("flamegraph", "one.txt")]
    assert wrong_kind.error.startswith("unknown artifact kind 'flamegraph'")
    pyright = outcomes[("pyright", "many.json")]
    assert pyright.summary["unplaced"] == [
        {"file": "/home/ci/work/vendor/other.py", "diagnostics": 1}
    ]
    locust = outcomes[("locust", "run")]
    assert (locust.summary["requests"], locust.summary["matched_routes"]) == (715, 3)


def test_ingest_signals_for_the_ranking() -> None:
    result = ingest_artifacts(_artifacts(), DEMO_ROOT, DEMO_ROUTES)
    assert result.route_traffic == {
        "GET /api/items/{item_id}": 449 / 715,
        "GET /api/orders": 96 / 715,
        "GET /api/rates": 170 / 715,
    }
    assert result.function_heat[("demoapp/services.py", "load_rates")] == 255 / 420
    assert result.function_heat[("demoapp/routes.py", "get_rates")] == 255 / 420
    table = result.load_test
    assert table["source"] == "run"
    assert [(row["name"], row["route"], row["p95_ms"]) for row in table["endpoints"]] == [
        ("/api/items/[id]", "GET /api/items/{item_id}", 35.0),
        ("/api/orders", "GET /api/orders", 10.0),
        ("/api/rates", "GET /api/rates", 95.0),
        ("Aggregated", "", 89.0),
    ]
    assert (table["overall"]["requests"], table["overall"]["p99_ms"]) == (715, 97.0)


def test_ingest_latency_budget_and_n_plus_one_threshold_options() -> None:
    artifacts = [
        ArtifactInput("locust", sample("locust/many"), "run"),
        ArtifactInput("sql-log", sample("sql_sqlalchemy/many.log")),
    ]
    strict = ingest_artifacts(
        artifacts,
        DEMO_ROOT,
        DEMO_ROUTES,
        options=IngestOptions(latency_budget_ms=50, n_plus_one_threshold=13),
    )
    slow = sorted(
        f.properties["route"] for f in strict.findings if f.category == "RUNTIME-SLOW-ENDPOINT"
    )
    assert slow == ["GET /api/orders", "GET /api/rates"]  # rates p95 95 ms; orders failing
    assert not [f for f in strict.findings if f.category == "RUNTIME-N-PLUS-ONE"]  # 12 < 13
    (rates,) = [f for f in strict.findings if f.properties.get("route") == "GET /api/rates"]
    assert rates.message.startswith(
        "The load test (run) measured GET /api/rates: p95 95 ms over the 50 ms budget"
    )
    assert rates.reach == ("GET /api/rates",)


def _static(category: str, path: str, line: int, reach: tuple[str, ...] = ()) -> Finding:
    return Finding(
        rule_id="static",
        category=category,
        severity=Severity.HIGH,
        title="t",
        message="m",
        path=path,
        start_line=line,
        reach=reach,
    )


def test_ingest_attaches_evidence_to_static_findings_at_the_same_place() -> None:
    sleep = _static("ASYNC-BLOCKING-SLEEP", "demoapp/services.py", 5)
    in_callback = _static("ASYNC-BLOCKING-SLEEP", "demoapp/routes.py", 21)
    n_plus_one = _static("DB-N-PLUS-ONE", "demoapp/routes.py", 27, reach=("GET /api/orders",))
    missing_await = _static("ASYNC-MISSING-AWAIT", "demoapp/routes.py", 30)
    unrelated = _static("PYD-ANY-FIELD", "demoapp/services.py", 5)
    elsewhere = _static("ASYNC-BLOCKING-SLEEP", "demoapp/typed.py", 6)
    static = [sleep, in_callback, n_plus_one, missing_await, unrelated, elsewhere]
    result = ingest_artifacts(_artifacts(), DEMO_ROOT, DEMO_ROUTES, static_findings=static)
    assert result.confirmed == 4
    assert [e.kind for e in sleep.evidence] == ["pyspy"]
    assert sleep.confirmed_at_runtime
    assert [e.kind for e in in_callback.evidence] == ["asyncio-log"]
    assert in_callback.evidence[0].summary.startswith("12 slow steps of callback flush_metrics()")
    assert [e.kind for e in n_plus_one.evidence] == ["sql-log"]
    assert [e.kind for e in missing_await.evidence] == ["asyncio-log"]
    assert unrelated.evidence == [] and elsewhere.evidence == []


@pytest.mark.parametrize("folder", sorted(FORMATS))
def test_ingest_auto_detects_every_sample_format(folder: str) -> None:
    if folder == "locust":
        assert detect_kind(SAMPLES / folder / "many") == "locust"  # the --csv prefix
        assert detect_kind(SAMPLES / folder / "many_exceptions.csv") is None
        many = SAMPLES / folder / "many_stats.csv"
    else:
        (many,) = (SAMPLES / folder).glob("many.*")
    assert detect_kind(many) == FORMATS[folder]


@pytest.mark.parametrize("folder", sorted(FORMATS))
def test_ingest_every_format_has_its_four_samples(folder: str) -> None:
    stems = {
        path.name.split(".")[0].removesuffix("_stats") for path in (SAMPLES / folder).iterdir()
    }
    assert {"empty", "one", "many", "malformed"} <= stems


@pytest.mark.parametrize("folder", sorted(FORMATS))
@pytest.mark.parametrize("variant", ["empty", "malformed"])
def test_ingest_bad_samples_fail_their_artifact_only(folder: str, variant: str) -> None:
    path = next(p for p in (SAMPLES / folder).iterdir() if p.name.startswith(variant))
    result = ingest_artifacts([ArtifactInput(FORMATS[folder], path)], DEMO_ROOT, DEMO_ROUTES)
    (outcome,) = result.outcomes
    assert not outcome.ok
    assert outcome.error
    assert result.findings == []


def test_ingest_registry_lists_the_documented_kinds() -> None:
    assert list(KINDS) == ["sarif", "pyright", "pyspy", "mypy", "locust", "asyncio-log", "sql-log"]
    assert read_head(sample("pyspy_raw/one.txt")).startswith(b"_run_module_as_main")


def test_ingest_without_files_argument_walks_the_root(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "rates.py").write_text(
        "import time\n\n\nasync def f():\n    time.sleep(1)\n"
    )
    profile = tmp_path / "p.txt"
    profile.write_text(
        "run_forever (asyncio/base_events.py:607);_run_once (asyncio/base_events.py:1922);"
        "f (/deploy/app/svc/rates.py:5) 40\n"
        "run_forever (asyncio/base_events.py:607);_run_once (asyncio/base_events.py:1922);"
        "EpollSelector.select (selectors.py:468) 60\n"
    )
    result = ingest_artifacts([ArtifactInput("auto", profile)], tmp_path, [])
    (finding,) = result.findings
    assert (finding.path, finding.start_line, finding.enclosing) == ("svc/rates.py", 5, "f")
    assert finding.properties["share"] == 0.4
    assert result.outcomes[0].summary["event_loop_idle_samples"] == 60


def test_ingest_two_profiles_of_one_run_give_one_finding_with_both_evidences() -> None:
    artifacts = [
        ArtifactInput("pyspy", sample("pyspy_speedscope/many.json")),
        ArtifactInput("pyspy", sample("pyspy_raw/many.txt")),
    ]
    result = ingest_artifacts(artifacts, DEMO_ROOT, DEMO_ROUTES)
    (finding,) = result.findings
    assert [e.summary for e in finding.evidence] == [
        "62% of event-loop samples (255 of 410) inside time.sleep",
        "65% of event-loop samples (280 of 432) inside time.sleep",
    ]
    assert result.function_heat[("demoapp/services.py", "load_rates")] == (255 + 280) / (420 + 445)


def test_ingest_server_slow_steps_are_placed_by_the_profile(tmp_path: Path) -> None:
    log = tmp_path / "uvicorn.log"
    task = (
        "WARNING:asyncio:Executing <Task pending name='Task-{n}' "
        "coro=<RequestResponseCycle.run_asgi() running at "
        "/usr/local/lib/python3.12/site-packages/uvicorn/protocols/http/h11_impl.py:403> "
        "cb=[set.discard()]> took {seconds} seconds\n"
    )
    log.write_text(task.format(n=9, seconds="0.061") + task.format(n=12, seconds="0.052"))
    alone = ingest_artifacts([ArtifactInput("asyncio-log", log)], DEMO_ROOT, DEMO_ROUTES)
    assert alone.findings == []
    assert alone.outcomes[0].summary["unplaced"][0]["what"] == "task RequestResponseCycle.run_asgi"
    artifacts = [
        ArtifactInput("asyncio-log", log),
        ArtifactInput("pyspy", sample("pyspy_raw/many.txt")),
    ]
    result = ingest_artifacts(artifacts, DEMO_ROOT, DEMO_ROUTES)
    (slow,) = [f for f in result.findings if f.category == "RUNTIME-SLOW-CALLBACK"]
    assert (slow.path, slow.start_line, slow.confidence) == ("demoapp/services.py", 5, "medium")
    assert slow.evidence[0].summary == (
        "2 slow steps of RequestResponseCycle.run_asgi() in server code (max 0.061 s)"
    )
    assert slow.evidence[1].kind == "pyspy"


def test_ingest_function_level_profile_without_line_numbers(tmp_path: Path) -> None:
    profile = tmp_path / "functions.txt"  # py-spy record --function: frames carry no line
    profile.write_text(
        "run (asyncio/runners.py);Runner.run (asyncio/runners.py);"
        "get_rates (/srv/demoapp/routes.py);load_rates (/srv/demoapp/services.py);"
        "SocketIO.readinto (socket.py) 12\n"
    )
    result = ingest_artifacts([ArtifactInput("pyspy", profile)], DEMO_ROOT, DEMO_ROUTES)
    (finding,) = result.findings
    assert (finding.path, finding.start_line, finding.enclosing) == (
        "demoapp/services.py",
        4,
        "load_rates",
    )
    assert finding.witness[-1].note == "blocks in SocketIO.readinto (socket.py)"


def test_ingest_formats_cover_every_registered_kind() -> None:
    assert set(FORMATS.values()) == set(KINDS)
