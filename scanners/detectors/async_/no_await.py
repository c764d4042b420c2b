"""Detector for ASYNC-NO-AWAIT."""

from __future__ import annotations

from collections.abc import Iterator

from scanners.detectors.base import make_finding
from scanners.detectors.registry import detector
from scanners.findings import Finding
from scanners.project.model import Project

RULE_ID = "async-def-without-await"
CATEGORY = "ASYNC-NO-AWAIT"


@detector(RULE_ID, CATEGORY)
def no_await(project: Project) -> Iterator[Finding]:
    """An `async def` helper that never awaits.

    ## What it does
    Finds `async def` helpers with no `await`, `async for` or `async with`. Routes,
    dependencies, lifespan and event handlers, decorated functions (frameworks register them),
    functions handed over as callbacks, async generators, stubs, dunder methods, methods of
    classes that derive from another class (`object` aside), and methods named like an async
    method that awaits in another class (they implement an async interface) are left alone.

    ## Why is this bad?
    Every call pays for creating and scheduling a coroutine, callers must `await` it for no
    reason, and forgetting that `await` silently skips the work. If the body is CPU work it
    also runs on the event loop while looking asynchronous.

    ## Example
    ```python
    async def episode_filename(episode: Episode) -> str:
        return f"{episode.channel_id}-{episode.id}.m4a"
    ```

    ## Use instead
    ```python
    def episode_filename(episode: Episode) -> str:
        return f"{episode.channel_id}-{episode.id}.m4a"
    ```
    """
    referenced = project.referenced_functions()
    passed_names: set[str] = set()
    # Async method names that some class implements with awaits: another class's method of the
    # same name that does not await is an implementation of the same (duck-typed) interface.
    awaiting_methods: set[str] = set()
    for info in project.functions():
        passed_names.update(info.summary.escaped_names)
        fs = info.summary
        if fs.class_qualname and fs.is_async and fs.has_await:
            awaiting_methods.add(fs.name)
    for info in project.functions():
        fs = info.summary
        if not fs.is_async or fs.has_await or fs.has_yield or fs.is_stub or fs.decorators:
            continue
        if fs.parent or project.is_offloop(info) or fs.name.startswith("__"):
            continue
        if project.is_route(info.fid) or info.fid in referenced or fs.name in passed_names:
            continue
        if fs.class_qualname:
            if fs.name in awaiting_methods:
                continue
            klass = project.resolver.klass(f"{info.module.module}:{fs.class_qualname}")
            if klass is None or any(base != ("name", "object") for base in klass[1].bases):
                continue
        yield make_finding(
            project,
            info,
            rule_id=RULE_ID,
            category_id=CATEGORY,
            line=fs.line,
            message=(
                f"async def {fs.name}() never awaits, iterates asynchronously or uses async "
                "with: make it a plain def."
            ),
            reach=project.reach_labels(info.fid),
        )
