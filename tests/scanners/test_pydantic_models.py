"""The cross-module Pydantic model: which classes are models, their fields, how routes use them."""

from __future__ import annotations

from pathlib import Path

from scanners.detectors.registry import run_detectors
from scanners.findings import ScanOptions
from scanners.project.build import build_project
from scanners.project.model import Project
from scanners.project.pydantic_models import pydantic_models

FIXTURE = Path(__file__).parent / "fixtures" / "detectors" / "contracts_service"


def fixture_project() -> Project:
    return build_project(FIXTURE, ScanOptions(jobs=1)).project


def test_models_are_found_through_imported_bases_and_settings_are_not() -> None:
    models = pydantic_models(fixture_project())
    assert "svc.schemas:AccountCreate" in models.models
    assert "svc.base_schemas:Timestamped" in models.models
    assert "svc.schemas:Settings" not in models.models
    assert models.orm_classes == {"svc.db:Base", "svc.db:Account"}


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
