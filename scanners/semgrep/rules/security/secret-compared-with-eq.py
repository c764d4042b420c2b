import enum
import hmac
import os
import secrets

from fastapi import FastAPI, Header, HTTPException

app = FastAPI()


class Settings:
    admin_token = ""
    webhook_secret = ""


settings = Settings()
LEGACY_WEBHOOK_SECRET = os.environ.get("LEGACY_WEBHOOK_SECRET", "")


@app.post("/admin")
async def admin(token: str = Header()) -> dict:
    # ruleid: secret-compared-with-eq
    if token == settings.admin_token:
        return {"ok": True}
    raise HTTPException(status_code=403)


@app.post("/webhook")
def webhook(signature: str = Header()) -> dict:
    # ruleid: secret-compared-with-eq
    authentic = signature == settings.webhook_secret
    # ok: secret-compared-with-eq
    safe = secrets.compare_digest(signature, settings.webhook_secret)
    # ok: secret-compared-with-eq
    if not hmac.compare_digest(signature, settings.webhook_secret):
        raise HTTPException(status_code=403)
    # ok: secret-compared-with-eq
    missing = settings.admin_token == ""
    # ok: secret-compared-with-eq
    unset = settings.webhook_secret is None
    # ruleid: secret-compared-with-eq
    if signature != os.environ["WEBHOOK_SECRET"]:
        raise HTTPException(status_code=403)
    # ruleid: secret-compared-with-eq
    legacy = signature == LEGACY_WEBHOOK_SECRET
    return {"ok": authentic and safe and not missing and not unset and not legacy}


@app.post("/signed")
async def signed(x_signature: str = Header()) -> dict:
    # ruleid: secret-compared-with-eq
    if x_signature == settings.webhook_secret.get_secret_value():
        return {"ok": True}
    expected = settings.webhook_secret
    # ruleid: secret-compared-with-eq
    if x_signature != expected:
        raise HTTPException(status_code=403)
    # ok: secret-compared-with-eq
    if not hmac.compare_digest(x_signature, expected):
        raise HTTPException(status_code=403)
    kind = "webhook"
    # ok: secret-compared-with-eq
    return {"ok": kind == "webhook"}


class TokenKind(enum.StrEnum):
    client_secret = "client_secret"


def lookup(session, token_hash: str, kind: str, client_secret: str, existing: str):
    # ok: secret-compared-with-eq
    statement = select(UserSession).where(UserSession.token == token_hash)
    # ok: secret-compared-with-eq
    if kind == TokenKind.client_secret:
        return None
    # ok: secret-compared-with-eq
    changed = client_secret != existing.client_secret
    return session.execute(statement), changed


def completion_args(words: list[str]) -> list[str]:
    incomplete = os.environ.get("COMP_CWORD", "")
    # ok: secret-compared-with-eq
    if words and words[-1] == incomplete:
        words.pop()
    return words
