from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class ItemIn(BaseModel):
    sku: str = Field(max_length=64, pattern=r"^[A-Z0-9-]+$")
    name: str  # planted: PYD-UNCONSTRAINED-STR
    price: float = Field(gt=0)
    quantity: int = Field(ge=0)
    attributes: dict  # planted: PYD-ANY-FIELD
    supplier_note: Optional[str] = None  # planted: PYD-LOOSE-OPTIONAL


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    price: float
    quantity: int


class RestockRequest(BaseModel):
    quantity: int = Field(gt=0, le=10_000)
    payload: Any  # planted: PYD-ANY-FIELD
