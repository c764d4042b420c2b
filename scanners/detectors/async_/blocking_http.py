"""Detector for ASYNC-BLOCKING-HTTP."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.async_.blocking import BLOCKING_RULES, find_blocking
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import Project

CATEGORY = "ASYNC-BLOCKING-HTTP"
RULE_ID = BLOCKING_RULES[CATEGORY]


@detector(RULE_ID, CATEGORY)
def blocking_http(project: Project) -> Iterator[Finding]:
    """A sync HTTP call on the event loop.

    ## What it does
    Finds sync HTTP calls (`requests`, `httpx.get`, `httpx.Client`, `urllib`, `urllib3`,
    `http.client`) in code that runs on the event loop: inside an `async def`, or in a sync
    function that an `async def` calls (across modules) without a hand-off to a thread.

    ## Why is this bad?
    The event loop runs one thing at a time. While the remote server waits, every other request the
    worker serves waits too: latency grows with load and health checks time out.
    Code reached only through `asyncio.to_thread`, `run_in_executor`,
    `run_in_threadpool`, `anyio.to_thread.run_sync`, `def` routes and dependencies,
    plain-`def` background tasks, threads, scripts, migrations and tests is not reported.

    ## Example
    ```python
    @router.get("/rates")
    async def rates():
        return requests.get(RATES_URL, timeout=5).json()
    ```

    ## Use instead
    ```python
    @router.get("/rates")
    async def rates(request: Request):
        resp = await request.app.state.http.get(RATES_URL)  # httpx.AsyncClient from lifespan
        return resp.json()
    ```
    """
    return find_blocking(project, CATEGORY)
