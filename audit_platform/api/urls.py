"""``/api/v1/``: mounted by the root URLconf with namespace ``api``."""

from __future__ import annotations

from django.urls import path, re_path

from audit_platform.api import resource_urls
from audit_platform.api.errors import not_found_view
from audit_platform.api.views import docs

app_name = "api"

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.SwaggerView.as_view(), name="swagger-ui"),
    path("redoc/", docs.RedocView.as_view(), name="redoc"),
    *resource_urls.urlpatterns,
    re_path(r"^.*$", not_found_view),
]
