"""Browser URLs: sign-in, organization pages, and per project /o/<org>/<project>/... pages."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from audit_platform.reports.forms import EmailOrUsernameAuthenticationForm
from audit_platform.reports.views import findings, overview, projects, reports, scans

project_patterns: list[URLPattern | URLResolver] = [
    path("", projects.project_dashboard, name="project"),
    path("settings/", projects.project_settings, name="project-settings"),
    path("settings/tokens/", projects.token_create, name="token-create"),
    path("settings/tokens/<int:token_id>/revoke/", projects.token_revoke, name="token-revoke"),
    path("findings/", findings.finding_list, name="findings"),
    path("findings/bulk/", findings.finding_bulk, name="findings-bulk"),
    path("findings/<int:finding_id>/", findings.finding_detail, name="finding"),
    path("findings/<int:finding_id>/fix.patch", findings.finding_fix_download, name="finding-fix"),
    path(
        "findings/<int:finding_id>/<str:action>/",
        findings.finding_action,
        name="finding-action",
    ),
    path("scans/", scans.scan_list, name="scans"),
    path("scans/start/", scans.scan_start, name="scan-start"),
    path("scans/<int:number>/", scans.scan_detail, name="scan"),
    path("scans/<int:number>/progress/", scans.scan_progress, name="scan-progress"),
    path("scans/<int:number>/cancel/", scans.scan_cancel, name="scan-cancel"),
    path("report/", reports.report_latest, name="report-latest"),
    path("scans/<int:number>/report/", reports.report_html, name="report"),
    path("scans/<int:number>/report.pdf", reports.report_pdf, name="report-pdf"),
]

dashboard_patterns: list[URLPattern | URLResolver] = [
    path("", overview.home, name="home"),
    path("mine/", overview.my_findings, name="my-findings"),
    path("team/", overview.team, name="team"),
    path("team/<int:membership_id>/role/", overview.team_role, name="team-role"),
    path("team/<int:membership_id>/remove/", overview.team_remove, name="team-remove"),
    path("organizations/switch/", overview.switch_organization, name="switch-organization"),
    path("o/<slug:org_slug>/", overview.organization, name="organization"),
    path("o/<slug:org_slug>/<slug:project_slug>/", include(project_patterns)),
]

urlpatterns = [
    # Django's auth views (sign in/out, set a password from an invitation) under their usual names.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailOrUsernameAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include((dashboard_patterns, "dashboard"))),
]
