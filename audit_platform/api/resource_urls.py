"""The API's resources; ``urls.py`` mounts them under ``/api/v1/`` next to the schema views,
and the OpenAPI generator reads only these (``schema_urls.py``)."""

from __future__ import annotations

from django.urls import path

from audit_platform.api.views import findings, projects, scans, trends

PROJECT = "projects/<str:project>"
SCAN = f"{PROJECT}/scans/<int:scan_id>"
FINDING = f"{PROJECT}/findings/<int:finding_id>"

urlpatterns = [
    path("projects/", projects.ProjectListView.as_view(), name="project-list"),
    path(f"{PROJECT}/", projects.ProjectDetailView.as_view(), name="project-detail"),
    path(f"{PROJECT}/tokens/", projects.ProjectTokenListView.as_view(), name="project-token-list"),
    path(
        f"{PROJECT}/tokens/<int:token_id>/",
        projects.ProjectTokenDetailView.as_view(),
        name="project-token-detail",
    ),
    path(f"{SCAN}/", scans.ScanDetailView.as_view(), name="scan-detail"),
    path(f"{PROJECT}/scans/", scans.ScanListView.as_view(), name="scan-list"),
    path(f"{SCAN}/start/", scans.ScanStartView.as_view(), name="scan-start"),
    path(f"{SCAN}/cancel/", scans.ScanCancelView.as_view(), name="scan-cancel"),
    path(f"{SCAN}/artifacts/", scans.ScanArtifactsView.as_view(), name="scan-artifacts"),
    path(f"{SCAN}/gate/", scans.ScanGateView.as_view(), name="scan-gate"),
    path(f"{SCAN}/sarif/", scans.ScanSarifView.as_view(), name="scan-sarif"),
    path(f"{PROJECT}/findings/", findings.FindingListView.as_view(), name="finding-list"),
    path(f"{PROJECT}/findings/bulk/", findings.FindingBulkView.as_view(), name="finding-bulk"),
    path(f"{FINDING}/", findings.FindingDetailView.as_view(), name="finding-detail"),
    path(f"{FINDING}/events/", findings.FindingEventsView.as_view(), name="finding-events"),
    path(f"{PROJECT}/trends/", trends.ProjectTrendView.as_view(), name="project-trends"),
    path("me/tokens/", projects.PersonalTokenListView.as_view(), name="personal-token-list"),
    path(
        "me/tokens/<int:token_id>/",
        projects.PersonalTokenDetailView.as_view(),
        name="personal-token-detail",
    ),
]
