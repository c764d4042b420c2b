"""The Django side of the audit platform. Importing the Celery app here makes `shared_task`
use it in every process (Celery's Django integration pattern)."""

from audit_platform.celery import app as celery_app

__all__ = ["celery_app"]
