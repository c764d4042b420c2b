from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

app = FastAPI()


class UserOut(BaseModel):
    # ruleid: pydantic-v1-orm-mode
    model_config = ConfigDict(orm_mode=True)
    id: int


class UserOutV2(BaseModel):
    # ok: pydantic-v1-orm-mode
    model_config = ConfigDict(from_attributes=True)
    id: int


@app.get("/users")
# ok: pydantic-v1-orm-mode
async def users() -> list[UserOut]:
    return []


@app.get("/users-sync")
# ok: pydantic-v1-orm-mode
def users_sync() -> list[UserOut]:
    return []
