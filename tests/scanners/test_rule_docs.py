from pathlib import Path

from scanners.catalog import CATEGORIES
from scanners.detectors.registry import load_detectors
from scanners.rule_docs import rules_reference
from scanners.semgrep.pack import load_rule_pack

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_committed_rule_reference_is_current() -> None:
    expected = rules_reference()
    assert DOCS.read_text(encoding="utf-8") == expected, (
        "docs/rules.md is stale: run `python -m scanners rules --format markdown > docs/rules.md`"
    )


def test_rule_reference_names_every_category_detector_and_semgrep_rule() -> None:
    page = rules_reference()
    for category_id in CATEGORIES:
        assert f"| `{category_id}` |" in page
    for rule_id in load_detectors():
        assert f"\n### {rule_id}\n" in page
    for rule in load_rule_pack():
        assert f"| `{rule.rule_id}` | `{rule.category}` |" in page
