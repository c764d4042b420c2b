import hashlib

import bcrypt
import pandas as pd
from fastapi import FastAPI
from passlib.context import CryptContext
from starlette.concurrency import run_in_threadpool

app = FastAPI()
pwd_context = CryptContext(schemes=["bcrypt"])


@app.post("/login")
async def login(password: str, stored: bytes) -> dict:
    # ruleid: blocking-cpu-in-async
    ok = bcrypt.checkpw(password.encode(), stored)
    # ruleid: blocking-cpu-in-async
    same = pwd_context.verify(password, stored.decode())
    return {"ok": ok and same}


@app.post("/login-sync")
def login_sync(password: str, stored: bytes) -> dict:
    # ok: blocking-cpu-in-async
    return {"ok": bcrypt.checkpw(password.encode(), stored)}


@app.post("/login-threadpool")
async def login_threadpool(password: str, stored: bytes) -> dict:
    # ok: blocking-cpu-in-async
    ok = await run_in_threadpool(bcrypt.checkpw, password.encode(), stored)
    return {"ok": ok}


@app.post("/import")
async def import_csv(path: str) -> dict:
    # ruleid: blocking-cpu-in-async
    frame = pd.read_csv(path)
    # ruleid: blocking-cpu-in-async
    key = hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 600_000)
    # ok: blocking-cpu-in-async
    digest = hashlib.sha256(b"small").hexdigest()
    return {"rows": len(frame), "key": key.hex(), "digest": digest}
