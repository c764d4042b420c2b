"""The throwaway-services runner behind ``./dev test``: real servers in, nothing left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.services import postgres_bin_dir, redis_ping
from tests.support.worker import wait_until

REPO = Path(__file__).resolve().parents[2]
RUNNER = [sys.executable, "-m", "tests.support.services", "--"]
PROBE = """
import json, os, psycopg, redis
with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
    version = conn.execute("show server_version").fetchone()[0]
pong = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).ping()
keys = ("DATABASE_URL", "CELERY_BROKER_URL", "AUDIT_DATA_DIR", "TMPDIR")
keys += ("CELERY_TASK_DEFAULT_QUEUE",)
print(json.dumps({"version": version, "pong": pong, **{k: os.environ[k] for k in keys}}))
"""

needs_servers = pytest.mark.skipif(
    postgres_bin_dir() is None or shutil.which("redis-server") is None,
    reason="PostgreSQL or Redis binaries are not installed",
)


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        RUNNER + command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )


@needs_servers
def test_command_gets_live_postgres_and_redis_which_are_gone_afterwards() -> None:
    completed = run([sys.executable, "-c", PROBE])
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["pong"] is True
    assert seen["version"].split(".")[0].isdigit()
    assert seen["DATABASE_URL"].startswith("postgres://postgres@127.0.0.1:")
    assert seen["DATABASE_URL"].endswith("/audit")
    assert seen["CELERY_BROKER_URL"].startswith("redis://127.0.0.1:")
    assert seen["CELERY_TASK_DEFAULT_QUEUE"].startswith("tests-")
    workdir = Path(seen["AUDIT_DATA_DIR"]).parent
    assert Path(seen["TMPDIR"]).parent == workdir
    assert not workdir.exists()
    port = int(seen["CELERY_BROKER_URL"].rsplit(":", 1)[1].split("/")[0])
    assert not redis_ping("127.0.0.1", port)


def test_exit_status_is_the_commands() -> None:
    completed = run([sys.executable, "-c", "raise SystemExit(7)"])
    assert completed.returncode == 7


@needs_servers
def test_sigterm_reaches_the_command_and_the_servers_are_still_stopped() -> None:
    process = subprocess.Popen(
        [*RUNNER, "sleep", "120"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    announced = ""
    while "Redis at" not in announced:
        line = process.stderr.readline()
        assert line, f"the runner ended early: {announced}"
        announced += line
    port = int(announced.split("Redis at redis://127.0.0.1:")[1].split("/")[0])
    assert redis_ping("127.0.0.1", port)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=60)
    # Whether it reached sleep or interrupted the setup, it is reported as a shell would.
    assert status == 128 + signal.SIGTERM
    assert time.monotonic() - started < 60
    assert not redis_ping("127.0.0.1", port)


def test_usage_without_a_command() -> None:
    completed = run([])
    assert completed.returncode == 2
    assert "usage:" in completed.stderr


@needs_servers
def test_sigterm_during_setup_leaves_nothing_running() -> None:
    private_tmp = Path(tempfile.mkdtemp(prefix="audit-services-test-"))
    private_tmp.chmod(0o755)  # PostgreSQL runs as its own user and must reach its workdir
    try:
        process = subprocess.Popen(
            [*RUNNER, "sleep", "120"],
            cwd=REPO,
            env={**os.environ, "TMPDIR": str(private_tmp)},
            stderr=subprocess.PIPE,
            text=True,
        )
        # Interrupt while the servers are being set up (before the command can start).
        wait_until(lambda: any(private_tmp.iterdir()), timeout=30, interval=0.01, what="setup")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 128 + signal.SIGTERM
        assert list(private_tmp.iterdir()) == []
    finally:
        shutil.rmtree(private_tmp, ignore_errors=True)
