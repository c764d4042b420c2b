"""Detector for ASYNC-DEPRECATED-ON-EVENT."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import FunctionInfo, Project
from scanners.project.resolve import fid_of

RULE_ID = "deprecated-on-event"
CATEGORY = "ASYNC-DEPRECATED-ON-EVENT"


@detector(RULE_ID, CATEGORY)
def deprecated_on_event(project: Project) -> Iterator[Finding]:
    """`@app.on_event(...)` or `app.add_event_handler(...)` instead of a lifespan.

    ## What it does
    Finds startup and shutdown handlers registered with the deprecated `on_event` decorator or
    `add_event_handler`.

    ## Why is this bad?
    FastAPI and Starlette deprecated these hooks; they are ignored as soon as a `lifespan` is
    set, and startup state cannot be handed to shutdown code except through globals.

    ## Example
    ```python
    @app.on_event("startup")
    async def connect() -> None:
        app.state.redis = Redis.from_url(REDIS_URL)
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.redis = Redis.from_url(REDIS_URL)
        yield
        await app.state.redis.aclose()
    ```
    """
    for event in project.fastapi.events:
        if not event.deprecated:
            continue
        module = project.by_path.get(event.file)
        if module is None:
            continue
        info = project.function(event.target) if event.target else None
        if info is None or info.path != event.file:
            info = FunctionInfo(fid_of(module.module, "<module>"), module, module.body)
        yield make_finding(
            project,
            info,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            line=event.line,
            message=(
                f"{event.kind} handler registered with {event.registration}: FastAPI "
                "deprecated it in favour of a lifespan context manager."
            ),
        )
