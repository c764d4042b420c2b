import asyncio
import os
import subprocess

from fastapi import FastAPI

app = FastAPI()


@app.post("/thumbnails")
async def make_thumbnail(path: str) -> dict:
    # ruleid: blocking-subprocess-in-async
    subprocess.run(["convert", path, "thumb.png"], check=True)
    # ruleid: blocking-subprocess-in-async
    os.system("sync")
    proc = subprocess.Popen(["ffprobe", path], stdout=subprocess.PIPE)
    # ruleid: blocking-subprocess-in-async
    out, _ = proc.communicate()
    # ruleid: blocking-subprocess-in-async
    version = subprocess.check_output(["ffmpeg", "-version"])
    return {"out": out.decode(), "version": version.decode()}


@app.post("/thumbnails-sync")
def make_thumbnail_sync(path: str) -> dict:
    # ok: blocking-subprocess-in-async
    subprocess.run(["convert", path, "thumb.png"], check=True)
    return {}


@app.post("/thumbnails-async-ok")
async def make_thumbnail_ok(path: str) -> dict:
    # ok: blocking-subprocess-in-async
    proc = await asyncio.create_subprocess_exec("convert", path, "thumb.png")
    # ok: blocking-subprocess-in-async
    await proc.wait()
    # ok: blocking-subprocess-in-async
    await asyncio.to_thread(subprocess.run, ["sync"], check=True)
    return {}
