import asyncio
import urllib.request

import httpx
import requests
import requests as rq
from fastapi import FastAPI

app = FastAPI()


@app.get("/rates")
async def rates_async() -> dict:
    # ruleid: blocking-http-in-async
    response = requests.get("https://rates.example/latest", timeout=5)
    # ruleid: blocking-http-in-async
    rq.post("https://audit.example/log", json={"seen": True}, timeout=5)
    # ruleid: blocking-http-in-async
    httpx.get("https://rates.example/other")
    # ruleid: blocking-http-in-async
    urllib.request.urlopen("https://rates.example/raw")
    return response.json()


@app.get("/rates-sync")
def rates_sync() -> dict:
    # ok: blocking-http-in-async
    response = requests.get("https://rates.example/latest", timeout=5)
    return response.json()


@app.get("/rates-good")
async def rates_good() -> dict:
    async with httpx.AsyncClient() as client:
        # ok: blocking-http-in-async
        response = await client.get("https://rates.example/latest")
    # ok: blocking-http-in-async
    other = await asyncio.to_thread(requests.get, "https://rates.example/other")
    # ok: blocking-http-in-async
    third = await asyncio.to_thread(lambda: requests.get("https://rates.example/third"))
    return {"a": response.json(), "b": other.json(), "c": third.json()}


def sync_helper() -> int:
    # ok: blocking-http-in-async
    return requests.head("https://example.org").status_code


async def helper_async() -> int:
    # ruleid: blocking-http-in-async
    return requests.request("GET", "https://example.org").status_code
