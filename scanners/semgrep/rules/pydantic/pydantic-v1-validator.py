from fastapi import FastAPI
from pydantic import BaseModel, field_validator, root_validator, validator

app = FastAPI()


class ProductIn(BaseModel):
    category: str
    price: int

    # ruleid: pydantic-v1-validator
    @validator("category")
    def known_category(cls, value: str) -> str:
        return value

    # ruleid: pydantic-v1-validator
    @root_validator(pre=True)
    def fill_defaults(cls, values: dict) -> dict:
        return values

    @classmethod
    # ruleid: pydantic-v1-validator
    @root_validator
    def check(cls, values: dict) -> dict:
        return values

    # ok: pydantic-v1-validator
    @field_validator("price")
    @classmethod
    def positive(cls, value: int) -> int:
        return value


@app.post("/products")
# ok: pydantic-v1-validator
async def create_product(product: ProductIn) -> ProductIn:
    return product


@app.post("/products-sync")
# ok: pydantic-v1-validator
def create_product_sync(product: ProductIn) -> ProductIn:
    return product
