"""Detector for ASYNC-BLOCKING-DB."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.async_.blocking import BLOCKING_RULES, find_blocking
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import Project

CATEGORY = "ASYNC-BLOCKING-DB"
RULE_ID = BLOCKING_RULES[CATEGORY]


@detector(RULE_ID, CATEGORY)
def blocking_db(project: Project) -> Iterator[Finding]:
    """Sync database access on the event loop.

    ## What it does
    Finds sync database access (a sync SQLAlchemy `Session`/`Engine`, `psycopg2`, `sqlite3`,
    `pymysql`, `pymongo`, sync `redis.Redis`) in code that runs on the event loop: inside an
    `async def`, or in a sync
    function that an `async def` calls (across modules) without a hand-off to a thread.

    ## Why is this bad?
    The event loop runs one thing at a time. While the database waits, every other request the
    worker serves waits too: latency grows with load and health checks time out.
    Code reached only through `asyncio.to_thread`, `run_in_executor`,
    `run_in_threadpool`, `anyio.to_thread.run_sync`, `def` routes and dependencies,
    plain-`def` background tasks, threads, scripts, migrations and tests is not reported.

    ## Example
    ```python
    @router.get("/notes/{note_id}")
    async def read_note(note_id: int, db: Session = Depends(get_db)):
        return db.get(Note, note_id)
    ```

    ## Use instead
    ```python
    @router.get("/notes/{note_id}")
    async def read_note(note_id: int, db: AsyncSession = Depends(get_session)):
        return await db.get(Note, note_id)
    ```
    """
    return find_blocking(project, CATEGORY)
