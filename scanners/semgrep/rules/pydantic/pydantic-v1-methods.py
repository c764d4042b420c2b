import os
from unittest import mock

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, parse_obj_as

app = FastAPI()


class Item(BaseModel):
    name: str


@app.post("/items")
async def create_item(raw: dict, item: Item) -> dict:
    # ruleid: pydantic-v1-methods
    parsed = Item.parse_obj(raw)
    # ruleid: pydantic-v1-methods
    data = item.dict(exclude={"name"})
    # ruleid: pydantic-v1-methods
    cleaned = item.copy(update={"name": item.name.strip()})
    # ruleid: pydantic-v1-methods
    items = parse_obj_as(list[Item], [raw])
    # ok: pydantic-v1-methods
    dumped = item.model_dump()
    # ok: pydantic-v1-methods
    frame = table.copy(deep=True)
    # ok: pydantic-v1-methods
    validated = Item.model_validate(raw)
    async with httpx.AsyncClient() as client:
        resp = await client.get("https://example.org")
    # ok: pydantic-v1-methods
    body = resp.json()
    # ok: pydantic-v1-methods
    plain = dict(a=1)
    # ok: pydantic-v1-methods
    shallow = raw.copy()
    # ok: pydantic-v1-methods
    with mock.patch.dict(os.environ, {"MODE": "test"}):
        pass
    return {"parsed": parsed, "data": data, "cleaned": cleaned, "items": items,
            "dumped": dumped, "validated": validated, "body": body, "plain": plain,
            "shallow": shallow}


@app.post("/items-sync")
def create_item_sync(item: Item) -> dict:
    # ruleid: pydantic-v1-methods
    return item.dict()
