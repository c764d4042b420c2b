"""The fix plan groups work the way a team picks it up, and the summary says the trend in words."""

from __future__ import annotations

from audit_platform.reports.remediation import (
    ExecutiveSummary,
    FindingRef,
    PlanItem,
    build_fix_plan,
    effort_label,
    effort_minutes,
    load_stages,
    module_of,
)


def _item(
    finding_id: int, category: str, path: str, blast: float, *, fix: bool = False
) -> PlanItem:
    return PlanItem(
        finding_id=finding_id,
        title=f"finding {finding_id}",
        category=category,
        severity="high",
        path=path,
        start_line=finding_id * 10,
        enclosing="handler",
        blast_radius=blast,
        blast_explanation="",
        why="",
        how="",
        status="open",
        has_generated_fix=fix,
    )


def test_module_of_turns_paths_into_dotted_modules() -> None:
    assert module_of("app/services/rates.py") == "app.services.rates"
    assert module_of("app/__init__.py") == "app"
    assert module_of("requirements.txt") == "requirements.txt"


def test_fix_plan_groups_by_category_and_module_ordered_by_summed_blast_radius() -> None:
    plan = build_fix_plan(
        [
            _item(1, "ASYNC-BLOCKING-HTTP", "app/rates.py", 30.0),
            _item(2, "ASYNC-BLOCKING-HTTP", "app/rates.py", 50.0),
            _item(3, "DB-SQL-INJECTION", "app/db.py", 70.0),
            _item(4, "ASYNC-BLOCKING-HTTP", "app/users.py", 5.0),
        ]
    )
    assert [(g.category, g.module) for g in plan] == [
        ("ASYNC-BLOCKING-HTTP", "app.rates"),  # 80 in total beats the single 70
        ("DB-SQL-INJECTION", "app.db"),
        ("ASYNC-BLOCKING-HTTP", "app.users"),
    ]
    assert [i.finding_id for i in plan[0].items] == [2, 1]
    assert plan[0].total_blast_radius == 80.0
    assert plan[0].effort == "about 2 hours"  # two blocking-HTTP fixes at about an hour each
    assert plan[0].summary == "sync HTTP call on the event loop"


def test_effort_prefers_the_generated_fix_and_labels_orders_of_magnitude() -> None:
    assert effort_minutes("ASYNC-BLOCKING-DB", has_generated_fix=False) == 240
    assert effort_minutes("ASYNC-BLOCKING-DB", has_generated_fix=True) == 10
    assert effort_minutes("SOME-FOREIGN-RULE", has_generated_fix=False) == 60
    assert effort_label(20) == "under 30 min"
    assert effort_label(60) == "about an hour"
    assert effort_label(180) == "about 3 hours"
    assert effort_label(6 * 60) == "about a day"
    assert effort_label(18 * 60) == "about 3 days"


def test_load_stages_compare_every_stage_with_the_first() -> None:
    stages = load_stages(
        [
            ("#1", "aaa", 800.0, 40.0, 4000, 12),
            ("#2", "bbb", 400.0, 80.0, 8000, 0),
            ("#3", "ccc", 200.0, 100.0, 10000, 0),
        ]
    )
    assert stages[0].p95_change_pct is None
    assert stages[1].p95_change_pct == -50.0
    assert stages[1].rps_change_pct == 100.0
    assert stages[2].p95_change_pct == -75.0
    assert stages[2].rps_change_pct == 150.0


def test_summary_verdict_names_trend_and_counts() -> None:
    ref = FindingRef(1, "t", "high", "a.py:1")
    first = ExecutiveSummary(
        risk_now=10.0, risk_previous=None, open_by_severity={"high": 2}, new_count=2
    )
    assert first.verdict == "This is the first report for this project."
    better = ExecutiveSummary(
        risk_now=60.0,
        risk_previous=80.0,
        open_by_severity={"high": 1, "low": 3},
        new_count=0,
        fixed=[ref, ref],
        overdue=[ref],
    )
    assert better.risk_change_pct == -25.0
    assert better.open_total == 4
    assert better.verdict == "Risk is down 25% since the last report. 2 fixed, 1 overdue."
    worse = ExecutiveSummary(
        risk_now=90.0, risk_previous=60.0, open_by_severity={}, new_count=3, reopened=[ref]
    )
    assert worse.verdict == "Risk is up 50% since the last report. 1 reopened."


def test_severity_breakdown_names_only_present_severities() -> None:
    summary = ExecutiveSummary(
        risk_now=1.0,
        risk_previous=None,
        open_by_severity={"critical": 1, "high": 2, "medium": 0, "low": 1, "info": 0},
        new_count=0,
    )
    assert summary.severity_breakdown == "1 critical, 2 high, 1 low"
