import hmac
import secrets

from fastapi import FastAPI, Header, HTTPException

app = FastAPI()


class Settings:
    admin_token = ""
    webhook_secret = ""


settings = Settings()


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
    return {"ok": authentic and safe and not missing and not unset}
