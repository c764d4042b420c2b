"""What every page shares: access-aware context, figure embedding, pagination."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from audit_platform.projects.models import Project
from audit_platform.reports.access import OrgAccess
from audit_platform.reports.charts import Figure

PAGE_SIZE = 25  # a screenful of rows on a laptop

_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def figure_json(figure: Figure) -> SafeString:
    """Figure JSON safe inside <script type="application/json"> (escaped as json_script does)."""
    encoded = json.dumps(figure, separators=(",", ":"))
    return mark_safe(encoded.translate(_JSON_ESCAPES))  # noqa: S308 (escaped above)


def paginate(request: HttpRequest, queryset: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def render_page(
    request: HttpRequest,
    template: str,
    access: OrgAccess,
    *,
    project: Project | None = None,
    nav: str = "",
    tab: str = "",
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    context.update(
        access=access,
        organization=access.organization,
        organizations=access.organizations,
        project=project,
        nav=nav,
        tab=tab,
    )
    return render(request, template, context, status=status)
