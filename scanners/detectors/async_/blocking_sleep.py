"""Detector for ASYNC-BLOCKING-SLEEP."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.async_.blocking import BLOCKING_RULES, find_blocking
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import Project

CATEGORY = "ASYNC-BLOCKING-SLEEP"
RULE_ID = BLOCKING_RULES[CATEGORY]


@detector(RULE_ID, CATEGORY)
def blocking_sleep(project: Project) -> Iterator[Finding]:
    """time.sleep on the event loop.

    ## What it does
    Finds `time.sleep(...)` in code that runs on the event loop: inside an `async def`, or in a
    sync
    function that an `async def` calls (across modules) without a hand-off to a thread.

    ## Why is this bad?
    The event loop runs one thing at a time. While the sleep waits, every other request the
    worker serves waits too: latency grows with load and health checks time out.
    Code reached only through `asyncio.to_thread`, `run_in_executor`,
    `run_in_threadpool`, `anyio.to_thread.run_sync`, `def` routes and dependencies,
    plain-`def` background tasks, threads, scripts, migrations and tests is not reported.

    ## Example
    ```python
    async def poll():
        time.sleep(0.5)
    ```

    ## Use instead
    ```python
    async def poll():
        await asyncio.sleep(0.5)
    ```
    """
    return find_blocking(project, CATEGORY)
