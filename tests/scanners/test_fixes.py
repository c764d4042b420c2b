"""Generated fixes: unit tests per fixer, and apply-and-rescan on the public corpus."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from scanners import scan
from scanners.catalog import Severity
from scanners.findings import Finding, ScanOptions
from scanners.fixes import attach_fixes, fix_text
from scanners.fixes.edits import unified_diff

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "eval-public"
SERVICES = ("shop_api", "notes_api", "feeds_api", "media_api")


def _finding(category: str, line: int, path: str = "app.py", **properties: str) -> Finding:
    return Finding(
        rule_id="test",
        category=category,
        severity=Severity.MEDIUM,
        title="",
        message="",
        path=path,
        start_line=line,
        properties=dict(properties),
    )


def _fix(category: str, source: str, line: int, **properties: str) -> str | None:
    return fix_text(_finding(category, line, **properties), textwrap.dedent(source))


def _line_of(source: str, needle: str) -> int:
    lines = textwrap.dedent(source).splitlines()
    return next(number for number, text in enumerate(lines, 1) if needle in text)


# --- ASYNC-BLOCKING-SLEEP ------------------------------------------------------------------

SLEEPY = """\
    \"\"\"Polling.\"\"\"

    import time
    from time import sleep as nap


    async def poll() -> None:
        time.sleep(0.5)
        nap(1)


    def helper() -> None:
        time.sleep(0.5)
"""


def test_sleep_in_async_def_becomes_await_asyncio_sleep_with_import() -> None:
    fixed = _fix("ASYNC-BLOCKING-SLEEP", SLEEPY, _line_of(SLEEPY, "time.sleep(0.5)"))
    assert fixed == textwrap.dedent(SLEEPY).replace(
        "import time\n", "import asyncio\nimport time\n"
    ).replace("    time.sleep(0.5)\n    nap", "    await asyncio.sleep(0.5)\n    nap")


def test_sleep_imported_by_name_and_existing_asyncio_alias() -> None:
    source = SLEEPY.replace("import time\n", "import asyncio as aio\n    import time\n")
    fixed = _fix("ASYNC-BLOCKING-SLEEP", source, _line_of(source, "nap(1)"))
    assert fixed is not None
    assert "    await aio.sleep(1)\n" in fixed
    assert "import asyncio\n" not in fixed


def test_time_import_goes_with_its_last_use() -> None:
    source = """\
        import logging
        import time


        async def poll() -> None:
            time.sleep(1)
    """
    fixed = _fix("ASYNC-BLOCKING-SLEEP", source, 6)
    assert fixed == textwrap.dedent(source).replace("import time\n", "").replace(
        "import logging\n", "import asyncio\nimport logging\n"
    ).replace("time.sleep(1)", "await asyncio.sleep(1)")
    from_import = source.replace("import time", "from time import monotonic, sleep")
    fixed = _fix("ASYNC-BLOCKING-SLEEP", from_import.replace("time.sleep", "sleep"), 6)
    assert fixed is not None
    assert "from time import monotonic\n" in fixed
    assert "    await asyncio.sleep(1)\n" in fixed


def test_sleep_in_sync_helper_or_nested_expression_is_not_fixed() -> None:
    assert _fix("ASYNC-BLOCKING-SLEEP", SLEEPY, _line_of(SLEEPY, "def helper") + 1) is None
    nested = """\
        import time


        async def poll() -> int:
            return time.sleep(1) or 2
    """
    assert _fix("ASYNC-BLOCKING-SLEEP", nested, 5) is None


# --- ASYNC-DEPRECATED-ON-EVENT -------------------------------------------------------------

ON_EVENT = """\
    from fastapi import FastAPI

    from db import engine, redis

    app = FastAPI(title="x")


    @app.on_event("startup")
    def configure() -> None:
        print("up")


    @app.on_event("shutdown")
    async def close_redis() -> None:
        await redis.aclose()


    app.add_event_handler("shutdown", engine.dispose)
"""

ON_EVENT_FIXED = """\
    import inspect
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from db import engine, redis


    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure()
        yield
        await close_redis()
        result = engine.dispose()
        if inspect.isawaitable(result):
            await result


    app = FastAPI(title="x", lifespan=lifespan)


    def configure() -> None:
        print("up")


    async def close_redis() -> None:
        await redis.aclose()
"""


def test_on_event_handlers_move_into_a_lifespan() -> None:
    for needle in ('on_event("startup")', "add_event_handler"):
        fixed = _fix("ASYNC-DEPRECATED-ON-EVENT", ON_EVENT, _line_of(ON_EVENT, needle))
        assert fixed == textwrap.dedent(ON_EVENT_FIXED)


def test_on_event_is_skipped_when_the_app_is_elsewhere_or_has_a_lifespan() -> None:
    router_only = """\
        from fastapi import APIRouter

        router = APIRouter()


        @router.on_event("startup")
        async def warm() -> None:
            pass
    """
    assert _fix("ASYNC-DEPRECATED-ON-EVENT", router_only, 6) is None
    imported_app = """\
        from main import app


        @app.on_event("startup")
        async def warm() -> None:
            pass
    """
    assert _fix("ASYNC-DEPRECATED-ON-EVENT", imported_app, 4) is None
    with_lifespan = ON_EVENT.replace('FastAPI(title="x")', "FastAPI(lifespan=other)")
    assert _fix("ASYNC-DEPRECATED-ON-EVENT", with_lifespan, 8) is None


# --- plumbing ------------------------------------------------------------------------------


def test_unified_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff("a.py", "x = 1", "x = 2")
    assert diff.splitlines() == [
        "--- a/a.py",
        "+++ b/a.py",
        "@@ -1 +1 @@",
        "-x = 1",
        "\\ No newline at end of file",
        "+x = 2",
        "\\ No newline at end of file",
    ]


def test_attach_fixes_reads_the_file_and_skips_unknown_categories(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(SLEEPY), encoding="utf-8")
    sleep = _finding("ASYNC-BLOCKING-SLEEP", _line_of(SLEEPY, "time.sleep(0.5)"))
    other = _finding("DB-SQL-INJECTION", 1)
    missing = _finding("ASYNC-BLOCKING-SLEEP", 3, path="gone.py")
    assert attach_fixes([sleep, other, missing], tmp_path) == 1
    assert sleep.suggested_fix.startswith("--- a/app.py\n+++ b/app.py\n")
    assert other.suggested_fix == missing.suggested_fix == ""


# --- apply and rescan on the public corpus -------------------------------------------------


def _counts(findings: list[Finding]) -> Counter[tuple[str, str]]:
    return Counter((f.path, f.category) for f in findings)


def _touched(diff: str) -> set[str]:
    return {line[6:] for line in diff.splitlines() if line.startswith("+++ b/")}


def _apply(root: Path, diff: str) -> None:
    for args in (["git", "apply", "--check", "-"], ["git", "apply", "-"]):
        done = subprocess.run(
            args, check=False, cwd=root, input=diff, text=True, capture_output=True
        )
        assert done.returncode == 0, f"{' '.join(args)} failed: {done.stderr}\n{diff}"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="public corpus not available")
@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_every_generated_fix_applies_compiles_and_removes_its_finding(tmp_path: Path) -> None:
    options = ScanOptions(semgrep=False, jobs=1)
    applied: Counter[str] = Counter()
    for service in SERVICES:
        root = tmp_path / service
        shutil.copytree(CORPUS / service, root)
        findings = scan(root, options).findings
        for _round in range(10):
            # Fixes touching disjoint files per round: every diff is made against the files as
            # scanned.
            per_file: dict[str, Finding] = {}
            touched: set[str] = set()
            for finding in findings:
                paths = _touched(finding.suggested_fix)
                if paths and not paths & touched:
                    per_file[finding.path] = finding
                    touched |= paths
            if not per_file:
                break
            before = _counts(findings)
            for finding in per_file.values():
                _apply(root, finding.suggested_fix)
                applied[finding.category] += 1
            for path in touched:
                compile((root / path).read_text(encoding="utf-8"), path, "exec")
            findings = scan(root, options).findings
            after = _counts(findings)
            for path, finding in per_file.items():
                key = (path, finding.category)
                assert after[key] < before[key], f"fix did not remove {finding.category} at {path}"
        else:
            pytest.fail(f"{service}: fixes keep coming after 10 rounds")
    assert applied["ASYNC-BLOCKING-SLEEP"] >= 3
    assert applied["ASYNC-DEPRECATED-ON-EVENT"] >= 2
    assert applied["PYD-V1-API"] >= 4
    assert applied["PYD-UNCONSTRAINED-STR"] >= 4
    assert applied["PYD-ANY-FIELD"] >= 5
    assert applied["API-RESPONSE-LEAK"] >= 2


# --- PYD-V1-API -----------------------------------------------------------------------------

V1_MODELS = """\
    from typing import Any

    from pydantic import BaseModel, root_validator, validator


    class UserIn(BaseModel):
        name: str
        email: str

        class Config:
            orm_mode = True
            allow_mutation = False
            anystr_strip_whitespace = True

        @validator("name", pre=True, allow_reuse=True)
        def strip_name(cls, value: str, values: dict[str, Any]) -> str:
            return value.strip() or values["email"]

        @root_validator
        def check(cls, values: dict[str, Any]) -> dict[str, Any]:
            return values


    def dump(user: UserIn, raw: dict[str, Any]) -> str:
        copy = UserIn.parse_obj(raw).copy(update={"name": "x"})
        return user.json() + str(copy.dict(exclude={"email"})) + str(UserIn.from_orm(raw))
"""


def _v1(needle: str, col: int = 1, end_col: int = 0) -> str | None:
    finding = _finding("PYD-V1-API", _line_of(V1_MODELS, needle))
    finding.start_col, finding.end_col = col, end_col
    return fix_text(finding, textwrap.dedent(V1_MODELS))


def test_v1_config_class_becomes_model_config() -> None:
    fixed = _v1("orm_mode")
    assert fixed is not None
    assert (
        "    model_config = ConfigDict(from_attributes=True, frozen=True, "
        "str_strip_whitespace=True)\n\n    @validator"
    ) in fixed
    assert "class Config" not in fixed
    assert "from pydantic import BaseModel, ConfigDict, root_validator, validator\n" in fixed
    assert _v1("class Config:") == fixed


def test_v1_validator_becomes_field_validator_classmethod_with_info() -> None:
    fixed = _v1('@validator("name"')
    assert fixed is not None
    assert (
        '    @field_validator("name", mode="before")\n'
        "    @classmethod\n"
        "    def strip_name(cls, value: str, info: ValidationInfo) -> str:\n"
        '        return value.strip() or info.data["email"]\n'
    ) in fixed
    # `validator` had no other use: its import goes.
    assert (
        "from pydantic import BaseModel, ValidationInfo, field_validator, root_validator\n"
    ) in fixed


def test_v1_root_validator_becomes_model_validator_before() -> None:
    fixed = _v1("@root_validator")
    assert fixed is not None
    assert '    @model_validator(mode="before")\n    @classmethod\n    def check(' in fixed
    assert "from pydantic import BaseModel, model_validator, validator\n" in fixed


def test_v1_methods_are_renamed_at_the_finding_column() -> None:
    line = "copy = UserIn.parse_obj"
    text = next(t for t in textwrap.dedent(V1_MODELS).splitlines() if line in t)
    start = text.index("UserIn") + 1
    parse_obj_end = text.index(".copy(") + 1
    parse_obj = _v1(line, col=start, end_col=parse_obj_end)
    assert parse_obj is not None
    assert 'copy = UserIn.model_validate(raw).copy(update={"name": "x"})' in parse_obj
    copy = _v1(line, col=start, end_col=len(text) + 1)
    assert copy is not None
    assert 'copy = UserIn.parse_obj(raw).model_copy(update={"name": "x"})' in copy
    # Chained calls and no end column to tell them apart: no guess.
    assert _v1(line, col=start) is None
    return_line = next(t for t in textwrap.dedent(V1_MODELS).splitlines() if "user.json()" in t)
    dict_call = _v1("user.json()", col=return_line.index("copy.dict") + 1)
    assert dict_call is not None
    assert 'user.json() + str(copy.model_dump(exclude={"email"}))' in dict_call


def test_settings_config_class_becomes_settings_config_dict() -> None:
    source = """\
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            class Config:
                env_file = ".env"
    """
    fixed = _fix("PYD-V1-API", source, 5)
    assert fixed == textwrap.dedent(source).replace(
        "from pydantic_settings import BaseSettings",
        "from pydantic_settings import BaseSettings, SettingsConfigDict",
    ).replace(
        '    class Config:\n        env_file = ".env"',
        '    model_config = SettingsConfigDict(env_file=".env")',
    )
    v1_settings = source.replace("pydantic_settings", "pydantic")
    assert _fix("PYD-V1-API", v1_settings, 5) is None


def test_v1_keys_in_a_v2_config_are_renamed() -> None:
    source = """\
        from pydantic import BaseModel, ConfigDict


        class A(BaseModel):
            model_config = ConfigDict(orm_mode=True, extra="forbid")


        class B(BaseModel):
            model_config = {"orm_mode": True, 'allow_population_by_field_name': True}
    """
    first = _fix("PYD-V1-API", source, 5)
    assert first is not None
    assert '    model_config = ConfigDict(from_attributes=True, extra="forbid")\n' in first
    second = _fix("PYD-V1-API", source, 9)
    assert second is not None
    assert """    model_config = {"from_attributes": True, 'populate_by_name': True}\n""" in second


def test_v1_methods_on_a_line_with_one_call_each() -> None:
    source = """\
        def dump(user, raw, Model):
            a = user.dict(exclude={"email"})
            b = user.json()
            c = Model.parse_raw(raw)
            d = Model.from_orm(raw)
            e = user.copy(include={"a"})
            return a, b, c, d, e
    """
    expected = {
        2: 'a = user.model_dump(exclude={"email"})',
        3: "b = user.model_dump_json()",
        4: "c = Model.model_validate_json(raw)",
        5: "d = Model.model_validate(raw, from_attributes=True)",
    }
    for line, text in expected.items():
        fixed = _fix("PYD-V1-API", source, line)
        assert fixed is not None
        assert fixed.splitlines()[line - 1].strip() == text
    # model_copy has no include/exclude.
    assert _fix("PYD-V1-API", source, 6) is None


def test_v1_method_after_a_multiline_constructor_is_fixed_from_the_first_line() -> None:
    source = """\
        def metadata(Model):
            return Model(
                kind="case",
            ).json()
    """
    fixed = _fix("PYD-V1-API", source, 2)
    assert fixed is not None
    assert fixed.splitlines()[3] == "    ).model_dump_json()"


# --- PYD-UNCONSTRAINED-STR / PYD-ANY-FIELD --------------------------------------------------

FIELDS = """\
    from typing import Any, Optional

    from pydantic import BaseModel


    class NoteIn(BaseModel):
        title: str = ""
        data: Any
        note: Optional[str] = None
"""
LENGTH_255 = "Annotated[str, Field(min_length=1, max_length=255)]"


def test_field_annotation_becomes_the_suggested_type_with_imports() -> None:
    fixed = _fix("PYD-UNCONSTRAINED-STR", FIELDS, 7, suggested_type=LENGTH_255)
    assert fixed == textwrap.dedent(FIELDS).replace(
        "from typing import Any, Optional", "from typing import Annotated, Any, Optional"
    ).replace("from pydantic import BaseModel", "from pydantic import BaseModel, Field").replace(
        'title: str = ""', f'title: {LENGTH_255} = ""'
    )
    any_fixed = _fix("PYD-ANY-FIELD", FIELDS, 8, suggested_type="dict[str, str]")
    # `Any` had no other use: it leaves the typing import.
    assert any_fixed == textwrap.dedent(FIELDS).replace(
        "data: Any", "data: dict[str, str]"
    ).replace("from typing import Any, Optional", "from typing import Optional")


def test_field_fix_needs_a_usable_suggested_type() -> None:
    assert _fix("PYD-UNCONSTRAINED-STR", FIELDS, 7) is None
    assert _fix("PYD-UNCONSTRAINED-STR", FIELDS, 7, suggested_type="Annotated[str,") is None
    assert _fix("PYD-UNCONSTRAINED-STR", FIELDS, 7, suggested_type="Mystery[str]") is None
    # Optional field and a suggestion that drops the None.
    assert _fix("PYD-UNCONSTRAINED-STR", FIELDS, 9, suggested_type=LENGTH_255) is None
    optional = _fix("PYD-UNCONSTRAINED-STR", FIELDS, 9, suggested_type=f"Optional[{LENGTH_255}]")
    assert optional is not None
    assert f"note: Optional[{LENGTH_255}] = None" in optional


# --- API-RESPONSE-LEAK ----------------------------------------------------------------------

LEAKY = """\
    from fastapi import FastAPI
    from pydantic import BaseModel, ConfigDict

    app = FastAPI()


    class User(BaseModel):
        \"\"\"A user.\"\"\"

        model_config = ConfigDict(from_attributes=True)

        id: int
        email: str
        hashed_password: str
        api_key: str


    @app.get("/users/{user_id}", response_model=User)
    async def read_user(user_id: int) -> User:
        return await load(user_id)


    @app.get("/users", response_model=list[User])
    async def list_users() -> list[User]:
        return []
"""

LEAKY_FIXED = """\
    from fastapi import FastAPI
    from pydantic import BaseModel, ConfigDict

    app = FastAPI()


    class User(BaseModel):
        \"\"\"A user.\"\"\"

        model_config = ConfigDict(from_attributes=True)

        id: int
        email: str
        hashed_password: str
        api_key: str


    class UserOut(BaseModel):
        \"\"\"A user.\"\"\"

        model_config = ConfigDict(from_attributes=True)

        id: int
        email: str


    @app.get("/users/{user_id}", response_model=UserOut)
    async def read_user(user_id: int) -> User:
        return await load(user_id)


    @app.get("/users", response_model=list[UserOut])
    async def list_users() -> list[User]:
        return []
"""


def test_response_leak_gets_an_out_model_and_the_routes_use_it() -> None:
    line = _line_of(LEAKY, "hashed_password")
    fixed = _fix("API-RESPONSE-LEAK", LEAKY, line, response_model="User", field="hashed_password")
    assert fixed == textwrap.dedent(LEAKY_FIXED)


def test_response_leak_without_same_file_route_or_model_is_not_fixed() -> None:
    line = _line_of(LEAKY, "hashed_password")
    no_routes = LEAKY.split("    @app.get", maxsplit=1)[0]
    assert _fix("API-RESPONSE-LEAK", no_routes, line, response_model="User") is None
    # The response model is a subclass defined elsewhere: the field is inherited.
    assert _fix("API-RESPONSE-LEAK", LEAKY, line, response_model="AdminUser") is None
    # ORM object returned without a response model: no properties to build a model from.
    assert _fix("API-RESPONSE-LEAK", LEAKY, _line_of(LEAKY, "return await")) is None


def test_on_event_in_an_app_factory_gets_a_nested_lifespan() -> None:
    source = '''\
        """App factory."""

        from __future__ import annotations

        import fastapi


        def create_app() -> fastapi.FastAPI:
            application = fastapi.FastAPI(
                title="x",
            )

            @application.on_event("startup")
            async def startup() -> None:
                pass

            application.add_event_handler("shutdown", close)
            return application
    '''
    expected = '''\
        """App factory."""

        from __future__ import annotations

        import inspect
        from collections.abc import AsyncIterator
        from contextlib import asynccontextmanager

        import fastapi


        def create_app() -> fastapi.FastAPI:
            @asynccontextmanager
            async def lifespan(app: fastapi.FastAPI) -> AsyncIterator[None]:
                await startup()
                yield
                result = close()
                if inspect.isawaitable(result):
                    await result

            application = fastapi.FastAPI(
                title="x",
                lifespan=lifespan,
            )

            async def startup() -> None:
                pass

            return application
    '''
    fixed = _fix("ASYNC-DEPRECATED-ON-EVENT", source, _line_of(source, "on_event"))
    assert fixed == textwrap.dedent(expected)


def test_on_event_is_skipped_when_another_file_registers_handlers() -> None:
    line = _line_of(ON_EVENT, 'on_event("startup")')
    here = _finding("ASYNC-DEPRECATED-ON-EVENT", line)
    elsewhere = _finding("ASYNC-DEPRECATED-ON-EVENT", 3, path="routers/items.py")
    source = textwrap.dedent(ON_EVENT)
    assert fix_text(here, source, everywhere=[here, elsewhere]) is None
    assert fix_text(here, source, everywhere=[here]) == textwrap.dedent(ON_EVENT_FIXED)


def test_response_leak_routes_in_other_files_use_the_out_model(tmp_path: Path) -> None:
    models = LEAKY.split("    @app.get", maxsplit=1)[0].replace("app = FastAPI()\n", "")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "schemas.py").write_text(textwrap.dedent(models), encoding="utf-8")
    routes = """\
        from fastapi import APIRouter

        from app.schemas import User

        router = APIRouter()


        @router.get("/users", response_model=list[User])
        async def list_users() -> list:
            return []
    """
    (tmp_path / "app" / "routes.py").write_text(textwrap.dedent(routes), encoding="utf-8")
    line = _line_of(models, "hashed_password")
    finding = _finding("API-RESPONSE-LEAK", line, path="app/schemas.py", response_model="User")
    assert attach_fixes([finding], tmp_path) == 1
    assert _touched(finding.suggested_fix) == {"app/schemas.py", "app/routes.py"}
    _apply(tmp_path, finding.suggested_fix)
    fixed_routes = (tmp_path / "app" / "routes.py").read_text(encoding="utf-8")
    # `User` had no other use in the routes: the import now names the new model only.
    assert "from app.schemas import UserOut\n" in fixed_routes
    assert '@router.get("/users", response_model=list[UserOut])' in fixed_routes
    assert "class UserOut(BaseModel):" in (tmp_path / "app" / "schemas.py").read_text()
