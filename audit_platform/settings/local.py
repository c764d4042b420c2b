"""The embedded local run (``./dev up``): debug on, local git paths allowed for the sample."""

from audit_platform.settings.base import *  # noqa: F403
from audit_platform.settings.base import PLAIN_STORAGES, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
AUDIT_ALLOW_LOCAL_GIT_SOURCES = env.bool("AUDIT_ALLOW_LOCAL_GIT_SOURCES", default=True)

# Compressing ~30 MB of vendored JS on every ./dev up took minutes; WhiteNoise serves plain copies.
STORAGES = PLAIN_STORAGES
