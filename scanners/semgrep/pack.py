"""The rule pack as data: every rule's id, catalog category, severity and files, read from YAML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scanners.catalog import CATEGORIES, Severity
from scanners.semgrep.runner import RULES_DIR


@dataclass(frozen=True)
class PackRule:
    rule_id: str
    category: str
    severity: Severity
    confidence: str
    title: str
    remediation: str
    references: tuple[str, ...]
    service_code_only: bool  # results in tests, scripts and migrations are dropped
    area: str  # folder under rules/: async, pydantic, security, database
    yaml_path: Path
    test_path: Path


class RulePackError(ValueError):
    """A rule file that cannot be read or lacks the metadata the engine relies on."""


def _rule(raw: Any, yaml_path: Path) -> PackRule:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise RulePackError(f"{yaml_path}: a rule without an id")
    metadata = raw.get("metadata") or {}
    category_id = str(metadata.get("category", ""))
    if category_id not in CATEGORIES:
        raise RulePackError(f"{yaml_path}: rule {raw['id']} has unknown category {category_id!r}")
    try:
        severity = Severity.parse(str(metadata.get("severity", "")))
    except ValueError as exc:
        raise RulePackError(f"{yaml_path}: rule {raw['id']}: {exc}") from None
    return PackRule(
        rule_id=raw["id"],
        category=category_id,
        severity=severity,
        confidence=str(metadata.get("confidence", "")),
        title=str(metadata.get("title", "")),
        remediation=str(metadata.get("remediation", "")),
        references=tuple(str(r) for r in metadata.get("references") or ()),
        service_code_only=bool(metadata.get("service_code_only", False)),
        area=yaml_path.parent.name,
        yaml_path=yaml_path,
        test_path=yaml_path.with_suffix(".py"),
    )


def load_rule_pack(rules_dir: Path = RULES_DIR) -> list[PackRule]:
    """Every rule of the pack, ordered by area and id; raises ``RulePackError`` on a bad file."""
    rules: list[PackRule] = []
    for yaml_path in sorted(rules_dir.rglob("*.yaml")):
        try:
            document = yaml.safe_load(yaml_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RulePackError(f"{yaml_path}: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
            raise RulePackError(f"{yaml_path}: no `rules:` list")
        rules.extend(_rule(raw, yaml_path) for raw in document["rules"])
    return sorted(rules, key=lambda r: (r.area, r.rule_id))
