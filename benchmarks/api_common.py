"""Shared by the API benchmarks: Django set-up on the configured database, a gunicorn server on
loopback, concurrent clients and percentiles."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def prepare_database() -> None:
    if connection.vendor != "postgresql":
        print(f"note: running on {connection.vendor}, the target is for PostgreSQL", flush=True)
    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """gunicorn serving the project on 127.0.0.1 with the benchmark's environment."""

    def __init__(self, workers: int, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # As deployed: persistent database connections (opening one per request was a fifth of
        # a worker's CPU time); the process environment may still override it.
        env = {"DATABASE_CONN_MAX_AGE": "600", **os.environ, **(extra_env or {})}
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "audit_platform.wsgi",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                "--timeout", "120", "--log-level", "warning",
            ],
            cwd=REPO,
            env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def run_clients(
    clients: int, requests_per_client: int, one_request: Callable[[int, int], None]
) -> tuple[list[float], float]:
    """Run ``one_request(client, index)`` from ``clients`` threads; return latencies (ms) and
    the wall time (s)."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(client: int) -> None:
        for index in range(requests_per_client):
            started = time.perf_counter()
            try:
                one_request(client, index)
            except BaseException as exc:
                with lock:
                    errors.append(exc)
                return
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed; first: {errors[0]!r}")
    return latencies, wall


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def summary(name: str, latencies: list[float], wall: float) -> str:
    return (
        f"{name}: {len(latencies)} requests in {wall:.1f} s ({len(latencies) / wall:.0f}/s); "
        f"p50 {percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms, mean {statistics.fmean(latencies):.0f} ms"
    )


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"
