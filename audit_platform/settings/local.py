from audit_platform.settings.base import *  # noqa: F403
from audit_platform.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
