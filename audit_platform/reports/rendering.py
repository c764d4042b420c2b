"""Static chart images and PDF rendering for reports.

Charts: kaleido 1.x drives a headless Chromium through the DevTools protocol. Starting the browser
costs about 2.5 s and each chart about 0.2 s after that, so a report renders ALL its charts with ONE
browser (`render_chart_images`), never one start per chart. The browser is Debian's `chromium`
unless `REPORT_BROWSER_PATH` (setting) or `BROWSER_PATH` (environment, kaleido's own variable) says
otherwise. MathJax is disabled because its default is a CDN and installs may be air-gapped;
plotly.js comes from the installed plotly package.

PDF: WeasyPrint renders the same HTML the browser shows.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from audit_platform.reports.charts import Figure

logger = logging.getLogger(__name__)

CHART_WIDTH_PX = 520  # half an A4 page at a readable type size
RENDER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ChartImage:
    """An SVG chart for an `<img src>`; `error` says why it is missing when rendering failed."""

    svg: bytes = b""
    error: str = ""

    @property
    def data_uri(self) -> str:
        return (
            "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")
            if self.svg
            else ""
        )


def browser_path() -> str | None:
    configured = getattr(settings, "REPORT_BROWSER_PATH", "") or os.environ.get("BROWSER_PATH", "")
    if configured:
        return str(configured)
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


async def _render_all(figures: Mapping[str, Figure], path: str) -> dict[str, ChartImage]:
    # Imported here: kaleido pulls in choreographer and logistro, which only report rendering needs.
    import kaleido  # noqa: PLC0415

    images: dict[str, ChartImage] = {}
    async with kaleido.Kaleido(path=path, n=1, mathjax=False, timeout=RENDER_TIMEOUT_S) as renderer:
        for name, figure in figures.items():
            height = int(figure.get("layout", {}).get("height") or 300)
            try:
                svg = await renderer.calc_fig(
                    figure, opts={"format": "svg", "width": CHART_WIDTH_PX, "height": height}
                )
            except Exception as exc:  # one broken figure must not lose the others
                logger.warning("chart %s failed to render: %s", name, exc)
                images[name] = ChartImage(error=f"chart could not be rendered: {exc}")
                continue
            images[name] = ChartImage(svg=bytes(svg))
    return images


def render_chart_images(figures: Mapping[str, Figure]) -> dict[str, ChartImage]:
    """Render every figure to SVG with one browser. Never raises: failures become `.error`."""
    if not figures:
        return {}
    if not getattr(settings, "REPORT_CHART_IMAGES", True):  # installs without a browser opt out
        return {
            name: ChartImage(error="chart images are disabled (REPORT_CHART_IMAGES)")
            for name in figures
        }
    path = browser_path()
    if path is None:
        reason = "no Chromium found (set REPORT_BROWSER_PATH or BROWSER_PATH)"
        logger.warning("report charts skipped: %s", reason)
        return {name: ChartImage(error=reason) for name in figures}
    try:
        return asyncio.run(_render_all(figures, path))
    except (
        Exception
    ) as exc:  # browser failed to start or died: the report still goes out, text-only
        logger.exception("report charts skipped: the chart renderer failed")
        reason = f"the chart renderer failed: {exc}"
        return {name: ChartImage(error=reason) for name in figures}


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render report HTML to PDF bytes with WeasyPrint."""
    import weasyprint  # noqa: PLC0415  (loads pango/cairo bindings: only when a PDF is asked for)

    return bytes(weasyprint.HTML(string=html, base_url=base_url).write_pdf())
