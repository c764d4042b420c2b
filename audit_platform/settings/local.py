"""The embedded local run (``./dev up``): debug on, local git paths allowed for the sample."""

from audit_platform.settings.base import *  # noqa: F403
from audit_platform.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
AUDIT_ALLOW_LOCAL_GIT_SOURCES = env.bool("AUDIT_ALLOW_LOCAL_GIT_SOURCES", default=True)
