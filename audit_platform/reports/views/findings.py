"""Findings: the filtered list with bulk triage, the finding page, its actions, the fix download."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from audit_platform.findings import services as finding_services
from audit_platform.findings.models import Finding, FindingStatus
from audit_platform.projects.models import Project
from audit_platform.reports import charts, selectors
from audit_platform.reports.access import OrgAccess, project_access, signed_in_user
from audit_platform.reports.forms import AssignForm, CommentForm, StatusForm
from audit_platform.reports.views.common import paginate, render_page

MAX_BULK = 200  # one page of a generous selection; bigger changes go through the API


def _errors(exc: ValidationError) -> str:
    return "; ".join(exc.messages)


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@login_required
def finding_list(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    filters = selectors.FindingFilters.from_query(request.GET)
    page = paginate(request, selectors.finding_list(project, filters, user_id=request.user.pk))
    rows = list(page.object_list)
    return render_page(
        request,
        "dashboard/findings.html",
        access,
        project=project,
        tab="findings",
        page=page,
        rows=rows,
        filters=filters,
        top_blast=max((f.blast_radius for f in rows), default=0.0),
        categories=selectors.project_categories(project),
        members=selectors.organization_members(access.organization),
        statuses=FindingStatus.choices,
        severities=charts.SEVERITY_ORDER,
    )


def _member(access: OrgAccess, raw: str) -> Any:
    """The organization member with id `raw`; None for "" / "none"; ValidationError otherwise."""
    if raw in ("", "none"):
        return None
    if not raw.isdigit():
        raise ValidationError(f"{raw!r} is not a user")
    user = (
        get_user_model()
        .objects.filter(pk=int(raw), memberships__organization=access.organization)
        .first()
    )
    if user is None:
        raise ValidationError("that person is not a member of this organization")
    return user


@login_required
@require_POST
def finding_bulk(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    access.require_write()
    fallback = reverse("dashboard:findings", args=[org_slug, project_slug])
    actor = signed_in_user(request)
    ids = [int(v) for v in request.POST.getlist("finding") if v.isdigit()][:MAX_BULK]
    findings = list(
        Finding.objects.filter(project=project, pk__in=ids).select_related("project__organization")
    )
    status = request.POST.get("status", "")
    assignee_raw = request.POST.get("assignee", "")
    if not findings:
        messages.warning(request, "Select at least one finding.")
        return _back(request, fallback)
    if not status and not assignee_raw:
        messages.warning(request, "Choose a status or an assignee to apply.")
        return _back(request, fallback)
    try:
        with transaction.atomic():
            changed = 0
            if assignee_raw:
                assignee = _member(access, assignee_raw)
                for finding in findings:
                    finding_services.finding_assign(finding, assignee=assignee, actor=actor)
                changed = len(findings)
            if status:
                changed = max(
                    changed,
                    finding_services.findings_bulk_set_status(findings, status=status, actor=actor),
                )
    except ValidationError as exc:
        messages.error(request, _errors(exc))
        return _back(request, fallback)
    messages.success(request, f"Updated {changed} of {len(findings)} selected findings.")
    return _back(request, fallback)


def _finding_or_404(project: Project, finding_id: int) -> Finding:
    finding = selectors.finding_detail(project, finding_id)
    if finding is None:
        raise Http404("No such finding.")
    finding.project = project
    return finding


def code_context(finding: Finding) -> tuple[str, int]:
    """The source to show and its first line number: stored context when the engine kept some,
    else the finding's own snippet."""
    context = (finding.properties or {}).get("context")
    if isinstance(context, dict):
        code = context.get("code") or context.get("source")
        first = context.get("start_line")
        if isinstance(code, str) and isinstance(first, int) and code:
            return code, first
    return finding.snippet, finding.start_line


@login_required
def finding_detail(
    request: HttpRequest, org_slug: str, project_slug: str, finding_id: int
) -> HttpResponse:
    access, project = project_access(request, org_slug, project_slug)
    finding = _finding_or_404(project, finding_id)
    code, first_line = code_context(finding)
    due_in = (finding.due_date - timezone.localdate()).days if finding.due_date else None
    return render_page(
        request,
        "dashboard/finding.html",
        access,
        project=project,
        tab="findings",
        finding=finding,
        code=code,
        first_line=first_line,
        due_in=due_in,
        timeline=selectors.finding_timeline(finding),
        members=selectors.organization_members(access.organization),
        statuses=FindingStatus.choices,
        comment_form=CommentForm(),
    )


@login_required
@require_POST
def finding_action(
    request: HttpRequest, org_slug: str, project_slug: str, finding_id: int, action: str
) -> HttpResponse:
    """Change status, assign or comment; every change goes through the findings service (events)."""
    access, project = project_access(request, org_slug, project_slug)
    access.require_write()
    finding = _finding_or_404(project, finding_id)
    detail_url = reverse("dashboard:finding", args=[org_slug, project_slug, finding.pk])
    actor = signed_in_user(request)
    try:
        if action == "status":
            form: Any = StatusForm(request.POST)
            if not form.is_valid():
                raise ValidationError("choose a valid status")
            finding_services.finding_set_status(
                finding,
                status=form.cleaned_data["status"],
                actor=actor,
                comment=form.cleaned_data["comment"],
            )
            messages.success(
                request,
                f"Status set to {FindingStatus(form.cleaned_data['status']).label.lower()}.",
            )
        elif action == "assign":
            form = AssignForm(request.POST)
            form.is_valid()
            assignee = _member(access, str(form.cleaned_data.get("assignee", "")))
            finding_services.finding_assign(finding, assignee=assignee, actor=actor)
            messages.success(
                request, f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."
            )
        elif action == "comment":
            form = CommentForm(request.POST)
            if not form.is_valid():
                raise ValidationError("the comment is empty or too long")
            finding_services.finding_comment(
                finding, text=form.cleaned_data["comment"], actor=actor
            )
            messages.success(request, "Comment added.")
        else:
            raise Http404("No such action.")
    except ValidationError as exc:
        messages.error(request, _errors(exc))
    return _back(request, detail_url)


@login_required
def finding_fix_download(
    request: HttpRequest, org_slug: str, project_slug: str, finding_id: int
) -> HttpResponse:
    _, project = project_access(request, org_slug, project_slug)
    finding = _finding_or_404(project, finding_id)
    if not finding.suggested_fix:
        raise Http404("This finding has no generated fix.")
    response = HttpResponse(finding.suggested_fix, content_type="text/x-diff; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="finding-{finding.pk}-fix.patch"'
    return response
