"""The URLconf the OpenAPI generator reads: the API's resources only."""

from django.urls import include, path

urlpatterns = [path("api/v1/", include(("audit_platform.api.resource_urls", "api")))]
