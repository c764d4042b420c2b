"""Event-loop reachability: which functions run on the loop, witness paths, routes reaching a
function, and every kind of hand-off that takes code off the loop."""

from __future__ import annotations

from pathlib import Path

from scanners.project import is_offloop_path
from tests.scanners.project_helpers import make_project

FILES = {
    "svc/__init__.py": "",
    "svc/helpers.py": """
        import time

        def leaf():
            time.sleep(1)

        def middle():
            leaf()

        def in_thread():
            time.sleep(1)

        def in_executor(x, y=1):
            time.sleep(1)

        def in_threadpool():
            time.sleep(1)

        def in_anyio():
            time.sleep(1)

        def in_background():
            time.sleep(1)

        def thread_target():
            time.sleep(1)

        def from_def_route():
            time.sleep(1)

        def at_import():
            return 1

        VALUE = at_import()
    """,
    "svc/routes.py": """
        import asyncio
        import functools
        import threading

        import anyio
        from fastapi import APIRouter, BackgroundTasks
        from starlette.concurrency import run_in_threadpool

        from svc import helpers

        router = APIRouter(prefix="/r")

        @router.get("/a")
        async def route_a(tasks: BackgroundTasks):
            helpers.middle()
            await asyncio.to_thread(helpers.in_thread)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, functools.partial(helpers.in_executor, 1, y=2))
            await run_in_threadpool(helpers.in_threadpool)
            await anyio.to_thread.run_sync(helpers.in_anyio)
            tasks.add_task(helpers.in_background)
            threading.Thread(target=helpers.thread_target).start()

        @router.get("/b")
        async def route_b():
            helpers.middle()

        @router.get("/c")
        def route_c():
            helpers.from_def_route()
    """,
    "scripts/job.py": """
        from svc import helpers

        async def main():
            helpers.from_def_route()
    """,
}


def test_sync_helpers_called_from_async_routes_are_on_the_loop(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    assert project.on_loop("svc.routes:route_a")
    assert project.on_loop("svc.helpers:middle")
    assert project.on_loop("svc.helpers:leaf")
    assert [r.label for r in project.routes_reaching("svc.helpers:leaf")] == [
        "GET /r/a",
        "GET /r/b",
    ]


def test_hand_offs_def_routes_scripts_and_import_time_code_are_off_the_loop(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    for name in (
        "in_thread",
        "in_executor",
        "in_threadpool",
        "in_anyio",
        "in_background",
        "thread_target",
        "from_def_route",
        "at_import",
    ):
        assert not project.on_loop(f"svc.helpers:{name}"), name
    assert not project.on_loop("svc.routes:route_c")
    handoffs = sorted((h.kind, h.target) for h in project.fastapi.handoffs)
    assert handoffs == [
        ("background_task", "svc.helpers:in_background"),
        ("run_in_executor", "svc.helpers:in_executor"),
        ("run_in_threadpool", "svc.helpers:in_threadpool"),
        ("thread", "svc.helpers:thread_target"),
        ("to_thread", "svc.helpers:in_anyio"),
        ("to_thread", "svc.helpers:in_thread"),
    ]


def test_witness_path_runs_from_the_route_through_each_call(tmp_path: Path) -> None:
    project = make_project(tmp_path, FILES)
    steps = project.witness("svc.helpers:leaf")
    assert [(s.function, s.line, s.note) for s in steps] == [
        ("svc.routes.route_a", 15, "GET /r/a"),
        ("svc.helpers.middle", 7, "calls middle()"),
        ("svc.helpers.leaf", 3, "calls leaf()"),
    ]
    assert steps[0].path == "svc/routes.py"


def test_awaited_decorated_sync_functions_and_super_calls(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/work.py": """
                import time
                from asgiref.sync import sync_to_async

                @sync_to_async
                def offloaded():
                    time.sleep(1)

                class Base:
                    def save(self):
                        time.sleep(1)

                class Child(Base):
                    def save(self):
                        super().save()

                async def run():
                    await offloaded()
                    Child().save()
            """,
        },
    )
    assert not project.on_loop("svc.work:offloaded")
    assert project.on_loop("svc.work:Child.save")
    assert project.on_loop("svc.work:Base.save")


def test_a_stand_alone_script_with_a_main_guard_is_off_the_loop(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "reprocess.py": """
                import asyncio

                async def main():
                    pass

                if __name__ == "__main__":
                    asyncio.run(main())
            """,
            "app/__init__.py": "",
            "app/jobs.py": """
                async def run():
                    pass

                if __name__ == "__main__":
                    pass
            """,
            "app/main.py": "from app.jobs import run\n",
        },
    )
    assert not project.on_loop("reprocess:main")
    assert project.on_loop("app.jobs:run")


def test_partial_objects_called_later_are_call_edges(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/jobs.py": """
                import functools
                import time

                def pause(seconds):
                    time.sleep(seconds)

                async def handler():
                    later = functools.partial(pause, 1)
                    later()
            """,
        },
    )
    assert project.on_loop("svc.jobs:pause")
    assert project.witness("svc.jobs:pause")[-1].note == "calls pause()"


def test_offloop_paths_are_tests_scripts_migrations_and_cli_entry_points() -> None:
    for path in (
        "tests/test_api.py",
        "app/test_models.py",
        "scripts/backfill.py",
        "alembic/versions/0001_init.py",
        "backend/cli.py",
        "app/__main__.py",
        "app/management/commands/seed.py",
        "conftest.py",
    ):
        assert is_offloop_path(path), path
    for path in ("app/tasks.py", "app/tools/search.py", "app/services/scripts_util.py"):
        assert not is_offloop_path(path), path
