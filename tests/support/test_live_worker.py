"""The live worker fixture: a real worker process whose pool children a test can find and kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.worker import LiveWorker, database_url, wait_until


def parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; the fields after its closing ")" do not.
    return int(stat.rsplit(")", 1)[1].split()[1])


@pytest.mark.django_db(transaction=True)
def test_live_worker_answers_and_owns_its_pool_children(live_worker: LiveWorker) -> None:
    assert live_worker.ping()
    pids = live_worker.pool_pids()
    assert len(pids) == 2
    assert {parent_pid(pid) for pid in pids} == {live_worker.process.pid}
    assert live_worker.busy_pids() == []
    assert live_worker.is_idle()


@pytest.mark.django_db(transaction=True)
def test_killed_pool_child_is_replaced(live_worker: LiveWorker) -> None:
    victim = live_worker.pool_pids()[0]
    live_worker.kill_child(victim)
    replaced = wait_until(
        lambda: (pids := live_worker.pool_pids()) and victim not in pids and len(pids) == 2,
        timeout=30,
        what="the pool to replace the killed child",
    )
    assert replaced is True
    assert live_worker.ping()


def test_kill_child_refuses_a_pid_outside_the_pool(live_worker: LiveWorker) -> None:
    with pytest.raises(ValueError, match="not a pool child"):
        live_worker.kill_child(live_worker.process.pid)


def test_database_url_of_postgres_settings_quotes_credentials() -> None:
    settings_dict = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "test_audit",
        "USER": "audit",
        "PASSWORD": "p@ss/word",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }
    assert database_url(settings_dict) == "postgres://audit:p%40ss%2Fword@127.0.0.1:5432/test_audit"


def test_database_url_of_sqlite_settings_is_absolute(tmp_path: Path) -> None:
    settings_dict = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "t.sqlite3")}
    assert database_url(settings_dict) == f"sqlite:///{tmp_path}/t.sqlite3"


def test_database_url_rejects_other_engines() -> None:
    with pytest.raises(ValueError, match="mysql"):
        database_url({"ENGINE": "django.db.backends.mysql", "NAME": "x"})


@pytest.mark.django_db(transaction=True)
def test_task_sent_from_the_test_process_runs_in_the_worker(live_worker: LiveWorker) -> None:
    # The test process and the worker agree on the session's queue: a real task goes through.
    result = live_worker.app.send_task("projects.dispatch_scheduled_scans")
    live_worker.wait_idle(timeout=60)
    assert f"projects.dispatch_scheduled_scans[{result.id}] succeeded" in live_worker.log_tail()
    assert live_worker.queue.startswith("tests-")


def test_wait_until_waits_past_empty_results() -> None:
    answers = iter([[], None, False, [4242]])
    assert wait_until(lambda: next(answers), timeout=5, interval=0.01, what="pids") == [4242]


def test_wait_until_times_out_with_what_it_waited_for() -> None:
    with pytest.raises(TimeoutError, match="waiting for a child"):
        wait_until(list, timeout=0.05, interval=0.01, what="a child")
