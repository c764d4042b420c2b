import json
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from inventory.config import REPORTS_DIR
from inventory.db import get_db
from inventory.services import stock

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/stock")
async def stock_report(db: Session = Depends(get_db)):  # planted: API-MISSING-RESPONSE-MODEL
    return stock.stock_by_warehouse(db)


@router.get("/saved/{name}")
async def saved_report(name: str) -> dict[str, object]:
    with open(Path(REPORTS_DIR) / f"{name}.json") as handle:  # planted: ASYNC-BLOCKING-FILE
        return json.load(handle)


@router.post("/filters")
async def save_filters(request: Request) -> dict[str, str]:
    filters = await request.json()  # planted: API-UNTYPED-ENDPOINT
    return {"saved": ",".join(sorted(filters))}
