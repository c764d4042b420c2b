"""A two-route service with identical blocking calls, and runtime artifacts that make one route
hot (95% of traffic, 80% of loop samples) and the other cold. Shared by the engine's ingest tests
and the platform's pipeline tests."""

from __future__ import annotations

SERVICE = """\
import time

from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/api")


@router.get("/hot/{item_id}")
async def hot(item_id: int) -> dict[str, int]:
    time.sleep(0.05)
    return {"id": item_id}


@router.get("/cold")
async def cold() -> dict[str, int]:
    time.sleep(0.05)
    return {"id": 0}


app = FastAPI()
app.include_router(router)
"""
STATS_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
)
LOOP = (
    "thread (7): MainThread;run (asyncio/runners.py:190);"
    "BaseEventLoop.run_forever (asyncio/base_events.py:607);"
    "BaseEventLoop._run_once (asyncio/base_events.py:1922);Handle._run (asyncio/events.py:80)"
)
# py-spy raw output: paths from the profiled machine (/deploy/...), mapped by suffix.
PROFILE = (
    f"{LOOP};hot (/deploy/svc/main.py:10) 800\n"
    f"{LOOP};cold (/deploy/svc/main.py:16) 20\n"
    f"{LOOP[: LOOP.rindex(';')]};EpollSelector.select (selectors.py:468) 180\n"
)


def locust_stats(hot_p95_ms: int = 80) -> str:
    """Locust ``_stats.csv``: the hot route takes 95% of 1,000 requests."""
    return (
        STATS_HEADER
        + f"GET,/api/hot/[id],950,0,60,61,50,900,2,95.0,0.0,60,60,61,62,70,{hot_p95_ms},"
        "850,880,900,900,900\n"
        + "GET,/api/cold,50,0,55,56,50,70,2,5.0,0.0,55,55,56,57,60,65,68,69,70,70,70\n"
        + ",Aggregated,1000,0,60,61,50,90,2,100.0,0.0,60,60,61,62,70,80,85,88,90,90,90\n"
    )
