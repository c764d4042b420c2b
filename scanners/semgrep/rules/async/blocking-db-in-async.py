import sqlite3

import asyncpg
import psycopg2
from fastapi import FastAPI

app = FastAPI()


@app.get("/legacy")
async def legacy_rows() -> list:
    # ruleid: blocking-db-in-async
    conn = psycopg2.connect("dbname=legacy")
    rows = conn.cursor().fetchall()
    return rows


@app.get("/legacy-sync")
def legacy_rows_sync() -> list:
    # ok: blocking-db-in-async
    conn = sqlite3.connect("legacy.db")
    return conn.execute("SELECT 1").fetchall()


@app.get("/modern")
async def modern_rows() -> list:
    # ok: blocking-db-in-async
    conn = await asyncpg.connect("postgresql://db/app")
    return await conn.fetch("SELECT 1")


async def cache_lookup(key: str) -> bytes:
    # ruleid: blocking-db-in-async
    conn = sqlite3.connect("cache.db")
    return conn.execute("SELECT value FROM cache WHERE key = ?", (key,)).fetchone()
