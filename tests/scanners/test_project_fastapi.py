"""Route discovery with router prefixes, add_api_route, dependencies, lifespan and on_event."""

from __future__ import annotations

from pathlib import Path

from tests.scanners.project_helpers import make_project

FILES = {
    "app/__init__.py": "",
    "app/deps.py": """
        from typing import Annotated
        from fastapi import Depends

        def get_db():
            yield "db"

        async def current_user(db=Depends(get_db)):
            return "user"

        async def verify_token():
            return True

        User = Annotated[str, Depends(current_user)]
    """,
    "app/routing.py": """
        from fastapi import APIRouter as _Base

        class APIRouter(_Base):
            pass
    """,
    "app/items.py": """
        from fastapi import APIRouter, Depends
        from app.deps import User, get_db, verify_token

        router = APIRouter(prefix="/items", dependencies=[Depends(verify_token)])

        @router.get("/{item_id}")
        async def read_item(item_id: int, user: User):
            return {}

        @router.api_route("/bulk", methods=["PUT", "PATCH"])
        def bulk(db=Depends(get_db)):
            return {}

        async def legacy():
            return {}

        router.add_api_route("/legacy", legacy, methods=["DELETE"])
    """,
    "app/admin.py": """
        from app.routing import APIRouter

        router = APIRouter(prefix="/admin")

        @router.websocket("/ws")
        async def admin_socket(ws):
            pass
    """,
    "app/main.py": """
        from contextlib import asynccontextmanager
        from fastapi import APIRouter, FastAPI
        from app import admin, items

        @asynccontextmanager
        async def lifespan(app):
            yield

        def create_app():
            app = FastAPI(lifespan=lifespan)
            api = APIRouter(prefix="/api")
            api.include_router(items.router, prefix="/v1")
            api.include_router(admin.router)
            app.include_router(api)

            @app.on_event("startup")
            async def started():
                pass

            return app
    """,
}


def test_routes_get_every_router_prefix_and_method(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    labels = sorted((route.label, route.handler) for route in project.routes)
    assert labels == [
        ("DELETE /api/v1/items/legacy", "app.items:legacy"),
        ("GET /api/v1/items/{item_id}", "app.items:read_item"),
        ("PATCH /api/v1/items/bulk", "app.items:bulk"),
        ("PUT /api/v1/items/bulk", "app.items:bulk"),
        ("WEBSOCKET /api/admin/ws", "app.admin:admin_socket"),
    ]


def test_dependencies_from_params_annotated_aliases_and_routers(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    read_item = next(r for r in project.routes if r.handler == "app.items:read_item")
    assert read_item.dependencies == ("app.deps:verify_token",)
    assert project.fastapi.depends_of["app.items:read_item"] == ["app.deps:current_user"]
    assert project.fastapi.depends_of["app.deps:current_user"] == ["app.deps:get_db"]
    assert project.is_dependency("app.deps:get_db")
    assert not project.is_dependency("app.items:legacy")


def test_lifespan_and_deprecated_event_handlers(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    events = sorted((e.kind, e.target, e.registration) for e in project.fastapi.events)
    assert events == [
        ("lifespan", "app.main:lifespan", "lifespan"),
        ("startup", "app.main:create_app.started", "on_event"),
    ]
