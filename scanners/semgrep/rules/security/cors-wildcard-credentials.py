from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware import Middleware

app = FastAPI()

app.add_middleware(
    CORSMiddleware,
    # ruleid: cors-wildcard-credentials
    allow_origins=["*"],
    allow_methods=["*"],
    allow_credentials=True,
)

app.add_middleware(
    CORSMiddleware,
    allow_credentials=True,
    # ruleid: cors-wildcard-credentials
    allow_origin_regex=".*",
)

# ok: cors-wildcard-credentials
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"], allow_credentials=False)

# ok: cors-wildcard-credentials
app.add_middleware(CORSMiddleware, allow_origins=["https://shop.example"], allow_credentials=True)

# ruleid: cors-wildcard-credentials
middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)]


@app.get("/ping")
# ok: cors-wildcard-credentials
async def ping() -> dict:
    return {}


@app.get("/ping-sync")
# ok: cors-wildcard-credentials
def ping_sync() -> dict:
    return {}


ALLOWED_ORIGINS = ["*"]
EXPLICIT_ORIGINS = ["https://shop.example", "https://admin.shop.example"]

app.add_middleware(
    CORSMiddleware,
    # ruleid: cors-wildcard-credentials
    allow_origins=ALLOWED_ORIGINS,
    allow_credentials=True,
)

app.add_middleware(
    CORSMiddleware,
    # ok: cors-wildcard-credentials
    allow_origins=EXPLICIT_ORIGINS,
    allow_credentials=True,
)

# ok: cors-wildcard-credentials
app.add_middleware(CORSMiddleware, allow_origins=ALLOWED_ORIGINS, allow_credentials=False)

app.add_middleware(
    CORSMiddleware,
    allow_credentials=True,
    # ruleid: cors-wildcard-credentials
    allow_origin_regex=r"https?://.*",
)

app.add_middleware(
    CORSMiddleware,
    allow_credentials=True,
    # ok: cors-wildcard-credentials
    allow_origin_regex=r"https://.*\.shop\.example",
)
