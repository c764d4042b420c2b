"""Shared pieces of the contract detectors: findings on model fields, sensitive names."""

from __future__ import annotations

import re
from collections.abc import Iterable

from scanners.detectors.base import make_finding
from scanners.findings import Finding
from scanners.project.facts.pydantic import FieldFact
from scanners.project.model import FunctionInfo, Project
from scanners.project.pydantic_models import ModelClass
from scanners.project.resolve import split_fid
from scanners.project.summary import MODULE_BODY

# Credentials and internal state a client must never receive. Credentials issued *to* the
# client are returned on purpose (OAuth2 login `access_token`/`refresh_token`/`id_token`,
# session and CSRF tokens, Stripe/OAuth `client_secret`, device push tokens), and pagination
# cursors (`next_page_token`) are no credentials: not sensitive here.
SENSITIVE_NAME = re.compile(
    r"^(?:password|passwd|hashed_password|password_hash|.*_password|secret|.*_secret|.*_token"
    r"|api_key|.*_api_key|private_key|.*_private_key|secret_key|.*_secret_key|signing_key"
    r"|.*_signing_key|encryption_key|.*_encryption_key|internal_.*)$"
)
ISSUED_TO_CLIENT_SUFFIXES = (
    "access_token",
    "refresh_token",
    "id_token",
    "session_token",
    "push_token",
    "client_secret",
    "csrf_token",
    # pagination cursors, not credentials
    "page_token",
    "continuation_token",
)


# A field of these types holds a number, flag or date (`time_to_first_token: float`), never
# a credential.
NON_CREDENTIAL_TYPES = frozenset(
    {"int", "float", "bool", "Decimal", "datetime", "date", "time", "timedelta", "UUID"}
)


def is_sensitive(name: str, type_names: Iterable[str] = ()) -> bool:
    lowered = name.lower()
    if not SENSITIVE_NAME.match(lowered) or lowered.endswith(ISSUED_TO_CLIENT_SUFFIXES):
        return False
    return not NON_CREDENTIAL_TYPES.intersection(type_names)


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
