from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from inventory.db import Base, engine
from inventory.routers import items, reports

app = FastAPI(title="Inventory")

app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],  # planted: SEC-CORS-WILDCARD-CREDENTIALS
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

app.include_router(items.router)
app.include_router(reports.router)


@app.on_event("startup")  # planted: ASYNC-DEPRECATED-ON-EVENT
async def create_tables() -> None:
    Base.metadata.create_all(bind=engine)  # planted: ASYNC-BLOCKING-DB
