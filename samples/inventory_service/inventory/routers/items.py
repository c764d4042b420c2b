import time

import requests
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.orm import Session

from inventory.db import Item, get_db
from inventory.schemas import ItemIn, ItemOut, RestockRequest
from inventory.services import pricing, stock

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/{sku}", response_model=ItemOut)
async def get_item(sku: str, currency: str = "EUR", db: Session = Depends(get_db)) -> ItemOut:
    item = stock.find_by_sku(db, sku)
    if item is None:
        raise HTTPException(status_code=404, detail="unknown sku")
    out = ItemOut.model_validate(item)
    out.price = pricing.convert(float(item.price), currency)
    return out


@router.post("", response_model=ItemOut, status_code=201)
async def create_item(payload: ItemIn, db: Session = Depends(get_db)) -> ItemOut:
    item = Item(sku=payload.sku, name=payload.name, price=payload.price, quantity=payload.quantity)
    db.add(item)
    db.commit()  # planted: ASYNC-BLOCKING-DB
    note = payload.supplier_note.strip()  # planted: PYD-LOOSE-OPTIONAL (used without a None check)
    if note:
        item.name = f"{item.name} ({note})"
    return ItemOut.model_validate(item)


@router.post("/{sku}/restock", response_model=ItemOut)
async def restock(sku: str, request: RestockRequest, db: Session = Depends(get_db)) -> ItemOut:
    item = stock.find_by_sku(db, sku)
    if item is None:
        raise HTTPException(status_code=404, detail="unknown sku")
    time.sleep(0.2)  # planted: ASYNC-BLOCKING-SLEEP (waits for the warehouse to settle)
    item = stock.add_stock(db, item, request.quantity)
    stock.notify_warehouse(sku, request.quantity)  # planted: ASYNC-MISSING-AWAIT
    return ItemOut.model_validate(item)


@router.get("/{sku}/supplier-price", response_model=ItemOut)
def supplier_price(sku: str, db: Session = Depends(get_db)) -> ItemOut:
    # A def route runs in FastAPI's threadpool: blocking calls here do not stall the event loop.
    item = stock.find_by_sku(db, sku)  # not a finding: def route
    if item is None:
        raise HTTPException(status_code=404, detail="unknown sku")
    time.sleep(0.05)  # not a finding: def route
    quote = requests.get(f"https://suppliers.example.com/quote/{sku}", timeout=5)  # not a finding
    out = ItemOut.model_validate(item)
    out.price = float(quote.json()["price"])
    return out
