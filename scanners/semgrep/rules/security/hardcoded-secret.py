import enum
import os
from dataclasses import dataclass, field

import jwt
from fastapi import FastAPI
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

app = FastAPI()

# ruleid: hardcoded-secret
URL_SIGNING_SECRET = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
# ok: hardcoded-secret
JWT_ALGORITHM = "HS256"
# ok: hardcoded-secret
SECRET_KEY = "change-me-in-production"


class Settings(BaseSettings):
    # ok: hardcoded-secret
    database_url: str = "postgresql+asyncpg://db.internal:5432/shop"
    # ruleid: hardcoded-secret
    payment_api_key: str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    # ok: hardcoded-secret
    webhook_secret: str
    # ruleid: hardcoded-secret
    weather_api_key: str = os.getenv("WEATHER_API_KEY", "b6907d289e10d714a6e88b30761fae22")
    # ok: hardcoded-secret
    admin_token: str = os.getenv("FEEDS_ADMIN_TOKEN", "")


class TokenType(enum.StrEnum):
    # ok: hardcoded-secret
    access_token = "polar_access_token"
    # ok: hardcoded-secret
    client_secret = "client_secret"


# ok: hardcoded-secret
SETUP_ACCESS_TOKEN = "setup_readiness.access_token"
# ruleid: hardcoded-secret
MINIO_PWD: str = "polarpolar"


@app.get("/cache")
async def cache_entry(city: str) -> dict:
    # ok: hardcoded-secret
    cache_key = f"weather:{city.lower()}"
    # ruleid: hardcoded-secret
    password = "hunter2hunter2"
    return {"key": cache_key, "password": password}


@app.get("/cache-sync")
def cache_entry_sync(city: str) -> dict:
    # ok: hardcoded-secret
    token_type = "bearer-token"
    return {"type": token_type}


class SigningSettings(BaseSettings):
    # ruleid: hardcoded-secret
    webhook_signing_secret: SecretStr = Field(default=SecretStr("whsec_9a8b7c6d5e4f3a2b1c0d"))
    # ruleid: hardcoded-secret
    stripe_api_key: SecretStr = SecretStr("sk_live_51HqLyjWDarjtT1zdp7dcQ9")
    # ok: hardcoded-secret
    smtp_password: SecretStr = Field(default_factory=lambda: SecretStr(os.environ["SMTP_PASSWORD"]))


@dataclass(frozen=True)
class Config:
    # ruleid: hardcoded-secret
    hmac_secret: str = field(default="f3a9c2e17b5d48e6a0c4b2d9e8f71a35")
    # ok: hardcoded-secret
    ingest_token: str = field(default_factory=lambda: os.environ.get("INGEST_TOKEN", ""))


# ruleid: hardcoded-secret
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://tickets:T1ck3tsPr0d2024@db.internal:5432/t")
# ok: hardcoded-secret
CACHE_URL = "redis://cache.internal:6379/0"
# ok: hardcoded-secret
LOCAL_DSN = "postgresql://postgres:postgres@localhost:5432/dev"
# ok: hardcoded-secret
TEMPLATE_DSN = "postgresql://app:${DB_PASSWORD}@db/app"

OAUTH = {
    "client_id": "tickets-web",
    # ruleid: hardcoded-secret
    "client_secret": "9c1f0e2d3b4a5f6e7d8c9b0a1f2e3d4c",
    # ok: hardcoded-secret
    "token_url": "https://auth.example.org/token",
}

# A mapping of the provider's field names onto ours.
PROFILE_FIELDS = {
    "username": "id",
    # ok: hardcoded-secret
    "password": "provider",
}


def issue(sub: str, key: str) -> str:
    # ruleid: hardcoded-secret
    token = jwt.encode({"sub": sub}, "Zx9!kq2#Lm7pTr4vWb8nYc3d", algorithm="HS256")
    # ok: hardcoded-secret
    return token + jwt.encode({"sub": sub}, key, algorithm="HS256")


# ruleid: hardcoded-secret
FALLBACK_API_KEY = os.getenv("FALLBACK_API_KEY") or "ak_8c2f1e9d7b3a4c5e6f"
# ok: hardcoded-secret
OPTIONAL_TOKEN = os.getenv("OPTIONAL_TOKEN") or ""
# ok: hardcoded-secret
DERIVED_TOKEN = compute_token() or "fallbacktokenvalue1"
