import asyncio
import time
from time import sleep as nap

from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@app.get("/decorated-async")
async def decorated_async_route() -> dict[str, bool]:
    # ruleid: blocking-sleep-in-async
    time.sleep(1)
    return {"ok": True}


@app.get("/decorated-sync")
def decorated_sync_route() -> dict[str, bool]:
    # ok: blocking-sleep-in-async
    time.sleep(1)
    return {"ok": True}


@router.post(
    "/multi-line",
    response_model=dict[str, int],
)
@some_other_decorator
async def stacked_decorators_async(
    item_id: int,
) -> dict[str, int]:
    # ruleid: blocking-sleep-in-async
    nap(0.5)
    return {"id": item_id}


@router.post(
    "/multi-line-sync",
    response_model=dict[str, int],
)
def multi_line_sync(
    item_id: int = Depends(get_id(default=1)),
) -> dict[str, int]:
    """Docstring with text
at column zero
"""
# a comment at column zero inside the body
    # ok: blocking-sleep-in-async
    time.sleep(1)
    return {"id": item_id}


async def plain_async_helper() -> None:
    # ok: blocking-sleep-in-async
    await asyncio.sleep(1)
    # ruleid: blocking-sleep-in-async
    time.sleep(1)


def plain_sync_helper() -> None:
    # ok: blocking-sleep-in-async
    time.sleep(1)


class Poller:
    @staticmethod
    async def poll() -> None:
        # ruleid: blocking-sleep-in-async
        time.sleep(2)

    async def handed_off(self) -> None:
        def in_thread() -> None:
            # ok: blocking-sleep-in-async
            time.sleep(1)

        await asyncio.to_thread(in_thread)
        # ok: blocking-sleep-in-async
        await asyncio.to_thread(lambda: time.sleep(1))
        loop = asyncio.get_running_loop()
        # ok: blocking-sleep-in-async
        await loop.run_in_executor(None, lambda: time.sleep(1))


# ok: blocking-sleep-in-async
time.sleep(0)
