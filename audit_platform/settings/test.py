"""The test suite: PostgreSQL and Redis when ``./dev test`` started them, SQLite otherwise."""

from audit_platform.settings.base import *  # noqa: F403
from audit_platform.settings.base import DATA_DIR, DATABASES, PLAIN_STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Templates may reference static files that collectstatic never ran for in tests: serve them from
# the finders, and do not look for a STATIC_ROOT that does not exist.
STORAGES = PLAIN_STORAGES
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests create their own local repositories as git sources.
AUDIT_ALLOW_LOCAL_GIT_SOURCES = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's in-memory test database, so a live worker process can open it too.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-audit.sqlite3")}
