import asyncio
import time

from demoapp.services import load_rates


async def get_rates() -> dict[str, float]:
    return load_rates()


async def get_health() -> str:
    await asyncio.sleep(0.01)
    return "ok"


async def never_awaited() -> None:
    await asyncio.sleep(0)


def flush_metrics() -> None:
    time.sleep(0.02)


async def serve(seconds: float) -> None:
    loop = asyncio.get_running_loop()
    loop.slow_callback_duration = 0.01
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await asyncio.gather(get_rates(), get_health())
        never_awaited() if loop.time() > deadline - 0.2 else None
        loop.call_soon(flush_metrics)
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    import sys

    asyncio.run(serve(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0))
