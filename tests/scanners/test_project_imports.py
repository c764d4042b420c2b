"""Module names and import resolution: absolute, relative, aliases, re-exports, star imports."""

from __future__ import annotations

from pathlib import Path

from scanners.project.discovery import module_name
from tests.scanners.project_helpers import make_project

FILES = {
    "src/shop/__init__.py": "",
    "src/shop/services/__init__.py": """
        from .rates import fetch_rates as get_rates
        from shop.services.mail import *
    """,
    "src/shop/services/rates.py": """
        import requests as rq
        from time import sleep as nap

        def fetch_rates():
            nap(1)
            return rq.get("https://rates.example.com").json()
    """,
    "src/shop/services/mail.py": """
        __all__ = ["send_mail"]

        def send_mail(to):
            return to
    """,
    "src/shop/api/__init__.py": "",
    "src/shop/api/routes.py": """
        from ..services import get_rates, send_mail
        from .. import services
        import shop.services.rates

        def handler():
            get_rates()
            send_mail("a@b.c")
            services.get_rates()
            shop.services.rates.fetch_rates()
    """,
    "src/shop/redis.py": "import redis\nclient = redis.Redis()\n",
}


def test_module_names_follow_packages_and_src_layouts() -> None:
    packages = {"src/shop", "src/shop/services"}
    assert module_name("src/shop/services/rates.py", packages) == ("shop.services.rates", False)
    assert module_name("src/shop/__init__.py", packages) == ("shop", True)
    assert module_name("tools/gen.py", packages) == ("tools.gen", False)
    assert module_name("src/cli.py", packages) == ("cli", False)


def test_imports_resolve_across_aliases_relative_imports_and_re_exports(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    handler = project.function("shop.api.routes:handler")
    assert handler is not None
    callees = [edge.callee for edge in project.edges_out[handler.fid]]
    assert callees == [
        "shop.services.rates:fetch_rates",
        "shop.services.mail:send_mail",
        "shop.services.rates:fetch_rates",
        "shop.services.rates:fetch_rates",
    ]


def test_aliased_third_party_names_resolve_to_their_real_names(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    fetch = project.function("shop.services.rates:fetch_rates")
    assert fetch is not None
    resolved = project.resolved_calls(fetch)
    # Outer calls come before the calls inside them: .json() (unknown type), then rq.get().
    assert resolved == [("ext", "time.sleep"), None, ("ext", "requests.get")]


def test_a_project_file_named_like_a_library_does_not_capture_its_import(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    body = project.function("shop.redis:<module>")
    assert body is not None
    assert project.resolved_calls(body) == [("ext", "redis.Redis")]


def test_instance_types_from_construction_annotations_and_self_attributes(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/clients.py": """
                import httpx
                from sqlalchemy.orm import Session, sessionmaker

                SessionLocal = sessionmaker()

                class Gateway:
                    client: httpx.Client

                    def __init__(self):
                        self.http = httpx.Client()

                    def ping(self):
                        self.http.get("/ping")
                        self.client.post("/x")

                def use(db: Session, gateway: "Gateway"):
                    db.commit()
                    gateway.ping()
                    with SessionLocal() as session:
                        session.execute("select 1")
            """,
        },
    )
    ping = project.function("app.clients:Gateway.ping")
    use = project.function("app.clients:use")
    assert ping is not None and use is not None
    assert project.resolved_calls(ping) == [
        ("bound", "httpx.Client", "get"),
        ("bound", "httpx.Client", "post"),
    ]
    resolved = project.resolved_calls(use)
    assert resolved[0] == ("bound", "sqlalchemy.orm.Session", "commit")
    assert resolved[1] == ("func", "app.clients:Gateway.ping")
    assert resolved[-1] == ("bound", "sqlalchemy.orm.Session", "execute")


def test_namespace_packages_without_init_files_resolve(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "backend/app/core/db.py": "def connect():\n    return 1\n",
            "backend/app/api/routes.py": """
                from app.core.db import connect
                from ..core import db

                def handler():
                    connect()
                    db.connect()
            """,
        },
    )
    assert sorted(project.modules) == ["backend.app.api.routes", "backend.app.core.db"]
    handler = project.function("backend.app.api.routes:handler")
    assert handler is not None
    assert [edge.callee for edge in project.edges_out[handler.fid]] == [
        "backend.app.core.db:connect",
        "backend.app.core.db:connect",
    ]
