"""The API's resources; ``urls.py`` mounts them under ``/api/v1/`` next to the schema views,
and the OpenAPI generator reads only these (``schema_urls.py``)."""

from __future__ import annotations

from django.urls import path

from audit_platform.api.views import projects

PROJECT = "projects/<str:project>"

urlpatterns = [
    path("projects/", projects.ProjectListView.as_view(), name="project-list"),
    path(f"{PROJECT}/", projects.ProjectDetailView.as_view(), name="project-detail"),
    path(f"{PROJECT}/tokens/", projects.ProjectTokenListView.as_view(), name="project-token-list"),
    path(
        f"{PROJECT}/tokens/<int:token_id>/",
        projects.ProjectTokenDetailView.as_view(),
        name="project-token-detail",
    ),
    path("me/tokens/", projects.PersonalTokenListView.as_view(), name="personal-token-list"),
    path(
        "me/tokens/<int:token_id>/",
        projects.PersonalTokenDetailView.as_view(),
        name="personal-token-detail",
    ),
]
