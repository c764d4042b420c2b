"""Throwaway PostgreSQL and Redis on free loopback ports for one test run (or any other command).

``python -m tests.support.services -- pytest -x`` starts both servers when their binaries exist,
exports ``DATABASE_URL``, ``CELERY_BROKER_URL``, ``AUDIT_DATA_DIR``, ``TMPDIR`` and
``CELERY_TASK_DEFAULT_QUEUE`` to the command, runs it, stops the servers and exits with the
command's status. Without the binaries it falls back to SQLite and the filesystem broker and says
so; with ``CI`` set, a server that cannot start is an error, because CI must test on PostgreSQL
with a real worker.

PostgreSQL refuses to run as root: as root, ``initdb`` and ``pg_ctl`` run as the ``postgres`` user
through ``runuser``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

POSTGRES_DATABASE = "audit"
START_TIMEOUT_SECONDS = 60


class ServiceError(RuntimeError):
    """A server was found but did not start; the message says why (and where its log is)."""


def notice(message: str) -> None:
    print(f"[test services] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def postgres_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` live: on PATH, or Debian's versioned directory."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    for candidate in reversed(candidates):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


@dataclass
class ThrowawayServices:
    """The servers started for one run; ``stop()`` removes every trace of them."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    _stops: list[tuple[str, contextlib.ExitStack]] = field(default_factory=list)

    def stop(self) -> None:
        for name, stack in reversed(self._stops):
            try:
                stack.close()
            except (OSError, subprocess.SubprocessError) as exc:
                notice(f"stopping {name} failed: {exc}")
        self._stops.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _as_postgres_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start_postgres(workdir: Path, stack: contextlib.ExitStack) -> str:
    """Start a PostgreSQL cluster in ``workdir`` and return the URL of its ``audit`` database."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise FileNotFoundError("PostgreSQL binaries (initdb, pg_ctl) not found")
    pg_dir = workdir / "postgres"
    pg_dir.mkdir(mode=0o700)
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ServiceError("running as root but there is no 'postgres' user") from exc
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        os.chown(pg_dir, owner.pw_uid, owner.pw_gid)
    data_dir, log_file = pg_dir / "data", pg_dir / "server.log"
    port = free_port()
    _run(
        _as_postgres_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        ),
        "initdb",
    )
    # Durability is pointless for a database that is deleted after the run; speed is not.
    server_options = (
        f"-p {port} -k {pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
    )
    pg_ctl = str(bin_dir / "pg_ctl")
    _run(
        _as_postgres_user(
            [
                pg_ctl,
                "-D",
                str(data_dir),
                "-o",
                server_options,
                "-l",
                str(log_file),
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "start",
            ]
        ),
        f"pg_ctl start (log: {log_file})",
    )
    stack.callback(
        subprocess.run,
        _as_postgres_user([pg_ctl, "-D", str(data_dir), "-m", "immediate", "-w", "stop"]),
        capture_output=True,
        check=False,
    )
    _run(
        [
            str(bin_dir / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            POSTGRES_DATABASE,
        ],
        "createdb",
    )
    return f"postgres://postgres@127.0.0.1:{port}/{POSTGRES_DATABASE}"


def redis_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(workdir: Path, stack: contextlib.ExitStack) -> str:
    """Start an in-memory Redis on a free loopback port and return its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server not found")
    redis_dir = workdir / "redis"
    redis_dir.mkdir()
    port = free_port()
    log_file = redis_dir / "server.log"
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(redis_dir),
            "--logfile",
            str(log_file),
            "--daemonize",
            "no",
        ],
        stdin=subprocess.DEVNULL,
        # Its own session: a Ctrl-C in the terminal goes to pytest, and we stop Redis afterwards.
        start_new_session=True,
    )
    stack.callback(_terminate, process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not redis_ping("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise ServiceError(f"redis-server did not start (log: {log_file})")
        time.sleep(0.05)
    return f"redis://127.0.0.1:{port}/0"


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _run(command: list[str], what: str) -> None:
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip()[-2000:]
        raise ServiceError(f"{what} failed with status {completed.returncode}: {output}")


@contextlib.contextmanager
def throwaway_services(
    *, postgres: bool = True, redis: bool = True, required: bool = False
) -> Iterator[ThrowawayServices]:
    """Start what is available; ``env`` holds the variables the command under test needs."""
    workdir = Path(tempfile.mkdtemp(prefix="audit-services-"))
    workdir.chmod(0o755)
    services = ThrowawayServices(workdir=workdir)
    data_dir, temp_dir = workdir / "data", workdir / "tmp"
    data_dir.mkdir()
    temp_dir.mkdir()
    services.env.update(
        {
            "AUDIT_DATA_DIR": str(data_dir),
            # A private temp dir: pytest prunes other sessions' old /tmp/pytest-of-<user>/pytest-N
            # folders, which broke tests of runs that overlapped on one machine.
            "TMPDIR": str(temp_dir),
            "CELERY_TASK_DEFAULT_QUEUE": f"tests-{uuid.uuid4().hex[:10]}",
        }
    )
    starters = [
        ("PostgreSQL", "DATABASE_URL", start_postgres, postgres, "SQLite"),
        ("Redis", "CELERY_BROKER_URL", start_redis, redis, "the filesystem broker"),
    ]
    try:
        for name, variable, start, wanted, fallback in starters:
            if not wanted:
                continue
            stack = contextlib.ExitStack()
            services._stops.append((name, stack))
            try:
                services.env[variable] = start(workdir, stack)
                notice(f"{name} at {services.env[variable]}")
            except (FileNotFoundError, ServiceError, OSError) as exc:
                if required:
                    raise ServiceError(f"{name} is required here (CI) but: {exc}") from exc
                notice(f"{name} unavailable ({exc}); falling back to {fallback}.")
        yield services
    finally:
        services.stop()


class StopRequested(Exception):
    """SIGTERM/SIGHUP arrived before the command started: unwind, stopping what already runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signum}")
        self.signum = signum


def run_with_services(command: list[str]) -> int:
    """Run ``command`` with throwaway services and return its exit status."""
    required = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    running: list[subprocess.Popen[bytes]] = []

    # `timeout`, CI runners and closed terminals stop us with SIGTERM/SIGHUP. Once the command
    # runs it gets the signal and we wait for it; before that, setup unwinds. Either way the
    # servers are stopped by the `finally` of throwaway_services.
    def on_signal(signum: int, _frame: object) -> None:
        if running:
            running[0].send_signal(signum)
        else:
            raise StopRequested(signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        with throwaway_services(required=required) as services:
            running.append(subprocess.Popen(command, env={**os.environ, **services.env}))
            while True:
                try:
                    status = running[0].wait()
                    # Killed by a signal: report it as shells do (128 + signal number).
                    return 128 - status if status < 0 else status
                except KeyboardInterrupt:
                    # The terminal sent SIGINT to the command too; wait for it to finish cleanly.
                    continue
    except ServiceError as exc:
        notice(str(exc))
        return 3
    except StopRequested as exc:
        notice(f"{exc} while starting the services; they are stopped")
        return 128 + exc.signum


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.support.services -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run_with_services(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
