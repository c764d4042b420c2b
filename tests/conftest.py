"""Fixtures shared by the whole suite: a live Celery worker process and real git repositories.

``live_worker`` needs a Redis broker (``./dev test`` starts one; so does CI). Tests that use it
must also use ``transactional_db``: the worker is another process and only sees committed rows.
It reads its configuration from the environment, so ``settings`` fixture overrides made in the
test process do not reach it (``MEDIA_ROOT`` is ``$AUDIT_DATA_DIR/storage`` on both sides).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

from audit_platform.celery import app as celery_app
from tests.support.gitrepo import GitRepo, make_git_repo
from tests.support.worker import LiveWorker, database_url, redis_available, start_worker

TESTS_DIR = Path(__file__).resolve().parent

# One queue per test session, so two runs sharing a Redis never take each other's tasks.
celery_app.conf.task_default_queue = os.environ.get(
    "CELERY_TASK_DEFAULT_QUEUE", f"tests-{uuid.uuid4().hex[:10]}"
)


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    # A `fixtures` folder holds code the scanner reads (sample services with their own tests),
    # never tests of this project.
    if not collection_path.is_relative_to(TESTS_DIR):
        return None
    return True if "fixtures" in collection_path.relative_to(TESTS_DIR).parts else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test that uses the live worker carries the marker, so `-m "not worker"` deselects it.
    for item in items:
        if "live_worker" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.worker)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Before transactional_db empties the tables, let the worker finish what the test started
    # (a redelivered task, a follow-up notification): it would otherwise write into the next test.
    result = yield
    worker = getattr(item, "funcargs", {}).get("live_worker")
    if isinstance(worker, LiveWorker):
        worker.wait_idle()
    return result


@pytest.fixture(scope="session")
def live_worker(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveWorker]:
    """A real ``celery worker`` (prefork, 2 children) on this session's queue and test database."""
    broker_url = str(settings.CELERY_BROKER_URL)
    if not redis_available(broker_url):
        reason = (
            f"the live worker needs a Redis broker; CELERY_BROKER_URL is {broker_url!r} "
            "(run the suite with ./dev test, which starts Redis when redis-server is installed)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the worker tests: {reason}")
        pytest.skip(reason)
    worker = start_worker(
        celery_app,
        database_url=database_url(connections["default"].settings_dict),
        broker_url=broker_url,
        queue=str(celery_app.conf.task_default_queue),
        log_path=tmp_path_factory.mktemp("celery-worker") / "worker.log",
    )
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def git_repo_factory(tmp_path: Path) -> Callable[..., GitRepo]:
    """Make real git repositories in this test's tmp dir: ``git_repo_factory({"a.py": "..."})``."""
    counter = iter(range(1_000_000))

    def make(
        files: dict[str, str],
        *,
        message: str = "initial commit",
        branch: str = "main",
        name: str | None = None,
    ) -> GitRepo:
        path = tmp_path / (name or f"repo{next(counter)}")
        return make_git_repo(path, files, message=message, branch=branch)

    return make
