"""Settings, README and docker-compose agree, and the settings behave as documented."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from audit_platform.settings.base import database_from_url

REPO = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"""env\.\w+\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def settings_variables() -> set[str]:
    found: set[str] = set()
    for module in (REPO / "audit_platform" / "settings").glob("*.py"):
        found.update(ENV_READ.findall(module.read_text()))
    return found


def readme_table_variables() -> set[str]:
    rows = [
        line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("| `")
    ]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_environment_variable_is_in_the_readme_table() -> None:
    variables = settings_variables()
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "EMAIL_URL", "DJANGO_SECRET_KEY"} <= variables
    assert variables - readme_table_variables() == set()


def run_settings_probe(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AUDIT_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_embedded_defaults_are_sqlite_in_wal_mode_and_a_filesystem_broker(tmp_path: Path) -> None:
    probe = run_settings_probe(
        "from django.db import connection; from django.conf import settings; "
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0]); "
        "print(settings.CELERY_BROKER_URL); print(settings.MEDIA_ROOT); "
        "print(settings.AUDIT_ALLOW_LOCAL_GIT_SOURCES)",
        DJANGO_SETTINGS_MODULE="audit_platform.settings.local",
        AUDIT_DATA_DIR=str(tmp_path),
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == [
        "wal",
        "30000",
        "filesystem://localhost/",
        f"{tmp_path}/storage",
        "True",
    ]
    assert (tmp_path / "audit.sqlite3").exists()
    assert sorted(p.name for p in (tmp_path / "broker").iterdir()) == [
        "control",
        "processed",
        "queue",
    ]


def test_limits_come_from_the_environment(tmp_path: Path) -> None:
    probe = run_settings_probe(
        "from django.conf import settings as s; print(s.AUDIT_MAX_ARCHIVE_BYTES, "
        "s.AUDIT_MAX_ARCHIVE_FILES, s.AUDIT_ALLOW_LOCAL_GIT_SOURCES, s.CELERY_TASK_TIME_LIMIT)",
        DJANGO_SETTINGS_MODULE="audit_platform.settings.base",
        AUDIT_DATA_DIR=str(tmp_path),
        AUDIT_MAX_ARCHIVE_BYTES="1234",
        AUDIT_MAX_ARCHIVE_FILES="7",
        SCAN_TIME_LIMIT="99",
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["1234", "7", "False", "99"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    probe = run_settings_probe(
        "pass",
        DJANGO_SETTINGS_MODULE="audit_platform.settings.production",
        AUDIT_DATA_DIR=str(tmp_path),
    )
    assert probe.returncode != 0
    assert "DJANGO_SECRET_KEY" in probe.stderr


def test_postgres_url_keeps_connections_healthy() -> None:
    config = database_from_url("postgres://audit:secret@db:5432/audit")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["HOST"], config["PORT"]) == ("audit", "db", 5432)
    assert config["CONN_HEALTH_CHECKS"] is True
    assert "init_command" not in config.get("OPTIONS", {})


def compose() -> dict[str, dict[str, dict[str, object]]]:
    loaded: dict[str, dict[str, dict[str, object]]] = yaml.safe_load(
        (REPO / "docker-compose.yml").read_text()
    )
    return loaded


def test_compose_runs_every_process_with_the_servers_wired_in() -> None:
    services = compose()["services"]
    assert set(services) == {"web", "worker", "beat", "db", "redis", "mail"}
    assert "gunicorn" in str(services["web"]["command"])
    assert "worker" in str(services["worker"]["command"])
    assert "beat" in str(services["beat"]["command"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert isinstance(env, dict)
        assert str(env["DATABASE_URL"]).startswith("postgres://audit:")
        assert str(env["DATABASE_URL"]).endswith("@db:5432/audit")
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["EMAIL_URL"] == "smtp://mail:1025"
        assert env["DJANGO_SETTINGS_MODULE"] == "audit_platform.settings.production"
        assert set(env) <= settings_variables() | {"DJANGO_SETTINGS_MODULE"}


def test_compose_file_validates_with_docker_compose() -> None:
    binary = shutil.which("docker-compose")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs docker-compose to validate the compose file")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [binary, "--file", str(REPO / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
