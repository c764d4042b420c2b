"""Stock bookkeeping on the synchronous SQLAlchemy session."""

import httpx
from sqlalchemy.orm import Session

from inventory.config import WAREHOUSE_URL
from inventory.db import Item, Warehouse


def find_by_sku(db: Session, sku: str) -> Item | None:
    return db.query(Item).filter(Item.sku == sku).first()  # planted: ASYNC-BLOCKING-DB (from async routes)


def add_stock(db: Session, item: Item, quantity: int) -> Item:
    item.quantity += quantity
    db.commit()  # planted: ASYNC-BLOCKING-DB (from the async restock route)
    db.refresh(item)
    return item


def stock_by_warehouse(db: Session) -> dict[str, int]:
    totals: dict[str, int] = {}
    for warehouse in db.query(Warehouse).all():  # planted: ASYNC-BLOCKING-DB (from stock_report)
        totals[warehouse.code] = sum(item.quantity for item in warehouse.items)  # planted: DB-N-PLUS-ONE
    return totals


async def notify_warehouse(sku: str, quantity: int) -> None:
    async with httpx.AsyncClient(timeout=5) as client:  # planted: ASYNC-CLIENT-LIFECYCLE (per call)
        await client.post(f"{WAREHOUSE_URL}/restocked", json={"sku": sku, "quantity": quantity})
