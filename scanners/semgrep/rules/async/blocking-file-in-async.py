import asyncio
import json
import os
import shutil
from pathlib import Path

import aiofiles
from fastapi import FastAPI

app = FastAPI()


@app.get("/config")
async def read_config() -> dict:
    # ruleid: blocking-file-in-async
    with open("config.json") as handle:
        data = json.load(handle)
    # ruleid: blocking-file-in-async
    Path("last-read.txt").write_text("now")
    # ruleid: blocking-file-in-async
    shutil.copy("config.json", "config.bak")
    # ruleid: blocking-file-in-async
    names = os.listdir("uploads")
    return {"data": data, "names": names}


@app.get("/config-sync")
def read_config_sync() -> dict:
    # ok: blocking-file-in-async
    with open("config.json") as handle:
        return json.load(handle)


@app.get("/config-async-ok")
async def read_config_ok() -> dict:
    # ok: blocking-file-in-async
    async with aiofiles.open("config.json") as handle:
        text = await handle.read()
    # ok: blocking-file-in-async
    other = await asyncio.to_thread(Path("other.json").read_text)
    # ok: blocking-file-in-async
    exists = os.path.exists("uploads")
    return {"text": text, "other": other, "exists": exists}
