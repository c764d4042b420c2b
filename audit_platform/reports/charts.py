"""Plotly figures built server-side from plain data.

The same figure serves the browser (serialized to JSON, drawn by our static plotly.js) and the PDF
report (rendered to SVG by kaleido), so the dashboard and the report always show the same picture.
Builders take plain sequences, never querysets: selectors query, this module only draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from scanners.catalog import Severity

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
MUTED = "#8a93a1"
_FONT = {
    "family": "Inter, Segoe UI, DejaVu Sans, Arial, sans-serif",
    "size": 12,
    "color": "#1d2330",
}


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


def _base_layout(title: str, *, height: int, show_legend: bool = True) -> dict[str, object]:
    return {
        "title": {"text": title, "font": {"size": 13}, "x": 0, "xanchor": "left"}
        if title
        else None,
        "height": height,
        "margin": {"l": 48, "r": 16, "t": 36 if title else 12, "b": 40},
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


def _count_axis(figure: go.Figure, values: Sequence[int | float], axis: str = "y") -> None:
    """Whole-number ticks for counts (Plotly would label 0.2, 0.4... on small counts)."""
    top = max([0, *values])
    step = max(1, math.ceil(top / 5))
    figure.update_layout({f"{axis}axis": {"dtick": step, "tick0": 0}})


def open_by_severity_over_scans(points: Sequence[ScanPoint], *, title: str = "") -> go.Figure:
    """Stacked area: how many findings were open after each scan, by severity.
    One scan has no area to draw, so it is a stacked bar."""
    labels = [p.label for p in points]
    figure = go.Figure()
    # Lowest severity first so the most severe band sits on top where the eye lands.
    for severity in reversed(SEVERITY_ORDER):
        values = [int(p.open_by_severity.get(severity, 0)) for p in points]
        if not any(values):
            continue
        color = SEVERITY_COLORS[severity]
        hover = "%{y} " + severity + "<extra></extra>"
        if len(points) == 1:
            figure.add_trace(
                go.Bar(
                    x=labels,
                    y=values,
                    name=severity.capitalize(),
                    marker_color=color,
                    hovertemplate=hover,
                )
            )
            continue
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=values,
                name=severity.capitalize(),
                mode="lines",
                stackgroup="open",
                line={"width": 0.8, "color": color},
                fillcolor=color,
                hovertemplate=hover,
            )
        )
    figure.update_layout(**_base_layout(title, height=280), barmode="stack", bargap=0.6)
    figure.update_xaxes(type="category")
    _count_axis(figure, [sum(p.open_by_severity.values()) for p in points])
    return figure


def new_vs_fixed_per_scan(points: Sequence[ScanPoint], *, title: str = "") -> go.Figure:
    """Grouped bars: what each scan introduced, fixed and reopened."""
    labels = [p.label for p in points]
    figure = go.Figure(
        [
            go.Bar(
                x=labels,
                y=[p.new for p in points],
                name="New",
                marker_color=SEVERITY_COLORS["high"],
            ),
            go.Bar(x=labels, y=[p.fixed for p in points], name="Fixed", marker_color=OK),
            go.Bar(
                x=labels,
                y=[p.reopened for p in points],
                name="Reopened",
                marker_color=SEVERITY_COLORS["medium"],
            ),
        ]
    )
    figure.update_layout(**_base_layout(title, height=280), barmode="group", bargap=0.25)
    figure.update_xaxes(type="category")
    _count_axis(figure, [max(p.new, p.fixed, p.reopened) for p in points])
    return figure


def category_breakdown(counts: Sequence[tuple[str, int]], *, title: str = "") -> go.Figure:
    """Horizontal bars of open findings per category, biggest on top."""
    ordered = sorted(counts, key=lambda item: (item[1], item[0]))
    figure = go.Figure(
        go.Bar(
            x=[count for _, count in ordered],
            y=[name for name, _ in ordered],
            orientation="h",
            marker_color=ACCENT,
            hovertemplate="%{y}: %{x}<extra></extra>",
        )
    )
    height = max(220, 26 * len(ordered) + 60)
    layout = _base_layout(title, height=height, show_legend=False)
    layout["margin"] = {"l": 12, "r": 16, "t": 36 if title else 12, "b": 32}
    figure.update_layout(**layout)
    figure.update_yaxes(
        automargin=True, tickfont={"family": "DejaVu Sans Mono, monospace", "size": 11}
    )
    _count_axis(figure, [count for _, count in ordered], axis="x")
    return figure


def risk_by_location(risk: Sequence[tuple[str, float, int]], *, title: str = "") -> go.Figure:
    """Where the risk lives: summed blast radius per module (or route), with the finding count."""
    ordered = sorted(risk, key=lambda item: (item[1], item[0]))
    figure = go.Figure(
        go.Bar(
            x=[round(total, 1) for _, total, _ in ordered],
            y=[name for name, _, _ in ordered],
            customdata=[count for _, _, count in ordered],
            orientation="h",
            marker_color=SEVERITY_COLORS["high"],
            hovertemplate="%{y}<br>blast radius %{x} · %{customdata} findings<extra></extra>",
        )
    )
    height = max(220, 26 * len(ordered) + 60)
    layout = _base_layout(title, height=height, show_legend=False)
    layout["margin"] = {"l": 12, "r": 16, "t": 36 if title else 12, "b": 32}
    figure.update_layout(**layout)
    figure.update_xaxes(title_text="summed blast radius")
    figure.update_yaxes(
        automargin=True, tickfont={"family": "DejaVu Sans Mono, monospace", "size": 11}
    )
    return figure


def mean_time_to_remediate(
    days_by_severity: Mapping[str, float | None], *, title: str = ""
) -> go.Figure:
    """Mean days from first seen to verified fixed, per severity (only severities with fixes)."""
    severities = [s for s in SEVERITY_ORDER if days_by_severity.get(s) is not None]
    values = [round(float(days_by_severity[s] or 0.0), 1) for s in severities]
    figure = go.Figure(
        go.Bar(
            x=[s.capitalize() for s in severities],
            y=values,
            marker_color=[SEVERITY_COLORS[s] for s in severities],
            text=[f"{v:g} d" for v in values],
            textposition="outside",
            hovertemplate="%{x}: %{y} days<extra></extra>",
        )
    )
    figure.update_layout(**_base_layout(title, height=240, show_legend=False))
    figure.update_layout(bargap=0.45)
    figure.update_yaxes(title_text="days")
    return figure


def load_test_over_scans(points: Sequence[LoadTestPoint], *, title: str = "") -> go.Figure:
    """p95 latency (left axis) and throughput (right axis) of the uploaded load tests per scan."""
    labels = [p.label for p in points]
    figure = go.Figure(
        [
            go.Scatter(
                x=labels,
                y=[round(p.p95_ms, 1) for p in points],
                name="p95 (ms)",
                mode="lines+markers",
                line={"color": SEVERITY_COLORS["high"], "width": 2},
            ),
            go.Scatter(
                x=labels,
                y=[round(p.rps, 1) for p in points],
                name="requests/s",
                mode="lines+markers",
                yaxis="y2",
                line={"color": ACCENT, "width": 2, "dash": "dot"},
            ),
        ]
    )
    figure.update_layout(
        **_base_layout(title, height=280),
        yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero", "showgrid": False},
    )
    figure.update_xaxes(type="category")
    figure.update_layout(yaxis_title_text="p95 ms", yaxis2_title_text="requests/s")
    return figure


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
