import sqlite3

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.sql import text as sql_text
from sqlmodel import text as sqlmodel_text
from sqlalchemy.ext.asyncio import AsyncSession

app = FastAPI()
NOTES_TABLE = "notes"


class Seen:
    __tablename__ = "seen"


@app.get("/search")
async def search(q: str, session: AsyncSession) -> list:
    # ruleid: sql-built-from-strings
    rows = await session.execute(text(f"SELECT id FROM notes WHERE body ILIKE '%{q}%'"))
    stmt = f"DELETE FROM notes WHERE title = '{q}'"
    # ruleid: sql-built-from-strings
    await session.execute(text(stmt))
    # ok: sql-built-from-strings
    safe = await session.execute(text("SELECT id FROM notes WHERE body ILIKE :q"), {"q": q})
    # ok: sql-built-from-strings
    counted = await session.execute(text(f"SELECT count(*) FROM {NOTES_TABLE} WHERE id = :id"), {"id": 1})
    return [rows, safe, counted]


@app.get("/search-sync")
def search_sync(feed_id: int, guids: list[str]) -> list:
    conn = sqlite3.connect("cache.db")
    # ruleid: sql-built-from-strings
    rows = conn.execute("SELECT guid FROM seen WHERE feed_id = %d AND guid IN (%s)" % (feed_id, ",".join(guids)))
    # ruleid: sql-built-from-strings
    conn.execute("SELECT * FROM seen WHERE guid = '" + guids[0] + "'")
    # ruleid: sql-built-from-strings
    conn.execute("SELECT * FROM seen WHERE feed_id = {}".format(feed_id))
    # ok: sql-built-from-strings
    conn.executemany("INSERT OR IGNORE INTO seen (feed_id, guid) VALUES (?, ?)", [(feed_id, g) for g in guids])
    # ok: sql-built-from-strings
    conn.execute("SELECT * FROM seen WHERE feed_id = ?", (feed_id,))
    return list(rows)


@app.get("/filter")
def filter_rows(name: str, order: str, conn: sqlite3.Connection) -> list:
    sql = "SELECT id FROM seen WHERE 1 = 1"
    if name:
        sql += f" AND name = '{name}'"
    sql += " ORDER BY {}".format(order)
    # ruleid: sql-built-from-strings
    return list(conn.exec_driver_sql(sql))


@app.get("/filter-safe")
def filter_rows_safe(name: str, conn: sqlite3.Connection) -> list:
    sql = "SELECT id FROM seen WHERE 1 = 1"
    params = []
    if name:
        sql += " AND name = ?"
        params.append(name)
    # ok: sql-built-from-strings
    return list(conn.execute(sql + " ORDER BY id", params))


@app.delete("/rows/{row_id}")
async def delete_row(row_id: int, session: AsyncSession) -> None:
    # ruleid: sql-built-from-strings
    await session.exec(text(f"DELETE FROM seen WHERE id = {row_id}"))


@app.get("/by-name")
async def by_name(name: str, session: AsyncSession, database, cursor) -> list:
    template = "SELECT id FROM seen WHERE name = '%s'"
    # ruleid: sql-built-from-strings
    cursor.execute(template % name)
    # ruleid: sql-built-from-strings
    await session.execute(sql_text(f"SELECT id FROM seen WHERE name = '{name}'"))
    # ruleid: sql-built-from-strings
    rows = await database.fetch_all(query=f"SELECT id FROM seen WHERE name = '{name}'")
    # ok: sql-built-from-strings
    safe = await database.fetch_all(query="SELECT id FROM seen WHERE name = :name", values={"name": name})
    # ok: sql-built-from-strings
    cursor.execute(template, (name,))
    return [rows, safe]


@app.get("/suffix")
def suffix(slug: str, conn: sqlite3.Connection) -> list:
    base_sql = "SELECT id FROM seen"
    sql = base_sql + f" WHERE slug LIKE '{slug}%'"
    # ruleid: sql-built-from-strings
    return list(conn.execute(sql))


@app.delete("/older-than/{age}")
async def older_than(age: int, session: AsyncSession) -> None:
    # ruleid: sql-built-from-strings
    await session.exec(sqlmodel_text(f"DELETE FROM seen WHERE age > {age}"))
    # ok: sql-built-from-strings
    await session.exec(sqlmodel_text("DELETE FROM seen WHERE age > :age").bindparams(age=age))
    # ok: sql-built-from-strings
    await session.exec(sqlmodel_text(f"DELETE FROM {Seen.__tablename__} WHERE age > :age"), {"age": age})
    # ruleid: sql-built-from-strings
    await session.exec(sqlmodel_text(f"DELETE FROM {Seen.__tablename__} WHERE age > {age}"))


@app.get("/branches")
def branches(sort: str | None, name: str, conn: sqlite3.Connection) -> list:
    if sort:
        sql = f"SELECT id FROM seen ORDER BY {sort}"
    else:
        sql = "SELECT id FROM seen"
    # ruleid: sql-built-from-strings
    rows = list(conn.execute(sql))
    if name:
        safe = "SELECT id FROM seen WHERE name = ?"
    else:
        safe = "SELECT id FROM seen"
    # ok: sql-built-from-strings
    rows += list(conn.execute(safe, (name,) if name else ()))
    try:
        query = "SELECT id FROM seen WHERE name = '%s'" % name
    except ValueError:
        raise
    # ruleid: sql-built-from-strings
    rows += list(conn.execute(query))
    return rows


@app.get("/bound-later")
async def bound_later(name: str, limit: int, session: AsyncSession) -> list:
    # ruleid: sql-built-from-strings
    rows = await session.execute(text(f"SELECT id FROM seen WHERE name = '{name}' LIMIT :n").bindparams(n=limit))
    # ok: sql-built-from-strings
    safe = await session.execute(text("SELECT id FROM seen WHERE name = :name").bindparams(name=name))
    return [rows, safe]
