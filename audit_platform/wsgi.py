"""WSGI entry point for gunicorn. Production settings unless DJANGO_SETTINGS_MODULE says otherwise
(``./dev up`` exports the local ones)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audit_platform.settings.production")
application = get_wsgi_application()
