"""Chart builders draw what the data says; the renderer turns figures into SVG with one browser."""

from __future__ import annotations

import io

import pypdf
import pytest

from audit_platform.reports import charts
from audit_platform.reports.rendering import ChartImage, render_chart_images, render_pdf

POINTS = [
    charts.ScanPoint("#1", {"high": 4, "medium": 2}, new=6, fixed=0, reopened=0),
    charts.ScanPoint("#2", {"high": 3, "medium": 2, "critical": 1}, new=1, fixed=1, reopened=0),
    charts.ScanPoint("#3", {"high": 1, "low": 5}, new=5, fixed=4, reopened=1),
]


def _trace(figure: charts.Figure, name: str) -> dict:
    return next(trace for trace in figure["data"] if trace["name"] == name)


def test_open_by_severity_stacks_one_band_per_present_severity_most_severe_last() -> None:
    figure = charts.open_by_severity_over_scans(POINTS)
    assert [trace["name"] for trace in figure["data"]] == ["Low", "Medium", "High", "Critical"]
    high = _trace(figure, "High")
    assert high["y"] == [4, 3, 1]
    assert high["x"] == ["#1", "#2", "#3"]
    assert {(trace["type"], trace["stackgroup"]) for trace in figure["data"]} == {
        ("scatter", "open")
    }
    assert figure["layout"]["yaxis"]["dtick"] == 2  # whole numbers up to 6 open findings


def test_open_by_severity_of_one_scan_is_a_stacked_bar() -> None:
    figure = charts.open_by_severity_over_scans(POINTS[:1])
    assert [(t["type"], t["name"], t["y"]) for t in figure["data"]] == [
        ("bar", "Medium", [2]),
        ("bar", "High", [4]),
    ]
    assert figure["layout"]["barmode"] == "stack"


def test_new_vs_fixed_has_three_series_per_scan() -> None:
    figure = charts.new_vs_fixed_per_scan(POINTS)
    by_name = {trace["name"]: trace["y"] for trace in figure["data"]}
    assert by_name == {"New": [6, 1, 5], "Fixed": [0, 1, 4], "Reopened": [0, 0, 1]}
    assert figure["layout"]["barmode"] == "group"


def test_category_breakdown_puts_the_biggest_category_on_top() -> None:
    figure = charts.category_breakdown(
        [("DB-N-PLUS-ONE", 2), ("ASYNC-BLOCKING-HTTP", 9), ("PYD-V1-API", 4)]
    )
    (bar,) = figure["data"]
    # Plotly draws horizontal bars bottom-up: the last entry is the top bar.
    assert bar["y"] == ["DB-N-PLUS-ONE", "PYD-V1-API", "ASYNC-BLOCKING-HTTP"]
    assert bar["x"] == [2, 4, 9]
    assert figure["layout"]["height"] == 220


def test_risk_by_location_carries_finding_counts() -> None:
    figure = charts.risk_by_location([("app/services.py", 41.25, 3), ("app/routes.py", 12.0, 5)])
    (bar,) = figure["data"]
    assert bar["y"] == ["app/routes.py", "app/services.py"]
    assert bar["x"] == [12.0, 41.2]
    assert bar["customdata"] == [5, 3]


def test_mttr_skips_severities_without_fixes() -> None:
    (bar,) = charts.mean_time_to_remediate({"critical": None, "high": 2.25, "low": 10.0})["data"]
    assert bar["x"] == ["High", "Low"]
    assert bar["y"] == [2.2, 10.0]
    assert bar["text"] == ["2.2 d", "10 d"]


def test_load_test_chart_uses_a_second_axis_for_rps() -> None:
    figure = charts.load_test_over_scans(
        [charts.LoadTestPoint("#1", 820.0, 41.5), charts.LoadTestPoint("#2", 95.4, 180.0)]
    )
    p95, rps = figure["data"]
    assert p95["y"] == [820.0, 95.4]
    assert rps["yaxis"] == "y2"
    assert rps["y"] == [41.5, 180.0]
    assert figure["layout"]["yaxis2"]["title"]["text"] == "requests/s"


def test_sparkline_points_span_the_box() -> None:
    assert charts.sparkline_points([]) == ""
    points = charts.sparkline_points([0, 10], width=100, height=20).split()
    assert points == ["0.0,18.0", "100.0,2.0"]
    flat = charts.sparkline_points([3])
    assert flat.split()[0].startswith("0.0,")


@pytest.mark.browser
def test_render_chart_images_renders_every_figure_as_svg_with_one_browser() -> None:
    figures = {
        "trend": charts.open_by_severity_over_scans(POINTS),
        "categories": charts.category_breakdown([("ASYNC-BLOCKING-HTTP", 3)]),
    }
    images = render_chart_images(figures)
    assert set(images) == {"trend", "categories"}
    for image in images.values():
        assert image.error == ""
        assert image.svg.startswith(b"<svg")
        assert image.data_uri.startswith("data:image/svg+xml;base64,")
    assert b"ASYNC-BLOCKING-HTTP" in images["categories"].svg


def test_render_chart_images_reports_a_missing_browser_instead_of_failing(settings) -> None:
    settings.REPORT_BROWSER_PATH = "/nonexistent/chromium"
    images = render_chart_images({"trend": charts.open_by_severity_over_scans(POINTS)})
    assert images["trend"].svg == b""
    assert "renderer failed" in images["trend"].error
    assert images["trend"].data_uri == ""


def test_render_pdf_produces_a_pdf_with_the_text() -> None:
    pdf = render_pdf(
        "<html><head><title>Remediation report</title></head><body><h1>Fix plan</h1></body></html>"
    )
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert reader.metadata is not None
    assert reader.metadata.title == "Remediation report"  # WeasyPrint writes <title> as /Title
    assert "Fix plan" in reader.pages[0].extract_text()


def test_chart_image_without_svg_has_no_data_uri() -> None:
    assert ChartImage(error="x").data_uri == ""


def test_every_figure_is_a_valid_plotly_figure() -> None:
    # graph_objects validates every property: a typo in a builder's dict fails here.
    import plotly.graph_objects as go  # noqa: PLC0415

    figures = [
        charts.open_by_severity_over_scans(POINTS),
        charts.open_by_severity_over_scans(POINTS[:1]),
        charts.new_vs_fixed_per_scan(POINTS),
        charts.category_breakdown([("A", 1)]),
        charts.risk_by_location([("a.py", 1.0, 1)]),
        charts.mean_time_to_remediate({"high": 1.0}),
        charts.load_test_over_scans([charts.LoadTestPoint("#1", 1.0, 2.0)]),
    ]
    for figure in figures:
        validated = go.Figure(figure)
        assert len(validated.data) == len(figure["data"])
