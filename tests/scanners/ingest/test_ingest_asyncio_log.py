"""asyncio debug-log parser: a real capture, a live run, and edge cases."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from scanners.ingest import asyncio_log
from scanners.ingest.asyncio_log import CodeLocation
from scanners.ingest.errors import ArtifactParseError
from tests.scanners.ingest.conftest import DEMO_ROOT, sample


def _parse(relative: str) -> asyncio_log.AsyncioLog:
    with sample(relative).open("rb") as handle:
        return asyncio_log.parse(handle)


def test_asyncio_log_many_groups_slow_steps_per_location() -> None:
    log = _parse("asyncio_log/many.log")
    task, callback = log.slow_steps
    assert (task.kind, task.name, task.count, task.max_seconds) == ("task", "get_rates", 12, 0.051)
    assert task.location == CodeLocation("/tmp/ingest-demo/demoapp/routes.py", 7)
    assert round(task.total_seconds, 3) == 0.609
    assert (callback.kind, callback.name, callback.count) == ("callback", "flush_metrics", 12)
    assert callback.location == CodeLocation("/tmp/ingest-demo/demoapp/routes.py", 20)
    assert callback.created_at == CodeLocation("/tmp/ingest-demo/demoapp/routes.py", 31)
    assert log.slow_step_lines == 24
    assert log.summary()["slowest_seconds"] == 0.051


def test_asyncio_log_never_awaited_points_at_the_creating_line() -> None:
    (record,) = _parse("asyncio_log/many.log").never_awaited
    assert record.name == "never_awaited"
    assert record.location == CodeLocation("/tmp/ingest-demo/demoapp/routes.py", 30, "serve")
    assert (record.count, record.first_log_line) == (1, 20)


def test_asyncio_log_one_line() -> None:
    log = _parse("asyncio_log/one.log")
    assert [(s.kind, s.name, s.count, s.max_seconds) for s in log.slow_steps] == [
        ("callback", "flush_metrics", 1, 0.02)
    ]
    assert log.never_awaited == []


def test_asyncio_log_logging_prefix_and_server_task() -> None:
    text = (
        "2026-11-22 09:00:00,001 WARNING asyncio Executing <Task pending name='Task-7' "
        "coro=<RequestResponseCycle.run_asgi() running at /usr/local/lib/python3.12/site-packages/"
        "uvicorn/protocols/http/h11_impl.py:403> cb=[set.discard()] created at "
        "/usr/local/lib/python3.12/asyncio/tasks.py:420> took 0.823 seconds\n"
        "app.py:12: RuntimeWarning: coroutine 'send_mail' was never awaited\n"
        "  send_mail(user)\n"
    )
    log = asyncio_log.parse(io.StringIO(text))
    (step,) = log.slow_steps
    assert (step.name, step.max_seconds) == ("RequestResponseCycle.run_asgi", 0.823)
    assert step.location is not None and step.location.line == 403
    (record,) = log.never_awaited
    assert (record.name, record.location) == ("send_mail", CodeLocation("app.py", 12))


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("asyncio_log/empty.log", "empty file"),
        ("asyncio_log/malformed.log", "no asyncio debug lines among 2 lines"),
    ],
)
def test_asyncio_log_bad_input(relative: str, message: str) -> None:
    with pytest.raises(ArtifactParseError, match=message):
        _parse(relative)


def test_asyncio_log_live_debug_mode_run() -> None:
    """Run the demo service in asyncio debug mode and parse what Python itself writes."""
    env = {**os.environ, "PYTHONASYNCIODEBUG": "1", "PYTHONPATH": str(DEMO_ROOT)}
    completed = subprocess.run(
        [sys.executable, "-m", "demoapp.routes", "0.6"],
        cwd=DEMO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    log = asyncio_log.parse(io.StringIO(completed.stderr))
    names = {step.name: step for step in log.slow_steps}
    assert names["get_rates"].kind == "task"
    assert names["get_rates"].max_seconds >= 0.05
    assert names["flush_metrics"].kind == "callback"
    assert names["flush_metrics"].location is not None
    assert names["flush_metrics"].location.path.endswith("demoapp/routes.py")
    assert names["flush_metrics"].location.line == 20
    assert [(r.name, r.location.line if r.location else 0) for r in log.never_awaited] == [
        ("never_awaited", 30)
    ]
