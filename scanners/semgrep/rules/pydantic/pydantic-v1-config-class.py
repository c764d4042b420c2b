from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from pydantic.v1 import BaseModel as V1BaseModel

app = FastAPI()


class NoteOut(BaseModel):
    id: int
    title: str

    # ruleid: pydantic-v1-config-class
    class Config:
        orm_mode = True


class NoteIn(BaseModel):
    # ok: pydantic-v1-config-class
    model_config = ConfigDict(str_strip_whitespace=True)
    title: str


# ok: pydantic-v1-config-class
class Config:
    debug = False


# A settings class that is itself named Config is not a nested v1 configuration.
# ok: pydantic-v1-config-class
class Config(BaseModel):
    debug: bool = False

    # ruleid: pydantic-v1-config-class
    class Config:
        extra = "forbid"


class LegacyPayload(V1BaseModel):
    title: str

    # ok: pydantic-v1-config-class
    class Config:
        anystr_strip_whitespace = True


@app.get("/notes")
async def list_notes() -> list[NoteOut]:
    # ok: pydantic-v1-config-class
    return []


@app.get("/notes-sync")
def list_notes_sync() -> list[NoteOut]:
    # ok: pydantic-v1-config-class
    return []
