"""Plotly figures built server-side from plain data.

The same figure serves the browser (serialized to JSON, drawn by our static plotly.js) and the PDF
report (rendered to SVG by kaleido), so the dashboard and the report always show the same picture.
Builders take plain sequences, never querysets: selectors query, this module only draws.

Figures are Plotly's JSON figure format as plain dicts (`{"data": [...], "layout": {...}}`), not
`plotly.graph_objects.Figure`: building six validated graph objects cost ~30 ms each per dashboard
request, a dict costs microseconds, and plotly.js and kaleido take the same JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scanners.catalog import Severity

Figure = dict[str, Any]

SEVERITY_ORDER: tuple[str, ...] = tuple(s.label for s in sorted(Severity, reverse=True))
SEVERITY_COLORS: dict[str, str] = {
    "critical": "#7a1f3d",
    "high": "#d1432f",
    "medium": "#e39b27",
    "low": "#4a7bd0",
    "info": "#8a93a1",
}
ACCENT = "#2f5bd3"
OK = "#1f8a4c"
_FONT = {
    "family": "Inter, Segoe UI, DejaVu Sans, Arial, sans-serif",
    "size": 12,
    "color": "#1d2330",
}
_MONO_TICKS = {"family": "DejaVu Sans Mono, monospace", "size": 11}


@dataclass(frozen=True)
class ScanPoint:
    """One finished scan on the x axis of a trend chart."""

    label: str  # "#12 · 3 Nov"
    open_by_severity: Mapping[str, int]
    new: int = 0
    fixed: int = 0
    reopened: int = 0


@dataclass(frozen=True)
class LoadTestPoint:
    label: str
    p95_ms: float
    rps: float


def _layout(*, height: int, show_legend: bool = True, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": height,
        "margin": {"l": 48, "r": 16, "t": 12, "b": 40},
        "font": _FONT,
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "showlegend": show_legend,
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 11}},
        "xaxis": {"gridcolor": "#eef0f3", "linecolor": "#cfd4da", "automargin": True},
        "yaxis": {
            "gridcolor": "#eef0f3",
            "linecolor": "#cfd4da",
            "rangemode": "tozero",
            "automargin": True,
        },
        "hoverlabel": {"font": {"family": _FONT["family"]}},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key] = {**layout[key], **value}
        else:
            layout[key] = value
    return layout


def _count_ticks(values: Sequence[int | float]) -> dict[str, int]:
    """Whole-number ticks for counts (Plotly would label 0.2, 0.4... on small counts)."""
    top = max([0, *values])
    return {"dtick": max(1, math.ceil(top / 5)), "tick0": 0}


def _horizontal_layout(rows: int, **extra: Any) -> dict[str, Any]:
    layout = _layout(height=max(220, 26 * rows + 60), show_legend=False, **extra)
    layout["margin"] = {"l": 12, "r": 16, "t": 12, "b": 32}
    layout["yaxis"] = {**layout["yaxis"], "automargin": True, "tickfont": _MONO_TICKS}
    return layout


def open_by_severity_over_scans(points: Sequence[ScanPoint]) -> Figure:
    """Stacked area: how many findings were open after each scan, by severity.
    One scan has no area to draw, so it is a stacked bar."""
    labels = [p.label for p in points]
    traces: list[dict[str, Any]] = []
    # Lowest severity first so the most severe band sits on top where the eye lands.
    for severity in reversed(SEVERITY_ORDER):
        values = [int(p.open_by_severity.get(severity, 0)) for p in points]
        if not any(values):
            continue
        color = SEVERITY_COLORS[severity]
        trace: dict[str, Any] = {
            "x": labels,
            "y": values,
            "name": severity.capitalize(),
            "hovertemplate": "%{y} " + severity + "<extra></extra>",
        }
        if len(points) == 1:
            trace.update(type="bar", marker={"color": color})
        else:
            trace.update(
                type="scatter",
                mode="lines",
                stackgroup="open",
                line={"width": 0.8, "color": color},
                fillcolor=color,
            )
        traces.append(trace)
    totals = [sum(p.open_by_severity.values()) for p in points]
    layout = _layout(
        height=280,
        barmode="stack",
        bargap=0.6,
        xaxis={"type": "category"},
        yaxis=_count_ticks(totals),
    )
    return {"data": traces, "layout": layout}


def new_vs_fixed_per_scan(points: Sequence[ScanPoint]) -> Figure:
    """Grouped bars: what each scan introduced, fixed and reopened."""
    labels = [p.label for p in points]
    series = (
        ("New", [p.new for p in points], SEVERITY_COLORS["high"]),
        ("Fixed", [p.fixed for p in points], OK),
        ("Reopened", [p.reopened for p in points], SEVERITY_COLORS["medium"]),
    )
    traces = [
        {"type": "bar", "x": labels, "y": values, "name": name, "marker": {"color": color}}
        for name, values, color in series
    ]
    peaks = [max(p.new, p.fixed, p.reopened) for p in points]
    layout = _layout(
        height=280,
        barmode="group",
        bargap=0.25,
        xaxis={"type": "category"},
        yaxis=_count_ticks(peaks),
    )
    return {"data": traces, "layout": layout}


def category_breakdown(counts: Sequence[tuple[str, int]]) -> Figure:
    """Horizontal bars of open findings per category, biggest on top."""
    ordered = sorted(counts, key=lambda item: (item[1], item[0]))
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [count for _, count in ordered],
        "y": [name for name, _ in ordered],
        "marker": {"color": ACCENT},
        "hovertemplate": "%{y}: %{x}<extra></extra>",
    }
    layout = _horizontal_layout(len(ordered), xaxis=_count_ticks([c for _, c in ordered]))
    return {"data": [trace], "layout": layout}


def risk_by_location(risk: Sequence[tuple[str, float, int]]) -> Figure:
    """Where the risk lives: summed blast radius per module (or route), with the finding count."""
    ordered = sorted(risk, key=lambda item: (item[1], item[0]))
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [round(total, 1) for _, total, _ in ordered],
        "y": [name for name, _, _ in ordered],
        "customdata": [count for _, _, count in ordered],
        "marker": {"color": SEVERITY_COLORS["high"]},
        "hovertemplate": "%{y}<br>blast radius %{x} · %{customdata} findings<extra></extra>",
    }
    layout = _horizontal_layout(len(ordered), xaxis={"title": {"text": "summed blast radius"}})
    return {"data": [trace], "layout": layout}


def mean_time_to_remediate(days_by_severity: Mapping[str, float | None]) -> Figure:
    """Mean days from first seen to verified fixed, per severity (only severities with fixes)."""
    severities = [s for s in SEVERITY_ORDER if days_by_severity.get(s) is not None]
    values = [round(float(days_by_severity[s] or 0.0), 1) for s in severities]
    trace = {
        "type": "bar",
        "x": [s.capitalize() for s in severities],
        "y": values,
        "marker": {"color": [SEVERITY_COLORS[s] for s in severities]},
        "text": [f"{v:g} d" for v in values],
        "textposition": "outside",
        "hovertemplate": "%{x}: %{y} days<extra></extra>",
    }
    layout = _layout(height=240, show_legend=False, bargap=0.45, yaxis={"title": {"text": "days"}})
    return {"data": [trace], "layout": layout}


def load_test_over_scans(points: Sequence[LoadTestPoint]) -> Figure:
    """p95 latency (left axis) and throughput (right axis) of the uploaded load tests per scan."""
    labels = [p.label for p in points]
    traces = [
        {
            "type": "scatter",
            "x": labels,
            "y": [round(p.p95_ms, 1) for p in points],
            "name": "p95 (ms)",
            "mode": "lines+markers",
            "line": {"color": SEVERITY_COLORS["high"], "width": 2},
        },
        {
            "type": "scatter",
            "x": labels,
            "y": [round(p.rps, 1) for p in points],
            "name": "requests/s",
            "mode": "lines+markers",
            "yaxis": "y2",
            "line": {"color": ACCENT, "width": 2, "dash": "dot"},
        },
    ]
    layout = _layout(
        height=280,
        xaxis={"type": "category"},
        yaxis={"title": {"text": "p95 ms"}},
        yaxis2={
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            "title": {"text": "requests/s"},
            "automargin": True,
        },
    )
    layout["margin"] = {**layout["margin"], "r": 56}  # room for the right axis and its title
    return {"data": traces, "layout": layout}


def sparkline_points(values: Sequence[int | float], *, width: int = 120, height: int = 28) -> str:
    """SVG polyline points for a tiny inline trend (cheaper than a Plotly figure per table row)."""
    if not values:
        return ""
    if len(values) == 1:
        values = [values[0], values[0]]
    top = max(values)
    bottom = min(values)
    span = (top - bottom) or 1
    step = width / (len(values) - 1)
    pad = 2
    return " ".join(
        f"{i * step:.1f},{pad + (height - 2 * pad) * (1 - (v - bottom) / span):.1f}"
        for i, v in enumerate(values)
    )
