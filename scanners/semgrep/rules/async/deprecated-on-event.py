from contextlib import asynccontextmanager

from fastapi import FastAPI

app = FastAPI()


# ruleid: deprecated-on-event
@app.on_event("startup")
async def open_pool() -> None:
    pass


# ruleid: deprecated-on-event
@app.on_event("shutdown")
def close_pool() -> None:
    pass


def dispose() -> None:
    pass


# ruleid: deprecated-on-event
app.add_event_handler("shutdown", dispose)


@asynccontextmanager
async def lifespan(application: FastAPI):
    yield


# ok: deprecated-on-event
modern = FastAPI(lifespan=lifespan)


@modern.get("/route")
# ok: deprecated-on-event
async def route() -> dict:
    return {}


@modern.get("/sync-route")
# ok: deprecated-on-event
def sync_route() -> dict:
    return {}
