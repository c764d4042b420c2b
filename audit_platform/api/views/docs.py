"""The OpenAPI schema and its two readers, Swagger UI and ReDoc, served from the
drf-spectacular-sidecar static files (no CDN)."""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from audit_platform.api.authentication import ApiTokenAuthentication

SCHEMA_SETTINGS: dict[str, Any] = {
    "TITLE": "Audit platform API",
    "DESCRIPTION": (
        "Scans of Python/FastAPI back ends for CI: upload code and artifacts, read findings "
        "ranked by blast radius, triage them, apply the quality gate, export SARIF. "
        "Authenticate with `Authorization: Bearer <token>` (a project CI token `apt_…` or a "
        "personal token `apu_…`) or a browser session. Errors have one shape: "
        '`{"status", "code", "message", "fields"?}`.'
    ),
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ScanStatusEnum": "audit_platform.scans.models.ScanStatus",
        "FindingStatusEnum": "audit_platform.findings.models.FindingStatus",
        "ProjectSourceKindEnum": "audit_platform.projects.models.SourceKind",
        "ScanSourceKindEnum": "audit_platform.scans.models.ScanSourceKind",
    },
}


class SchemaView(SpectacularAPIView):
    custom_settings = SCHEMA_SETTINGS
    urlconf = "audit_platform.api.schema_urls"
    authentication_classes = [ApiTokenAuthentication]
    permission_classes = []  # the API's shape is public; its data is not


class SwaggerView(SpectacularSwaggerView):
    url_name = "api:schema"
    authentication_classes = []
    permission_classes = []
    title = SCHEMA_SETTINGS["TITLE"]

    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return static(f"drf_spectacular_sidecar/swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png")


class RedocView(SpectacularRedocView):
    url_name = "api:schema"
    authentication_classes = []
    permission_classes = []
    title = SCHEMA_SETTINGS["TITLE"]

    @staticmethod
    def _redoc_standalone() -> str:
        return static("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
