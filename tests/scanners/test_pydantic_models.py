"""The cross-module Pydantic model: which classes are models, their fields, how routes use them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scanners.detectors.contracts.common import is_sensitive
from scanners.detectors.registry import run_detectors
from scanners.findings import ScanOptions
from scanners.project.build import build_project
from scanners.project.extract import summarize_module
from scanners.project.facts.pydantic import FieldFact, attribute_uses, pydantic_classes
from scanners.project.model import Project
from scanners.project.pydantic_models import pinned_to_pydantic_v1, pydantic_models

FIXTURE = Path(__file__).parent / "fixtures" / "detectors" / "contracts_service"


def fixture_project() -> Project:
    return build_project(FIXTURE, ScanOptions(jobs=1)).project


def test_models_are_found_through_imported_bases_and_settings_are_not() -> None:
    models = pydantic_models(fixture_project())
    assert "svc.schemas:AccountCreate" in models.models
    assert "svc.base_schemas:Timestamped" in models.models
    assert "svc.schemas:Settings" not in models.models
    assert models.orm_classes == {"svc.db:Base", "svc.db:Account", "svc.tables:Member"}
    # a SQLModel table is a model and an ORM class at once
    assert "svc.tables:Member" in models.models
    assert "svc.tables:MemberBase" not in models.orm_classes


def test_inherited_fields_come_after_own_ones() -> None:
    models = pydantic_models(fixture_project())
    names = [fact.name for _owner, fact in models.all_fields("svc.schemas:AccountCreate")]
    assert names[0] == "handle"
    assert names[-1] == "source"
    owners = {
        fact.name: owner.cid for owner, fact in models.all_fields("svc.schemas:AccountCreate")
    }
    assert owners["source"] == "svc.base_schemas:Timestamped"


def test_request_and_response_models_follow_routes_and_nesting() -> None:
    models = pydantic_models(fixture_project())
    # a base class is not itself input; its fields are, through all_fields of the subclass
    assert models.request_models == {
        "svc.legacy:LegacyIn",  # named like input (no route uses it)
        "svc.schemas:AccountCreate",
        "svc.schemas:LineIn",
        "svc.schemas:LoginIn",
        "svc.schemas:Preferences",
    }
    assert models.response_models == {
        "svc.schemas:AccountOut",
        "svc.schemas:AdminProfile",
        "svc.schemas:PublicProfile",
        "svc.schemas:Preferences",
        "svc.schemas:UsageOut",
        "svc.tables:Member",
        "svc.tables:MemberAdmin",
        "svc.tables:MemberPublic",
    }
    uses = models.routes["svc.api:create_account"]
    assert uses.bodies == [("payload", "svc.schemas:AccountCreate")]
    assert uses.responses == ["svc.schemas:AccountOut"]
    assert uses.declares_response_model


def test_field_facts_classify_optional_loose_and_bounded() -> None:
    models = pydantic_models(fixture_project())
    facts = {fact.name: fact for _owner, fact in models.all_fields("svc.schemas:AccountCreate")}
    assert facts["birthday"].optional and not facts["birthday"].is_str
    assert facts["preferences"].loose == "dict[str, Any]"
    assert facts["labels"].loose == ""
    assert facts["display_name"].is_str and facts["display_name"].bounded
    assert facts["motto"].bounded and "pattern" in facts["motto"].field_keywords
    assert facts["handle"].is_str and not facts["handle"].bounded


def test_unconstrained_str_finding_carries_a_drop_in_type() -> None:
    findings, failures = run_detectors(fixture_project(), only=["pydantic-unconstrained-str"])
    assert failures == []
    by_field = {f.properties["field"]: f.properties for f in findings}
    # the ORM class Account has `handle = mapped_column(String(40))`
    assert (
        by_field["handle"]["suggested_type"] == "Annotated[str, Field(min_length=1, max_length=40)]"
    )
    assert by_field["handle"]["max_length_source"] == "column"
    assert by_field["source"]["suggested_type"] == "Annotated[str, Field(max_length=255)]"
    assert by_field["label"]["max_length"] == 255


def field_facts(source: str) -> dict[str, FieldFact]:
    tree = ast.parse(source)
    summary = summarize_module(tree, "app/m.py", "app.m", False, source.count("\n"))
    classes = pydantic_classes(tree, summary)
    assert classes is not None
    return {fact.name: fact for cls in classes.values() for fact in cls.fields}


def test_annotations_are_classified_under_annotated_and_optional() -> None:
    facts = field_facts(
        "from typing import Annotated, Any, Dict, List, Optional, Union\n"
        "from pydantic import BaseModel, Field, constr\n"
        "class M(BaseModel):\n"
        "    a: Annotated[Optional[str], Field(max_length=5)] = None\n"
        "    b: Union[str, None] = None\n"
        "    c: constr(max_length=3)\n"
        "    d: Dict[str, Any]\n"
        "    e: List\n"
        "    f: list['Child']\n"
        "    g: str = Field(regex='^x$')\n"
        "    h: Optional[Any] = None\n"
    )
    assert facts["a"].optional and facts["a"].is_str and facts["a"].bounded
    assert facts["b"].optional and facts["b"].is_str and not facts["b"].bounded
    assert facts["c"].bounded and not facts["c"].is_str
    assert facts["d"].loose == "Dict[str, Any]"
    assert facts["e"].loose == "List"
    assert facts["f"].loose == "" and "Child" in facts["f"].type_names
    assert facts["g"].bounded
    assert facts["h"].optional and facts["h"].loose == "Any"


def test_function_uses_record_guards_and_dereferences() -> None:
    source = (
        "async def route(payload: In):\n"
        "    if payload.a is not None:\n"
        "        payload.a.strip()\n"
        "    when = payload.b.isoformat()\n"
        "    other = payload.c and payload.c.lower()\n"
        "    return when\n"
    )
    tree = ast.parse(source)
    summary = summarize_module(tree, "app/m.py", "app.m", False, source.count("\n"))
    uses = attribute_uses(tree, summary)
    assert uses is not None
    route = uses["route"]
    assert {(var, name) for var, name, _line in route.derefs} == {
        ("payload", "a"),
        ("payload", "b"),
        ("payload", "c"),
    }
    assert route.guarded == {("payload", "a"), ("payload", "c")}
    assert route.returns == (("when", 6),)


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("pydantic==1.10.2\n", True),
        ("pydantic[email]<2\n", True),
        ('[tool.poetry.dependencies]\npydantic = { version = "^1.9" }\n', True),
        ('dependencies = ["pydantic>=1.8,<2.0"]\n', True),
        ("pydantic>=2.4\npydantic-settings<2\n", False),
        ("pydantic==2.11.4\n", False),
    ],
)
def test_pydantic_v1_pins_are_recognised(tmp_path: Path, text: str, pinned: bool) -> None:
    name = "pyproject.toml" if "[" in text or "dependencies" in text else "requirements.txt"
    (tmp_path / "backend").mkdir()
    (tmp_path / "backend" / name).write_text(text, encoding="utf-8")
    assert pinned_to_pydantic_v1(tmp_path) is pinned


@pytest.mark.parametrize(
    ("name", "types", "sensitive"),
    [
        ("hashed_password", ("str",), True),
        ("ingest_token", ("str",), True),
        ("webhook_secret", (), True),
        ("internal_notes", ("Optional", "str"), True),
        ("api_key", ("str",), True),
        ("access_token", ("str",), False),
        ("client_secret", ("str",), False),
        ("time_to_first_token", ("float",), False),
        ("email", ("str",), False),
    ],
)
def test_sensitive_field_names(name: str, types: tuple[str, ...], sensitive: bool) -> None:
    assert is_sensitive(name, types) is sensitive


def test_any_field_findings_suggest_json_value_types() -> None:
    findings, failures = run_detectors(fixture_project(), only=["pydantic-any-field"])
    assert failures == []
    by_field = {f.properties["field"]: f.properties["suggested_type"] for f in findings}
    assert by_field == {
        "preferences": "dict[str, JsonValue]",
        "meta": "JsonValue",
        "history": "list[JsonValue]",
    }


def test_config_options_come_from_model_config_and_class_config() -> None:
    models = pydantic_models(fixture_project())
    assert models.models["svc.legacy:ModernOut"].config_options == ("from_attributes",)
    assert models.models["svc.legacy:LegacyIn"].config_options == ("orm_mode",)
    assert models.models["svc.legacy:LegacyIn"].config_class_line > 0
