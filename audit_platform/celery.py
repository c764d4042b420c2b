"""The Celery application: configured from Django settings (``CELERY_*``), tasks from the apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings.local")

app = Celery("audit_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
