"""Dashboard template helpers: badges, highlighted code, diffs, sparklines, the org switcher."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

from audit_platform.reports import charts

register = template.Library()


@register.filter
def severity_badge(severity: str) -> SafeString:
    label = str(severity or "info").lower()
    return format_html('<span class="badge sev-{}">{}</span>', label, label.capitalize())


@register.filter
def status_badge(status: str) -> SafeString:
    value = str(status or "")
    return format_html(
        '<span class="badge status status-{}">{}</span>', value, value.replace("_", " ")
    )


@register.filter
def words(value: str) -> str:
    """`in_progress` -> `in progress` (status values in sentences)."""
    return str(value or "").replace("_", " ")


@register.filter
def pct(value: float | int | None) -> str:
    return f"{float(value or 0):.0f}%"


@register.filter
def blast_width(value: float | int | None, top: float | int | None) -> str:
    """Width of the blast-radius bar relative to the page's largest value, as a CSS percentage."""
    if not top:
        return "0%"
    return f"{max(4.0, min(100.0, 100.0 * float(value or 0) / float(top))):.0f}%"


@register.filter
def absolute(value: int | float | None) -> int | float:
    return abs(value or 0)


@register.filter
def days_until(due: date | datetime | None) -> int | None:
    if due is None:
        return None
    due_date = due.date() if isinstance(due, datetime) else due
    return (due_date - timezone.localdate()).days


def _lexer_for(path: str) -> Any:
    if path.endswith((".py", ".pyi")):
        return PythonLexer(stripnl=False)
    try:
        return get_lexer_for_filename(path, stripnl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False)


@register.simple_tag
def highlight_code(
    source: str, path: str = "", first_line: int = 1, mark_from: int = 0, mark_to: int = 0
) -> SafeString:
    """Pygments-highlighted code with line numbers starting at `first_line`; lines
    `mark_from`..`mark_to` (absolute numbers) are highlighted."""
    if not source:
        return mark_safe(
            '<p class="muted small">No source context was stored for this finding.</p>'
        )
    first = max(1, int(first_line or 1))
    marked: list[int] = []
    if mark_from:
        last = max(int(mark_from), int(mark_to or mark_from))
        marked = [n - first + 1 for n in range(int(mark_from), last + 1) if n >= first]
    formatter = HtmlFormatter(
        linenos="table", linenostart=first, hl_lines=marked, cssclass="highlight", wrapcode=True
    )
    html = highlight(source, _lexer_for(path), formatter)
    return format_html('<div class="code-block">{}</div>', mark_safe(html))  # noqa: S308 (pygments escapes)


def _diff_line_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "meta"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "add"
    if line.startswith("-"):
        return "del"
    return "ctx"


@register.filter
def render_diff(patch: str) -> SafeString:
    """A unified diff as coloured lines (escaped; no JavaScript needed)."""
    if not patch:
        return mark_safe("")
    rows = format_html_join(
        "",
        '<span class="line {}">{}</span>',
        ((_diff_line_class(line), line or " ") for line in patch.splitlines()),
    )
    return format_html('<pre class="diff" aria-label="Suggested fix (unified diff)">{}</pre>', rows)


@register.simple_tag
def sparkline(values: Sequence[int | float], label: str = "trend") -> SafeString:
    points = charts.sparkline_points(list(values))
    if not points:
        return mark_safe('<span class="faint small">no scans yet</span>')
    return format_html(
        '<svg class="spark" viewBox="0 0 120 28" role="img" aria-label="{}">'
        '<polyline points="{}"/></svg>',
        label,
        points,
    )


@register.simple_tag
def severity_bar(counts: dict[str, int]) -> SafeString:
    """A thin stacked bar of open findings by severity (title attributes for hover/AT)."""
    total = sum(int(v) for v in counts.values())
    if not total:
        return mark_safe('<div class="sev-bar" aria-hidden="true"></div>')
    parts = format_html_join(
        "",
        '<span style="width:{}%;background:{}" title="{} {}"></span>',
        (
            (
                f"{100 * counts.get(s, 0) / total:.2f}",
                charts.SEVERITY_COLORS[s],
                counts.get(s, 0),
                s,
            )
            for s in charts.SEVERITY_ORDER
            if counts.get(s, 0)
        ),
    )
    return format_html('<div class="sev-bar" aria-hidden="true">{}</div>', parts)


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (filters and pages stay shareable)."""
    request = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.inclusion_tag("partials/org_switcher.html", takes_context=True)
def org_switcher(context: template.Context) -> dict[str, Any]:
    return {
        "organizations": context.get("organizations", ()),
        "current_organization": context.get("organization"),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }
