"""Organization-level pages: overview, switching organizations, my findings, team."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from audit_platform.accounts import services as account_services
from audit_platform.accounts.models import Membership, Role
from audit_platform.api.gate import evaluate_gate
from audit_platform.findings import services as finding_services
from audit_platform.reports import invitations, selectors
from audit_platform.reports.access import SESSION_ORG_KEY, org_access, signed_in_user
from audit_platform.reports.forms import InviteForm, RoleForm
from audit_platform.reports.views.common import paginate, render_page


@login_required
def home(request: HttpRequest) -> HttpResponse:
    access = org_access(request)
    return redirect("dashboard:organization", org_slug=access.organization.slug)


@login_required
def organization(request: HttpRequest, org_slug: str) -> HttpResponse:
    access = org_access(request, org_slug)
    rows = selectors.organization_overview(access.organization)
    for row in rows:
        if row.last_succeeded is not None:
            row.last_succeeded.project = row.project
            row.gate = evaluate_gate(row.last_succeeded)
    return render_page(
        request,
        "dashboard/organization.html",
        access,
        nav="overview",
        rows=rows,
        total_risk=sum(r.risk for r in rows),
        total_open=sum(r.open_total for r in rows),
        total_overdue=sum(r.overdue for r in rows),
    )


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    access = org_access(request)
    wanted = request.POST.get("organization", "")
    chosen = next((o for o in access.organizations if o.slug == wanted), access.organization)
    request.session[SESSION_ORG_KEY] = chosen.pk
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        return HttpResponseRedirect(next_url)
    return redirect("dashboard:organization", org_slug=chosen.slug)


@login_required
def my_findings(request: HttpRequest) -> HttpResponse:
    access = org_access(request)
    page = paginate(request, selectors.my_findings(signed_in_user(request).pk, access.organization))
    return render_page(
        request,
        "dashboard/my_findings.html",
        access,
        nav="mine",
        page=page,
        today=timezone.localdate(),
        list_url=reverse("dashboard:my-findings"),
    )


@login_required
def team(request: HttpRequest) -> HttpResponse:
    access = org_access(request)
    invite_form = InviteForm()
    if request.method == "POST":
        access.require_admin()
        invite_form = InviteForm(request.POST)
        if invite_form.is_valid():
            try:
                membership, invited = invitations.member_invite(
                    organization=access.organization,
                    email=invite_form.cleaned_data["email"],
                    role=invite_form.cleaned_data["role"],
                    actor=signed_in_user(request),
                    accept_url=request.build_absolute_uri,
                )
            except ValidationError as exc:
                invite_form.add_error(None, "; ".join(exc.messages))
            else:
                who = membership.user.email or membership.user.get_username()
                messages.success(
                    request,
                    f"Invited {who}: they got an e-mail to set a password."
                    if invited
                    else f"{who} is now a {membership.get_role_display().lower()}.",
                )
                return redirect("dashboard:team")
    return render_page(
        request,
        "dashboard/team.html",
        access,
        nav="team",
        members=selectors.organization_members(access.organization),
        invite_form=invite_form,
        roles=Role.choices,
    )


@login_required
@require_POST
def team_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    access = org_access(request)
    access.require_admin()
    form = RoleForm(request.POST)
    membership = Membership.objects.filter(
        pk=membership_id, organization=access.organization
    ).first()
    if membership is None:
        raise Http404("No such member.")
    if form.is_valid():
        try:
            account_services.membership_set(
                organization=access.organization,
                user=membership.user,
                role=form.cleaned_data["role"],
                actor=signed_in_user(request),
            )
            messages.success(
                request, f"{membership.user.get_username()} is now {form.cleaned_data['role']}."
            )
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    return redirect("dashboard:team")


@login_required
@require_POST
def team_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    access = org_access(request)
    access.require_admin()
    membership = (
        Membership.objects.filter(pk=membership_id, organization=access.organization)
        .select_related("user", "organization")
        .first()
    )
    if membership is None:
        raise Http404("No such member.")
    actor = signed_in_user(request)
    who = membership.user.get_username()
    try:
        with transaction.atomic():
            handed_back = finding_services.findings_unassign_member(
                organization=access.organization, user=membership.user, actor=actor
            )
            account_services.membership_remove(membership=membership, actor=actor)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        unassigned = f"; {handed_back} finding(s) are unassigned again" if handed_back else ""
        messages.success(request, f"{who} is no longer in {access.organization.name}{unassigned}.")
    return redirect("dashboard:team")
