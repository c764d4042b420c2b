"""Shared pieces of the contract detectors: findings on model fields, sensitive names."""

from __future__ import annotations

import re

from scanners.detectors.base import make_finding
from scanners.findings import Finding
from scanners.project.facts.pydantic import FieldFact
from scanners.project.model import FunctionInfo, Project
from scanners.project.pydantic_models import ModelClass
from scanners.project.resolve import split_fid
from scanners.project.summary import MODULE_BODY

# Credentials and internal state a client must never receive. Login responses carry
# `access_token`/`refresh_token`/`id_token` on purpose (OAuth2), so those are not sensitive.
SENSITIVE_NAME = re.compile(
    r"^(?:password|passwd|hashed_password|password_hash|.*_password|secret|.*_secret|.*_token"
    r"|api_key|.*_api_key|private_key|.*_private_key|internal_.*)$"
)
OAUTH_RESPONSE_TOKENS = frozenset({"access_token", "refresh_token", "id_token"})


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return bool(SENSITIVE_NAME.match(lowered)) and lowered not in OAUTH_RESPONSE_TOKENS


def module_info(project: Project, cid: str) -> FunctionInfo | None:
    """The module body of the module a class lives in (findings on its fields point there)."""
    module_name, _ = split_fid(cid)
    return project.function(f"{module_name}:{MODULE_BODY}")


def field_finding(
    project: Project,
    owner: ModelClass,
    fact: FieldFact,
    *,
    rule_id: str,
    category_id: str,
    message: str,
    confidence: str = "high",
) -> Finding | None:
    info = module_info(project, owner.cid)
    if info is None:
        return None
    finding = make_finding(
        project,
        info,
        rule_id=rule_id,
        category_id=category_id,
        line=fact.line,
        col=1,
        message=message,
        confidence=confidence,
    )
    finding.enclosing = owner.qualname
    return finding
