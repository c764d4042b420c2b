"""What the engine knows about third-party types: canonical names, what constructors and methods
return. Used by type inference (``scanners.project.model``); detectors hold their own tables of
what blocks.
"""

from __future__ import annotations

# Different import paths of the same class -> one canonical name.
TYPE_ALIASES: dict[str, str] = {
    "requests.sessions.Session": "requests.Session",
    "requests.session": "requests.Session",
    "httpx._client.Client": "httpx.Client",
    "httpx._client.AsyncClient": "httpx.AsyncClient",
    "urllib3.poolmanager.PoolManager": "urllib3.PoolManager",
    "urllib3.connectionpool.HTTPConnectionPool": "urllib3.PoolManager",
    "urllib3.connectionpool.HTTPSConnectionPool": "urllib3.PoolManager",
    "urllib3.HTTPConnectionPool": "urllib3.PoolManager",
    "urllib3.HTTPSConnectionPool": "urllib3.PoolManager",
    "urllib3.ProxyManager": "urllib3.PoolManager",
    "http.client.HTTPSConnection": "http.client.HTTPConnection",
    "aiohttp.client.ClientSession": "aiohttp.ClientSession",
    "sqlalchemy.orm.session.Session": "sqlalchemy.orm.Session",
    "sqlmodel.Session": "sqlalchemy.orm.Session",
    "sqlmodel.orm.session.Session": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.scoping.scoped_session": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.scoped_session": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.sessionmaker": "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlmodel.ext.asyncio.session.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": (
        "sqlalchemy.ext.asyncio.async_sessionmaker"
    ),
    "sqlalchemy.ext.asyncio.engine.AsyncEngine": "sqlalchemy.ext.asyncio.AsyncEngine",
    "sqlalchemy.ext.asyncio.engine.AsyncConnection": "sqlalchemy.ext.asyncio.AsyncConnection",
    "sqlalchemy.Engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.base.Engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.Connection": "sqlalchemy.engine.Connection",
    "sqlalchemy.engine.base.Connection": "sqlalchemy.engine.Connection",
    "redis.StrictRedis": "redis.Redis",
    "redis.client.Redis": "redis.Redis",
    "redis.client.StrictRedis": "redis.Redis",
    "redis.asyncio.client.Redis": "redis.asyncio.Redis",
    "redis.asyncio.StrictRedis": "redis.asyncio.Redis",
    "pymongo.mongo_client.MongoClient": "pymongo.MongoClient",
    "pymongo.database.Database": "pymongo.Database",
    "pymongo.collection.Collection": "pymongo.Collection",
    "pathlib.PosixPath": "pathlib.Path",
    "pathlib.WindowsPath": "pathlib.Path",
    "passlib.context.CryptContext": "passlib.CryptContext",
    "pandas.core.frame.DataFrame": "pandas.DataFrame",
    "fastapi.applications.FastAPI": "fastapi.FastAPI",
    "fastapi.routing.APIRouter": "fastapi.APIRouter",
    "starlette.background.BackgroundTasks": "fastapi.BackgroundTasks",
    "fastapi.background.BackgroundTasks": "fastapi.BackgroundTasks",
    "argon2.PasswordHasher": "argon2.PasswordHasher",
}

# Calling these returns an instance of the given type.
FACTORY_RETURNS: dict[str, str] = {
    "requests.Session": "requests.Session",
    "requests.session": "requests.Session",
    "httpx.Client": "httpx.Client",
    "httpx.AsyncClient": "httpx.AsyncClient",
    "urllib3.PoolManager": "urllib3.PoolManager",
    "urllib3.connection_from_url": "urllib3.PoolManager",
    "http.client.HTTPConnection": "http.client.HTTPConnection",
    "aiohttp.ClientSession": "aiohttp.ClientSession",
    "sqlalchemy.orm.Session": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.sessionmaker": "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.ext.asyncio.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sqlalchemy.ext.asyncio.async_sessionmaker",
    "sqlalchemy.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.create_engine": "sqlalchemy.engine.Engine",
    "sqlmodel.create_engine": "sqlalchemy.engine.Engine",
    "sqlalchemy.ext.asyncio.create_async_engine": "sqlalchemy.ext.asyncio.AsyncEngine",
    "redis.Redis": "redis.Redis",
    "redis.Redis.from_url": "redis.Redis",
    "redis.from_url": "redis.Redis",
    "redis.asyncio.Redis": "redis.asyncio.Redis",
    "redis.asyncio.from_url": "redis.asyncio.Redis",
    "redis.asyncio.Redis.from_url": "redis.asyncio.Redis",
    "pymongo.MongoClient": "pymongo.MongoClient",
    "sqlite3.connect": "sqlite3.Connection",
    "psycopg2.connect": "psycopg2.connection",
    "pymysql.connect": "pymysql.Connection",
    "MySQLdb.connect": "pymysql.Connection",
    "psycopg.connect": "psycopg.Connection",
    "psycopg.Connection.connect": "psycopg.Connection",
    "subprocess.Popen": "subprocess.Popen",
    "pathlib.Path": "pathlib.Path",
    "pathlib.Path.cwd": "pathlib.Path",
    "pathlib.Path.home": "pathlib.Path",
    "anyio.Path": "anyio.Path",
    "PIL.Image.open": "PIL.Image.Image",
    "PIL.Image.new": "PIL.Image.Image",
    "PIL.Image.frombytes": "PIL.Image.Image",
    "passlib.CryptContext": "passlib.CryptContext",
    "pandas.DataFrame": "pandas.DataFrame",
    "pandas.read_csv": "pandas.DataFrame",
    "pandas.read_json": "pandas.DataFrame",
    "pandas.read_excel": "pandas.DataFrame",
    "pandas.read_parquet": "pandas.DataFrame",
    "pandas.read_sql": "pandas.DataFrame",
    "fastapi.FastAPI": "fastapi.FastAPI",
    "fastapi.APIRouter": "fastapi.APIRouter",
    "asyncio.get_running_loop": "asyncio.AbstractEventLoop",
    "asyncio.get_event_loop": "asyncio.AbstractEventLoop",
    "asyncio.new_event_loop": "asyncio.AbstractEventLoop",
    "builtins.open": "io.IOBase",
}

# (type, method) -> type of the result.
METHOD_RETURNS: dict[tuple[str, str], str] = {
    ("sqlalchemy.engine.Engine", "connect"): "sqlalchemy.engine.Connection",
    ("sqlalchemy.engine.Engine", "begin"): "sqlalchemy.engine.Connection",
    ("sqlalchemy.engine.Engine", "raw_connection"): "sqlalchemy.engine.Connection",
    ("sqlalchemy.ext.asyncio.AsyncEngine", "connect"): "sqlalchemy.ext.asyncio.AsyncConnection",
    ("sqlalchemy.ext.asyncio.AsyncEngine", "begin"): "sqlalchemy.ext.asyncio.AsyncConnection",
    # `with SessionLocal.begin() as session:` (a session with a transaction, committed on exit)
    ("sqlalchemy.orm.sessionmaker", "begin"): "sqlalchemy.orm.Session",
    ("sqlalchemy.ext.asyncio.async_sessionmaker", "begin"): "sqlalchemy.ext.asyncio.AsyncSession",
    ("sqlite3.Connection", "cursor"): "sqlite3.Cursor",
    ("sqlite3.Connection", "execute"): "sqlite3.Cursor",
    ("psycopg2.connection", "cursor"): "psycopg2.cursor",
    ("pymysql.Connection", "cursor"): "pymysql.Cursor",
    ("psycopg.Connection", "cursor"): "psycopg.Cursor",
    ("PIL.Image.Image", "resize"): "PIL.Image.Image",
    ("PIL.Image.Image", "convert"): "PIL.Image.Image",
    ("PIL.Image.Image", "rotate"): "PIL.Image.Image",
    ("PIL.Image.Image", "crop"): "PIL.Image.Image",
    ("PIL.Image.Image", "copy"): "PIL.Image.Image",
    ("PIL.Image.Image", "transpose"): "PIL.Image.Image",
    ("PIL.Image.Image", "filter"): "PIL.Image.Image",
    ("pathlib.Path", "resolve"): "pathlib.Path",
    ("pathlib.Path", "absolute"): "pathlib.Path",
    ("pathlib.Path", "with_suffix"): "pathlib.Path",
    ("pathlib.Path", "with_name"): "pathlib.Path",
    ("pathlib.Path", "joinpath"): "pathlib.Path",
    ("pathlib.Path", "expanduser"): "pathlib.Path",
    ("pathlib.Path", "parent"): "pathlib.Path",
    ("pymongo.MongoClient", "get_database"): "pymongo.Database",
    ("pymongo.MongoClient", "get_default_database"): "pymongo.Database",
    ("pymongo.Database", "get_collection"): "pymongo.Collection",
    ("requests.Session", "__enter__"): "requests.Session",
    ("passlib.CryptContext", "using"): "passlib.CryptContext",
    ("redis.Redis", "pipeline"): "redis.client.Pipeline",
}

# Calling an *instance* of these types returns another type (session factories).
INSTANCE_CALL_RETURNS: dict[str, str] = {
    "sqlalchemy.orm.sessionmaker": "sqlalchemy.orm.Session",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sqlalchemy.ext.asyncio.AsyncSession",
}

# Attribute access on an instance: (type, attribute or "*") -> type.
ATTRIBUTE_TYPES: dict[tuple[str, str], str] = {
    ("pymongo.MongoClient", "*"): "pymongo.Database",
    ("pymongo.Database", "*"): "pymongo.Collection",
    ("pathlib.Path", "parent"): "pathlib.Path",
}
# Subscript on an instance: type -> type.
SUBSCRIPT_TYPES: dict[str, str] = {
    "pymongo.MongoClient": "pymongo.Database",
    "pymongo.Database": "pymongo.Collection",
}
# Operators: (type, operator) -> type.
BINOP_TYPES: dict[tuple[str, str], str] = {
    ("pathlib.Path", "/"): "pathlib.Path",
    ("anyio.Path", "/"): "anyio.Path",
}

# Generic wrappers whose first argument is the value type: Optional[X], Annotated[X, ...], ...
TRANSPARENT_GENERICS = frozenset(
    {
        "typing.Optional",
        "typing.Annotated",
        "typing_extensions.Annotated",
        "typing.Final",
        "typing.ClassVar",
        "typing.Union",
    }
)
# Generator-like return annotations: a dependency that yields X provides X.
YIELDING_GENERICS = frozenset(
    {
        "typing.Generator",
        "typing.Iterator",
        "typing.Iterable",
        "typing.AsyncGenerator",
        "typing.AsyncIterator",
        "typing.AsyncIterable",
        "collections.abc.Generator",
        "collections.abc.Iterator",
        "collections.abc.Iterable",
        "collections.abc.AsyncGenerator",
        "collections.abc.AsyncIterator",
        "collections.abc.AsyncIterable",
        "contextlib.AbstractContextManager",
        "contextlib.AbstractAsyncContextManager",
        "typing.ContextManager",
        "typing.AsyncContextManager",
    }
)
ASYNC_CONTEXT_DECORATORS = frozenset({"contextlib.asynccontextmanager"})
SYNC_CONTEXT_DECORATORS = frozenset({"contextlib.contextmanager"})

FASTAPI_APP_TYPES = frozenset({"fastapi.FastAPI", "starlette.applications.Starlette"})
FASTAPI_ROUTER_TYPES = frozenset({"fastapi.APIRouter"})
DEPENDS_CALLEES = frozenset(
    {"fastapi.Depends", "fastapi.Security", "fastapi.params.Depends", "fastapi.params.Security"}
)


def canonical_type(dotted: str) -> str:
    return TYPE_ALIASES.get(dotted, dotted)
