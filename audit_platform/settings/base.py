"""Settings shared by every environment.

Every value comes from the environment (django-environ) and has a default; the README lists
them all. The defaults are the embedded ones: SQLite and kombu's filesystem broker under
``AUDIT_DATA_DIR``, so ``./dev up`` needs no server software. Production points
``DATABASE_URL`` at PostgreSQL and ``CELERY_BROKER_URL`` at Redis.
"""

from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

DATA_DIR = Path(env.str("AUDIT_DATA_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "audit_platform.accounts",
    "audit_platform.projects",
    "audit_platform.scans",
    "audit_platform.findings",
    "audit_platform.reports",
    "audit_platform.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "audit_platform.urls"
WSGI_APPLICATION = "audit_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_url(url: str) -> dict[str, Any]:
    """One ``DATABASES`` entry from a URL, tuned so the web server and the worker can share it.

    SQLite: WAL lets readers run while the worker writes, the busy timeout makes a writer wait for
    the lock instead of failing at once, and IMMEDIATE transactions take the write lock up front
    (a deferred transaction that upgrades to a writer can fail with "database is locked" at once).
    """
    config: dict[str, Any] = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(
            {
                "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=30),
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            }
        )
        if config["NAME"] not in ("", ":memory:"):
            Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    else:
        config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {
    "default": database_from_url(
        env.str("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'audit.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every process (web workers, Celery): API throttles and the dashboard's cached
# aggregates must not be per process. Embedded default: files under the data dir.
CACHES = {"default": env.cache_url("CACHE_URL", default=f"filecache://{DATA_DIR / 'cache'}")}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
# Uploaded artifacts and archives live here (FileSystemStorage); back it up in production.
MEDIA_ROOT = Path(env.str("AUDIT_STORAGE_DIR", default=str(DATA_DIR / "storage")))
# Local runs and tests copy static files as they are; production compresses them once per build.
PLAIN_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STORAGES = {
    **PLAIN_STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Sources and limits of the scan pipeline -------------------------------------------------
# Local paths as git sources are off by default: on a shared server they would let a user read any
# repository the worker can see. The embedded ./dev up run switches them on for the bundled sample.
AUDIT_ALLOW_LOCAL_GIT_SOURCES = env.bool("AUDIT_ALLOW_LOCAL_GIT_SOURCES", default=False)
AUDIT_MAX_ARCHIVE_BYTES = env.int("AUDIT_MAX_ARCHIVE_BYTES", default=100 * 1024 * 1024)
AUDIT_MAX_ARCHIVE_FILES = env.int("AUDIT_MAX_ARCHIVE_FILES", default=20_000)
AUDIT_MAX_UNPACKED_BYTES = env.int("AUDIT_MAX_UNPACKED_BYTES", default=500 * 1024 * 1024)
AUDIT_GIT_TIMEOUT = env.int("AUDIT_GIT_TIMEOUT", default=300)
AUDIT_MAX_ARTIFACT_BYTES = env.int("AUDIT_MAX_ARTIFACT_BYTES", default=200 * 1024 * 1024)
AUDIT_API_MAX_UPLOAD_BYTES = env.int("AUDIT_API_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
# Requests per credential (each CI token, personal token, session user): "N/sec|min|hour|day".
AUDIT_API_THROTTLE_RATE = env.str("AUDIT_API_THROTTLE_RATE", default="1200/min")
AUDIT_API_UPLOAD_THROTTLE_RATE = env.str("AUDIT_API_UPLOAD_THROTTLE_RATE", default="60/min")
# Semgrep binary; empty means the engine's own lookup (.tools/semgrep, then PATH).
SEMGREP_BIN = env.str("SEMGREP_BIN", default="")

# --- Celery ----------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport, a queue of files under AUDIT_DATA_DIR that the
# web server, the worker and beat share across processes with no broker server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem"):
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis redelivers an unacknowledged task after this many seconds: keep it above the hard
    # time limit so a long scan is not handed to a second worker while the first still runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
    }
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="audit")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("SCAN_SOFT_TIME_LIMIT", default=1800)
CELERY_TASK_TIME_LIMIT = env.int("SCAN_TIME_LIMIT", default=1900)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "dispatch-scheduled-scans": {
        "task": "projects.dispatch_scheduled_scans",
        "schedule": crontab(minute="*"),
    },
    # Weekly (Mondays) and monthly (the 1st) report e-mails; sent once per period per project.
    "send-scheduled-reports": {
        "task": "reports.send_scheduled_reports",
        "schedule": crontab(minute=0, hour=7),
    },
}

# --- Email -----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="audit@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Reports -------------------------------------------------------------------------------
# Absolute address of the platform for links in e-mails and PDF reports.
AUDIT_PUBLIC_URL = env.str("AUDIT_PUBLIC_URL", default="")
# Chromium that renders report charts; empty: BROWSER_PATH, then chromium on PATH.
REPORT_BROWSER_PATH = env.str("REPORT_BROWSER_PATH", default="")
REPORT_CHART_IMAGES = env.bool("REPORT_CHART_IMAGES", default=True)

# --- Logging ---------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "celery": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
