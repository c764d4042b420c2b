"""Celery tasks of the scans app: thin wrappers that take an id and call the pipeline."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import OperationalError

from audit_platform.scans.pipeline import scan_notify, scan_run
from audit_platform.scans.sources import TransientSourceError

SOFT_TIME_LIMIT = int(getattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT", 1800))
HARD_TIME_LIMIT = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", SOFT_TIME_LIMIT + 100))
MAX_RETRIES = 3
_RELIABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,  # a killed worker's task goes back to the queue
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": MAX_RETRIES,
}


@shared_task(
    bind=True,
    name="scans.run_scan",
    autoretry_for=(OperationalError, TransientSourceError),
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
    **_RELIABLE,
)
def run_scan(self: Task, scan_id: int) -> str:  # type: ignore[type-arg]
    return scan_run(scan_id, final_attempt=self.request.retries >= MAX_RETRIES)


@shared_task(
    name="scans.notify_scan_finished",
    autoretry_for=(OperationalError,),
    soft_time_limit=300,
    time_limit=360,
    **_RELIABLE,
)
def notify_scan_finished(scan_id: int) -> int:
    return scan_notify(scan_id)
