"""Writes for findings: storing a scan's findings and reconciling them, and every triage action.

Every change of a finding writes a FindingEvent (actor ``None`` is the system).
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit_platform.accounts.models import Membership, Organization
from audit_platform.accounts.services import require_write
from audit_platform.findings.models import (
    ACTIVE_STATUSES,
    EventKind,
    Finding,
    FindingEvent,
    FindingOccurrence,
    FindingStatus,
    Severity,
)
from audit_platform.scans.models import Scan, ScanStatus
from scanners.findings import Finding as EngineFinding

logger = logging.getLogger(__name__)
BATCH_SIZE = 2000

# Columns a later scan refreshes on an existing finding (what the code looks like now);
# status, assignee, due date and first-seen stay as triage and history left them.
_REFRESHED_FIELDS = (
    "category",
    "rule_id",
    "rule_source",
    "severity",
    "confidence",
    "title",
    "message",
    "path",
    "start_line",
    "start_col",
    "end_line",
    "end_col",
    "enclosing",
    "snippet",
    "remediation",
    "suggested_fix",
    "blast_radius",
    "blast_explanation",
    "reach",
    "witness",
    "runtime_evidence",
    "confirmed_at_runtime",
    "properties",
    "last_seen_scan",
    "updated_at",
)


@dataclasses.dataclass(frozen=True)
class StoreOutcome:
    new: int
    still_open: int
    fixed: int
    reopened: int
    seen: int
    duplicates_dropped: int


def _clip(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1] + "…"


def _json_safe(value: Any) -> Any:
    """Dataclasses and tuples as plain JSON (the engine's evidence/witness objects)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _json_safe(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def due_date_for(scan: Scan, severity: int) -> datetime.date | None:
    days = scan.project.sla_days_for(Severity(severity).label)
    if days is None:
        return None
    return timezone.localdate() + datetime.timedelta(days=days)


def _finding_row(
    scan: Scan,
    finding: EngineFinding,
    now: datetime.datetime,
    due_dates: dict[int, datetime.date | None],
) -> Finding:
    severity = int(finding.severity)
    return Finding(
        project_id=scan.project_id,
        fingerprint=finding.fingerprint,
        category=_clip(finding.category, 200),
        rule_id=_clip(finding.rule_id, 200),
        rule_source=_clip(finding.source, 100),
        severity=severity,
        confidence=_clip(finding.confidence, 10),
        title=_clip(finding.title, 500),
        message=finding.message,
        path=_clip(finding.path, 1000),
        start_line=max(0, finding.start_line),
        start_col=max(0, finding.start_col),
        end_line=max(0, finding.end_line),
        end_col=max(0, finding.end_col),
        enclosing=_clip(finding.enclosing, 500),
        snippet=finding.snippet,
        remediation=finding.remediation,
        suggested_fix=finding.suggested_fix,
        blast_radius=float(finding.blast_radius),
        blast_explanation=finding.blast_explanation,
        reach=_json_safe(list(finding.reach)),
        witness=_json_safe(list(finding.witness)),
        runtime_evidence=_json_safe(list(finding.evidence)),
        confirmed_at_runtime=finding.confirmed_at_runtime,
        properties=_json_safe(finding.properties),
        status=FindingStatus.OPEN,
        due_date=due_dates.get(severity),
        first_seen_scan=scan,
        last_seen_scan=scan,
        created_at=now,
        updated_at=now,
    )


def previous_successful_scan(scan: Scan) -> Scan | None:
    """The latest succeeded scan of the same project and branch before ``scan``."""
    return (
        Scan.objects.filter(
            project_id=scan.project_id, branch=scan.branch, status=ScanStatus.SUCCEEDED
        )
        .exclude(pk=scan.pk)
        .order_by("-finished_at", "-id")
        .first()
    )


def findings_store_scan(scan: Scan, findings: Sequence[EngineFinding]) -> StoreOutcome:
    """Store ``findings`` as seen by ``scan`` and reconcile the project's findings with them.

    Must run inside the caller's transaction (the pipeline's store step). Findings are upserted
    by (project, fingerprint); an occurrence row per finding records this scan's view; findings
    of the previous successful scan of the same branch that this scan no longer sees are fixed;
    fixed findings seen again are reopened (when they were fixed on this branch or by hand);
    false-positive and accepted-risk decisions are never touched.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("findings_store_scan must run inside transaction.atomic()")
    now = timezone.now()
    unique: dict[str, EngineFinding] = {}
    for finding in findings:
        if not finding.fingerprint:
            raise ValueError(f"finding without fingerprint: {finding.rule_id} at {finding.path}")
        unique.setdefault(finding.fingerprint, finding)
    duplicates = len(findings) - len(unique)

    existing: dict[str, tuple[int, str, str | None, int | None]] = {
        fingerprint: (pk, status, branch, fixed_scan)
        for fingerprint, pk, status, branch, fixed_scan in Finding.objects.filter(
            project_id=scan.project_id
        ).values_list("fingerprint", "id", "status", "fixed_in_scan__branch", "fixed_in_scan_id")
    }
    if FindingOccurrence.objects.filter(scan=scan).exists():
        # The pipeline records the store step as done in this same transaction, so getting
        # here twice for one scan is a bug: refuse rather than count findings twice.
        raise RuntimeError(f"scan {scan.pk} already has stored findings")

    due_dates = {int(severity): due_date_for(scan, severity) for severity in Severity.values}
    rows = [_finding_row(scan, finding, now, due_dates) for finding in unique.values()]
    Finding.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["project", "fingerprint"],
        update_fields=list(_REFRESHED_FIELDS),
    )
    ids = dict(
        Finding.objects.filter(project_id=scan.project_id, last_seen_scan=scan).values_list(
            "fingerprint", "id"
        )
    )
    new_fingerprints = [fp for fp in unique if fp not in existing]
    new_set = set(new_fingerprints)

    reopened_ids = [
        existing[fp][0]
        for fp in unique
        if fp not in new_set
        and existing[fp][1] == FindingStatus.FIXED
        and (existing[fp][3] is None or existing[fp][2] == scan.branch)
    ]
    still_open = sum(1 for fp in unique if fp not in new_set and existing[fp][1] in ACTIVE_STATUSES)

    FindingOccurrence.objects.bulk_create(
        [
            FindingOccurrence(
                scan=scan,
                finding_id=ids[row.fingerprint],
                path=row.path,
                start_line=row.start_line,
                end_line=row.end_line,
                enclosing=row.enclosing,
                severity=row.severity,
                blast_radius=row.blast_radius,
                confirmed_at_runtime=row.confirmed_at_runtime,
                is_new=row.fingerprint in new_set,
            )
            for row in rows
        ],
        batch_size=BATCH_SIZE,
    )

    events = [
        FindingEvent(
            finding_id=ids[fp],
            kind=EventKind.CREATED,
            scan=scan,
            to_value=FindingStatus.OPEN,
            created_at=now,
        )
        for fp in new_fingerprints
    ]
    if reopened_ids:
        for start in range(0, len(reopened_ids), BATCH_SIZE):
            Finding.objects.filter(pk__in=reopened_ids[start : start + BATCH_SIZE]).update(
                status=FindingStatus.OPEN, fixed_in_scan=None, fixed_at=None, updated_at=now
            )
        events += [
            FindingEvent(
                finding_id=pk,
                kind=EventKind.REOPENED_BY_SCAN,
                scan=scan,
                from_value=FindingStatus.FIXED,
                to_value=FindingStatus.OPEN,
                created_at=now,
            )
            for pk in reopened_ids
        ]

    fixed = _fix_missing(scan, existing, set(ids.values()), now)
    events += [
        FindingEvent(
            finding_id=pk,
            kind=EventKind.FIXED_BY_SCAN,
            scan=scan,
            from_value=status,
            to_value=FindingStatus.FIXED,
            created_at=now,
        )
        for pk, status in fixed
    ]
    FindingEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
    return StoreOutcome(
        new=len(new_fingerprints),
        still_open=still_open,
        fixed=len(fixed),
        reopened=len(reopened_ids),
        seen=len(unique),
        duplicates_dropped=duplicates,
    )


def _fix_missing(
    scan: Scan,
    existing: dict[str, tuple[int, str, str | None, int | None]],
    seen_ids: set[int],
    now: datetime.datetime,
) -> list[tuple[int, str]]:
    """Fix the active findings the previous scan of this branch saw and this one does not.

    Set arithmetic on ids instead of a NOT EXISTS query: right after the bulk inserts the
    planner has no statistics for the new rows and picked nested loops that took minutes at
    50,000 findings on PostgreSQL.
    """
    previous = previous_successful_scan(scan)
    if previous is None:
        return []
    seen_before = set(
        FindingOccurrence.objects.filter(scan=previous).values_list("finding_id", flat=True)
    )
    missing = [
        (pk, status)
        for pk, status, _, _ in existing.values()
        if pk in seen_before and pk not in seen_ids and status in ACTIVE_STATUSES
    ]
    ids = [pk for pk, _ in missing]
    for start in range(0, len(ids), BATCH_SIZE):
        Finding.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).update(
            status=FindingStatus.FIXED, fixed_in_scan=scan, fixed_at=now, updated_at=now
        )
    return missing


# --- Triage by people --------------------------------------------------------------------------


def _event(finding: Finding, kind: str, actor: User | None, **values: Any) -> FindingEvent:
    return FindingEvent.objects.create(finding=finding, kind=kind, actor=actor, **values)


def _apply_status(finding: Finding, status: str, now: datetime.datetime) -> None:
    finding.status = status
    if status == FindingStatus.FIXED:
        finding.fixed_at, finding.fixed_in_scan = now, None  # fixed by hand, not by a scan
    else:
        finding.fixed_at, finding.fixed_in_scan = None, None


def finding_set_status(
    finding: Finding, *, status: str, actor: User | None, comment: str = ""
) -> Finding:
    """Move a finding through the workflow; a no-op when it already has ``status``."""
    if status not in FindingStatus.values:
        raise ValidationError(
            f"unknown status {status!r}; use one of {', '.join(FindingStatus.values)}"
        )
    require_write(actor, finding.project.organization)
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status == status:
            return locked
        previous = locked.status
        _apply_status(locked, status, timezone.now())
        locked.save(update_fields=["status", "fixed_at", "fixed_in_scan", "updated_at"])
        _event(
            locked,
            EventKind.STATUS_CHANGED,
            actor,
            from_value=previous,
            to_value=status,
            comment=comment.strip(),
        )
    return locked


def findings_bulk_set_status(
    findings: Iterable[Finding], *, status: str, actor: User | None, comment: str = ""
) -> int:
    """Set ``status`` on many findings in one transaction; returns how many changed."""
    changed = 0
    with transaction.atomic():
        for finding in findings:
            before = finding.status
            updated = finding_set_status(finding, status=status, actor=actor, comment=comment)
            changed += int(updated.status != before)
    return changed


def _change_field(
    finding: Finding,
    *,
    field: str,
    value: Any,
    show: Callable[[Any], str],
    kind: str,
    actor: User | None,
) -> Finding:
    """Set one field under a row lock and log it; a no-op when the value is unchanged."""
    with transaction.atomic():
        # of=("self",): PostgreSQL cannot lock the nullable side of an outer join.
        locked = Finding.objects.select_for_update(of=("self",)).get(pk=finding.pk)
        before = getattr(locked, field)
        if before == value:
            return locked
        setattr(locked, field, value)
        locked.save(update_fields=[field, "updated_at"])
        _event(locked, kind, actor, from_value=show(before), to_value=show(value))
    return locked


def _username(user: User | None) -> str:
    return user.get_username() if user else ""


def _iso_date(day: datetime.date | None) -> str:
    return day.isoformat() if day else ""


def finding_assign(finding: Finding, *, assignee: User | None, actor: User | None) -> Finding:
    """Assign to a member of the project's organization (``None`` unassigns)."""
    organization = finding.project.organization
    require_write(actor, organization)
    if (
        assignee is not None
        and not Membership.objects.filter(organization=organization, user=assignee).exists()
    ):
        raise ValidationError(f"{assignee} is not a member of {organization.name}")
    return _change_field(
        finding,
        field="assignee",
        value=assignee,
        show=_username,
        kind=EventKind.ASSIGNED,
        actor=actor,
    )


def findings_unassign_member(*, organization: Organization, user: User, actor: User | None) -> int:
    """Hand back the active findings of someone leaving ``organization`` (each change is an
    event on the finding), so nothing stays assigned to a person who can no longer see it."""
    findings = Finding.objects.filter(
        project__organization=organization, assignee=user, status__in=ACTIVE_STATUSES
    ).select_related("project__organization", "assignee")
    count = 0
    for finding in findings:
        finding_assign(finding, assignee=None, actor=actor)
        count += 1
    return count


def finding_set_due_date(
    finding: Finding, *, due_date: datetime.date | None, actor: User | None
) -> Finding:
    require_write(actor, finding.project.organization)
    return _change_field(
        finding,
        field="due_date",
        value=due_date,
        show=_iso_date,
        kind=EventKind.DUE_DATE_CHANGED,
        actor=actor,
    )


def finding_comment(finding: Finding, *, text: str, actor: User) -> FindingEvent:
    text = text.strip()
    if not text:
        raise ValidationError("the comment is empty")
    require_write(actor, finding.project.organization)
    return _event(finding, EventKind.COMMENTED, actor, comment=text)
