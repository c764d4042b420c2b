"""A real ``celery -A audit_platform worker`` process for pipeline tests.

The worker runs prefork children against the real broker (Redis) and the database the test
process uses (pytest-django's ``test_<name>``), so a test exercises exactly what production runs:
messages, acknowledgements, redelivery after a killed child, separate processes and connections.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import redis
from celery import Celery
from django.apps import apps

REPO_ROOT = Path(__file__).resolve().parents[2]
FINAL_SCAN_STATES = frozenset({"succeeded", "failed", "cancelled"})
SCAN_MODEL = "scans.Scan"  # looked up at call time: the test process loads settings first
T = TypeVar("T")


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of a connection's ``settings_dict`` (after pytest-django renamed it ``test_…``)."""
    engine = settings_dict["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(settings_dict['NAME']).resolve()}"
    if engine != "django.db.backends.postgresql":
        raise ValueError(f"no live-worker support for database engine {engine}")
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "localhost"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


def redis_available(broker_url: str) -> bool:
    if not broker_url.startswith(("redis://", "rediss://")):
        return False
    try:
        return bool(redis.Redis.from_url(broker_url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the test process dies."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def wait_until(
    probe: Callable[[], T | None], *, timeout: float, interval: float = 0.1, what: str
) -> T:
    """Call ``probe`` until it returns something truthy (a non-empty list, True, an object) and
    return that; raise TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class LiveWorker:
    """A running worker process: ask it for its pool children, kill one, wait for a scan."""

    app: Celery
    process: subprocess.Popen[bytes]
    hostname: str
    queue: str
    broker_url: str
    log_path: Path

    def log_tail(self, chars: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def ping(self, timeout: float = 1.0) -> bool:
        replies = self.app.control.ping(destination=[self.hostname], timeout=timeout) or []
        return any(self.hostname in reply for reply in replies)

    def _inspect(self, method: str) -> Any:
        """The worker's reply to an inspect command, or None when it did not answer in time."""
        inspector = self.app.control.inspect(destination=[self.hostname], timeout=2.0)
        replies = getattr(inspector, method)() or {}
        return replies.get(self.hostname)

    def pool_pids(self) -> list[int]:
        """PIDs of the prefork pool's children (the processes that run tasks)."""
        stats = self._inspect("stats") or {}
        return [int(pid) for pid in stats.get("pool", {}).get("processes", [])]

    def busy_pids(self, task_name: str | None = None) -> list[int]:
        """PIDs of the children running a task now (only ``task_name`` if given)."""
        active = self._inspect("active") or []
        return [
            int(task["worker_pid"])
            for task in active
            if task.get("worker_pid") and (task_name is None or task.get("name") == task_name)
        ]

    def wait_for_busy_pid(self, task_name: str | None = None, timeout: float = 60) -> int:
        """The PID of a child that has started ``task_name``: the one to SIGKILL mid-task."""
        pids = wait_until(
            lambda: self.busy_pids(task_name),
            timeout=timeout,
            interval=0.05,
            what=f"a worker child running {task_name or 'any task'}",
        )
        return pids[0]

    def is_idle(self) -> bool:
        """No task queued, reserved or running: nothing will write to the database any more."""
        client = redis.Redis.from_url(self.broker_url, socket_connect_timeout=2)
        if client.llen(self.queue):
            return False
        # No reply (None, a busy worker under load) is not an empty list: not known to be idle.
        return bool(self._inspect("active") == [] and self._inspect("reserved") == [])

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait until the worker is idle twice in a row (a task may enqueue a follow-up task)."""

        def idle_twice() -> bool:
            if not self.is_idle():
                return False
            time.sleep(0.3)
            return self.is_idle()

        wait_until(idle_twice, timeout=timeout, interval=0.2, what=f"{self.hostname} to be idle")

    def kill_child(self, pid: int) -> None:
        """SIGKILL one pool child, as the OOM killer would; the pool starts a replacement."""
        # An empty list means the worker did not answer in time: ask again.
        if pid not in wait_until(self.pool_pids, timeout=30, what="the pool's PIDs"):
            raise ValueError(f"{pid} is not a pool child of {self.hostname}")
        os.kill(pid, signal.SIGKILL)

    def wait_for_scan(self, scan_id: int, timeout: float = 120) -> Any:
        """Poll the database until the scan is final; return the Scan. Shows the log on timeout."""
        scan_model = apps.get_model(SCAN_MODEL)

        def final_scan() -> Any:
            scan = scan_model.objects.get(pk=scan_id)
            return scan if scan.status in FINAL_SCAN_STATES else None

        try:
            return wait_until(final_scan, timeout=timeout, interval=0.2, what=f"scan {scan_id}")
        except TimeoutError as exc:
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited; log:\n{self.log_tail()}") from exc
            raise AssertionError(f"{exc}; worker log:\n{self.log_tail()}") from exc

    def stop(self, timeout: float = 30) -> None:
        """Warm shutdown (finish the current task), then SIGKILL the whole process group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def start_worker(
    app: Celery,
    *,
    database_url: str,
    broker_url: str,
    queue: str,
    log_path: Path,
    concurrency: int = 2,
    timeout: float = 60,
) -> LiveWorker:
    """Start the worker on ``queue`` and return once it answers a ping."""
    hostname = f"{queue}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "audit_platform.settings.test"
        ),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "audit_platform", "worker"]
    command += ["--pool", "prefork", "--concurrency", str(concurrency), "--queues", queue]
    command += ["--hostname", hostname, "--loglevel", "INFO"]
    command += ["--without-mingle", "--without-gossip"]
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        # Its own process group, so stop() can take the pool children down with it.
        start_new_session=True,
        # A pytest run that is killed (timeout, crash) must not leave a worker behind.
        preexec_fn=_die_with_parent,  # noqa: PLW1509 (only a prctl call; no locks taken)
    )
    log_file.close()
    worker = LiveWorker(app, process, hostname, queue, broker_url, log_path)

    def answered() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited with {process.returncode}:\n{worker.log_tail()}")
        return worker.ping(timeout=0.5)

    try:
        wait_until(answered, timeout=timeout, interval=0.2, what="the worker to answer a ping")
    except TimeoutError as exc:
        worker.stop(timeout=5)
        raise RuntimeError(f"{exc}; worker log:\n{worker.log_tail()}") from exc
    return worker
