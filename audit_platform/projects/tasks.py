"""Celery tasks of the projects app (run by beat)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from audit_platform.projects.services import projects_dispatch_scheduled_scans


@shared_task(
    name="projects.dispatch_scheduled_scans",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def dispatch_scheduled_scans() -> list[int]:
    return projects_dispatch_scheduled_scans()
