"""The finding catalog (`docs/rule-catalog.md`): every finding carries exactly one category.

This module is the single source of truth inside the engine for category ids, their default
severity, the area they belong to and the remediation a finding of the category must name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.IntEnum):
    """Ordered so that comparisons read naturally: ``Severity.HIGH > Severity.LOW``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Parse ``"high"``/``"HIGH"`` and SARIF levels (error, warning, note, none)."""
        normalized = value.strip().lower()
        sarif_levels = {"error": cls.HIGH, "warning": cls.MEDIUM, "note": cls.LOW, "none": cls.INFO}
        if normalized in sarif_levels:
            return sarif_levels[normalized]
        try:
            return cls[normalized.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}") from None

    @property
    def sarif_level(self) -> str:
        if self >= Severity.HIGH:
            return "error"
        if self == Severity.MEDIUM:
            return "warning"
        if self == Severity.LOW:
            return "note"
        return "none"


@dataclass(frozen=True)
class Category:
    id: str
    area: str
    severity: Severity
    summary: str
    remediation: str


_AREA_ASYNC = "Event loop and async correctness"
_AREA_API = "Pydantic models and API contract"
_AREA_DB = "Database and SQLAlchemy"
_AREA_SEC = "Security and configuration"
_AREA_TYPING = "Dependency injection and typing"
_AREA_RUNTIME = "Runtime evidence"

# fmt: off  (a table reads best one entry to a few lines)
_CATEGORIES = (
    Category(
        "ASYNC-BLOCKING-HTTP",
        _AREA_ASYNC,
        Severity.HIGH,
        "sync HTTP call on the event loop",
        "Use one httpx.AsyncClient created in the app's lifespan, or wrap the call in "
        "`await asyncio.to_thread(...)`.",
    ),
    Category(
        "ASYNC-BLOCKING-SLEEP",
        _AREA_ASYNC,
        Severity.HIGH,
        "time.sleep on the event loop",
        "Use `await asyncio.sleep(...)`.",
    ),
    Category(
        "ASYNC-BLOCKING-FILE",
        _AREA_ASYNC,
        Severity.MEDIUM,
        "sync file I/O on the event loop",
        "Use aiofiles or anyio.Path, or move the I/O to `await asyncio.to_thread(...)`.",
    ),
    Category(
        "ASYNC-BLOCKING-DB",
        _AREA_ASYNC,
        Severity.HIGH,
        "sync database access on the event loop",
        "Use an async driver (asyncpg, psycopg async, redis.asyncio) with AsyncSession, or "
        "make the route a plain `def` so FastAPI runs it in its threadpool.",
    ),
    Category(
        "ASYNC-BLOCKING-SUBPROCESS",
        _AREA_ASYNC,
        Severity.HIGH,
        "blocking subprocess call on the event loop",
        "Use `asyncio.create_subprocess_exec(...)` and await it.",
    ),
    Category(
        "ASYNC-BLOCKING-CPU",
        _AREA_ASYNC,
        Severity.MEDIUM,
        "CPU-heavy call on the event loop",
        "Move the work to `run_in_threadpool`, a process pool or a task queue; use orjson "
        "for serialization.",
    ),
    Category(
        "ASYNC-MISSING-AWAIT",
        _AREA_ASYNC,
        Severity.HIGH,
        "coroutine called without await",
        "Add `await`.",
    ),
    Category(
        "ASYNC-NO-AWAIT",
        _AREA_ASYNC,
        Severity.LOW,
        "async def helper that never awaits",
        "Make it a plain `def`.",
    ),
    Category(
        "ASYNC-CLIENT-LIFECYCLE",
        _AREA_ASYNC,
        Severity.MEDIUM,
        "async HTTP client created per request, at import time or without limits",
        "Create one client in `lifespan`, store it on `app.state`, with explicit limits.",
    ),
    Category(
        "ASYNC-DEPRECATED-ON-EVENT",
        _AREA_ASYNC,
        Severity.LOW,
        "@app.on_event / add_event_handler",
        "Use a `lifespan` context manager.",
    ),
    Category(
        "PYD-ANY-FIELD",
        _AREA_API,
        Severity.MEDIUM,
        "model field typed Any, bare dict or bare list",
        "Use a nested model or a precise type.",
    ),
    Category(
        "PYD-UNCONSTRAINED-STR",
        _AREA_API,
        Severity.LOW,
        "request model str field without max_length/pattern",
        "Use `Annotated[str, Field(min_length=1, max_length=N)]`.",
    ),
    Category(
        "PYD-LOOSE-OPTIONAL",
        _AREA_API,
        Severity.LOW,
        "optional request field used without a None check",
        "Make the field required, or handle None.",
    ),
    Category(
        "PYD-V1-API",
        _AREA_API,
        Severity.MEDIUM,
        "Pydantic v1 API in a v2 code base",
        "Use model_dump, model_dump_json, model_validate, `model_config = ConfigDict(...)`, "
        "@field_validator.",
    ),
    Category(
        "API-RESPONSE-LEAK",
        _AREA_API,
        Severity.HIGH,
        "response exposes sensitive or internal fields",
        "Return a separate `*Out` schema without the sensitive fields.",
    ),
    Category(
        "API-MISSING-RESPONSE-MODEL",
        _AREA_API,
        Severity.LOW,
        "route without response_model or return annotation",
        "Declare the response schema.",
    ),
    Category(
        "API-UNTYPED-ENDPOINT",
        _AREA_API,
        Severity.MEDIUM,
        "route reads an untyped body",
        "Use a Pydantic request model.",
    ),
    Category(
        "API-SHARED-IN-OUT-MODEL",
        _AREA_API,
        Severity.LOW,
        "same model used as request body and response model",
        "Use separate `*In` / `*Out` models.",
    ),
    Category(
        "DB-SESSION-LEAK",
        _AREA_DB,
        Severity.HIGH,
        "session or connection without a guaranteed close",
        "Use `async with async_session() as s:`; a module-level sessionmaker; pass ids, not "
        "sessions, to background jobs.",
    ),
    Category(
        "DB-SQL-INJECTION",
        _AREA_DB,
        Severity.CRITICAL,
        "SQL text built from non-constant values",
        "Use bound parameters.",
    ),
    Category(
        "DB-N-PLUS-ONE",
        _AREA_DB,
        Severity.MEDIUM,
        "lazy load or query inside a loop over query results",
        "Use selectinload/joinedload: one query.",
    ),
    Category(
        "DB-POOL-CONFIG",
        _AREA_DB,
        Severity.LOW,
        "engine for a server database without pool settings",
        "Set pool_size, max_overflow, pool_pre_ping, pool_recycle and pool_timeout.",
    ),
    Category(
        "DB-MISSING-INDEX",
        _AREA_DB,
        Severity.LOW,
        "filtered or ordered column without an index",
        "Add an index and a migration.",
    ),
    Category(
        "SEC-CORS-WILDCARD-CREDENTIALS",
        _AREA_SEC,
        Severity.HIGH,
        "CORS wildcard origin with credentials",
        "Use an explicit origin allowlist from settings.",
    ),
    Category(
        "SEC-HARDCODED-SECRET",
        _AREA_SEC,
        Severity.HIGH,
        "literal secret in code, or a secret compared with ==",
        "Read secrets from the environment; compare with `secrets.compare_digest`.",
    ),
    Category(
        "DEP-UNPINNED",
        _AREA_SEC,
        Severity.LOW,
        "unpinned dependencies and no lock file",
        "Add a lock file (uv.lock, poetry.lock) or pin versions.",
    ),
    Category(
        "DI-DEEP-CHAIN",
        _AREA_TYPING,
        Severity.LOW,
        "Depends chain deeper than 3 levels",
        "Flatten the dependency chain.",
    ),
    Category(
        "TYPE-CHECK",
        _AREA_TYPING,
        Severity.MEDIUM,
        "type checker error",
        "Fix the code as the type checker says.",
    ),
    Category(
        "TYPE-UNTYPED-DEF",
        _AREA_TYPING,
        Severity.LOW,
        "function reachable from a route without full annotations",
        "Annotate every parameter and the return type.",
    ),
    Category(
        "RUNTIME-BLOCKING-STACK",
        _AREA_RUNTIME,
        Severity.HIGH,
        "event-loop thread sampled inside a blocking call",
        "Remove the blocking call from the event loop (see the matching static finding).",
    ),
    Category(
        "RUNTIME-SLOW-CALLBACK",
        _AREA_RUNTIME,
        Severity.HIGH,
        "asyncio debug mode reported a slow step",
        "Find the blocking work in that step and move it off the loop.",
    ),
    Category(
        "RUNTIME-SLOW-ENDPOINT",
        _AREA_RUNTIME,
        Severity.MEDIUM,
        "endpoint over the latency budget or failing under load",
        "Profile the endpoint and fix what the profile shows.",
    ),
    Category(
        "RUNTIME-N-PLUS-ONE",
        _AREA_RUNTIME,
        Severity.MEDIUM,
        "one request runs the same query shape many times",
        "Load related rows in one query (selectinload/joinedload).",
    ),
)

CATEGORIES: dict[str, Category] = {category.id: category for category in _CATEGORIES}


def category(category_id: str) -> Category:
    """Return the catalog entry; raises KeyError for an id that is not in the catalog."""
    return CATEGORIES[category_id]


def is_catalog_category(category_id: str) -> bool:
    return category_id in CATEGORIES
