"""The project dashboard and the project settings (with CI tokens and report delivery)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from audit_platform.api import services as api_services
from audit_platform.api.models import ProjectToken
from audit_platform.projects import services as project_services
from audit_platform.projects.models import Project
from audit_platform.reports import selectors
from audit_platform.reports.access import OrgAccess, project_access, signed_in_user
from audit_platform.reports.documents import dashboard_figures
from audit_platform.reports.forms import ProjectSettingsForm, TokenCreateForm
from audit_platform.reports.models import ReportDelivery, ReportPreference
from audit_platform.reports.views.common import figure_json, render_page


@login_required
def project_dashboard(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    board = selectors.project_dashboard(project)
    figures = {name: figure_json(fig) for name, fig in dashboard_figures(board).items()}
    top_blast = board.top[0].blast_radius if board.top else 0.0
    return render_page(
        request,
        "dashboard/project.html",
        access,
        project=project,
        tab="dashboard",
        board=board,
        figures=figures,
        top_blast=top_blast,
        stages=selectors.load_stage_table(board.load),
    )


def _settings_page(
    request: HttpRequest,
    access: OrgAccess,
    project: Project,
    *,
    form: ProjectSettingsForm | None = None,
    token_form: TokenCreateForm | None = None,
    new_token: str = "",
    status: int = 200,
) -> HttpResponse:
    preference = ReportPreference.objects.filter(project=project).first()
    return render_page(
        request,
        "dashboard/settings.html",
        access,
        project=project,
        tab="settings",
        page_title="Settings",
        form=form
        or ProjectSettingsForm.for_project(
            project, send_after_scan=bool(preference and preference.send_after_scan)
        ),
        token_form=token_form or TokenCreateForm(),
        tokens=list(
            ProjectToken.objects.filter(project=project)
            .select_related("created_by")
            .order_by("-created_at")[:50]
        ),
        new_token=new_token,
        deliveries=list(ReportDelivery.objects.filter(project=project).order_by("-created_at")[:8]),
        status=status,
    )


@login_required
def project_settings(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    if request.method != "POST":
        return _settings_page(request, access, project)
    access.require_admin()
    form = ProjectSettingsForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                project_services.project_update(
                    project, actor=signed_in_user(request), **form.project_changes()
                )
                ReportPreference.objects.update_or_create(
                    project=project,
                    defaults={"send_after_scan": form.cleaned_data["send_after_scan"]},
                )
        except ValidationError as exc:
            form.add_error(None, "; ".join(exc.messages))
        else:
            messages.success(request, "Settings saved.")
            return redirect("dashboard:project-settings", org_slug, project_slug)
    project.refresh_from_db()
    return _settings_page(request, access, project, form=form, status=400)


@login_required
@require_POST
def token_create(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    access.require_admin()
    form = TokenCreateForm(request.POST)
    if not form.is_valid() or not form.scopes():
        form.add_error(None, "Give the token a name and at least one scope.")
        return _settings_page(request, access, project, token_form=form, status=400)
    try:
        _, plaintext = api_services.project_token_create(
            project=project,
            name=form.cleaned_data["name"],
            created_by=signed_in_user(request),
            scopes=form.scopes(),
        )
    except ValidationError as exc:
        form.add_error(None, "; ".join(exc.messages))
        return _settings_page(request, access, project, token_form=form, status=400)
    # Shown once, in this response only: the database keeps a digest.
    return _settings_page(request, access, project, new_token=plaintext)


@login_required
@require_POST
def token_revoke(
    request: HttpRequest, org_slug: str, project_slug: str, token_id: int
) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    access.require_admin()
    token = ProjectToken.objects.filter(project=project, pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    api_services.token_revoke(token)
    messages.success(request, f"Token {token.display_prefix}… revoked.")
    return redirect("dashboard:project-settings", org_slug, project_slug)
